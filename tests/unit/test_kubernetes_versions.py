"""The AKS Kubernetes support table and the settings rules built on it (dates injected, never today's
unless the test says so)."""

import datetime
from typing import Any

import pytest

from components.istio_revisions import SUPPORTED_KUBERNETES_MINORS, check_revisions
from components.kubernetes_versions import (
    AKS_CALENDAR_URL,
    AKS_KUBERNETES_MINORS,
    WARNING_DAYS,
    check_kubernetes_minor,
    minor_number,
    supported_minors,
    today,
)
from program.settings import (
    DEFAULT_ISTIO_REVISIONS,
    DEFAULT_KUBERNETES_VERSION,
    SettingsError,
    load_settings,
)
from tests.k8s_schemas import schema_version

CHECKED = datetime.date(2026, 12, 2)


def _load(on: datetime.date = CHECKED, environment: str = "dev", **cluster: Any):
    return load_settings({"environment": environment, "location": "westeurope", "cluster": cluster}, today=on)


def _problems(on: datetime.date = CHECKED, **cluster: Any) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        _load(on, **cluster)
    return caught.value.problems


# --- the table ------------------------------------------------------------------------------------


def test_every_row_names_its_source_and_the_date_it_was_checked():
    for row in AKS_KUBERNETES_MINORS.values():
        assert AKS_CALENDAR_URL in row.source and "supported-kubernetes-versions" in row.source
        assert row.checked == CHECKED
        assert row.aks_ga < row.end_of_life
        assert row.lts_end_of_life is None or row.lts_end_of_life > row.end_of_life


def test_month_only_end_of_life_is_the_last_day_of_the_month():
    # AKS: "Unless an explicit date is provided, the End of Life (EOL) date is the last day of the month".
    assert AKS_KUBERNETES_MINORS["1.34"].end_of_life == datetime.date(2026, 11, 30)
    assert AKS_KUBERNETES_MINORS["1.35"].end_of_life == datetime.date(2027, 3, 31)
    assert AKS_KUBERNETES_MINORS["1.31"].end_of_life == datetime.date(2025, 11, 1)  # explicit day


def test_supported_minors_on_the_check_date():
    assert supported_minors(CHECKED) == ["1.35", "1.36", "1.37"]
    assert supported_minors(CHECKED, long_term_support=True) == [
        "1.32",
        "1.33",
        "1.34",
        "1.35",
        "1.36",
        "1.37",
    ]


# --- the check ------------------------------------------------------------------------------------


@pytest.mark.parametrize("minor", ["1.33", "1.34"])
def test_end_of_life_minor_is_an_error(minor):
    check = check_kubernetes_minor(minor, on=CHECKED)
    (error,) = check.errors
    assert f"Kubernetes {minor} left AKS support" in error and "1.35, 1.36, 1.37" in error


def test_long_term_support_keeps_an_end_of_life_minor_until_its_lts_end():
    assert check_kubernetes_minor("1.34", on=CHECKED, long_term_support=True).errors == []
    (error,) = check_kubernetes_minor("1.31", on=CHECKED, long_term_support=True).errors
    assert "left AKS long-term support on 2026-11-30" in error


def test_warns_within_sixty_days_of_end_of_life():
    end = AKS_KUBERNETES_MINORS["1.35"].end_of_life
    on_edge = end - datetime.timedelta(days=WARNING_DAYS)
    (warning,) = check_kubernetes_minor("1.35", on=on_edge).warnings
    assert "leaves AKS support on 2027-03-31, in 60 days" in warning
    assert check_kubernetes_minor("1.35", on=on_edge - datetime.timedelta(days=1)).warnings == []
    assert check_kubernetes_minor("1.35", on=end).errors == []
    assert check_kubernetes_minor("1.35", on=end + datetime.timedelta(days=1)).errors


def test_minor_newer_than_the_table_warns_and_an_unknown_old_one_is_an_error():
    newest = max(AKS_KUBERNETES_MINORS, key=minor_number)
    newer = f"1.{minor_number(newest) + 1}"
    check = check_kubernetes_minor(newer, on=CHECKED)
    assert check.errors == [] and "az aks get-versions" in check.warnings[0]
    assert check_kubernetes_minor("1.27", on=CHECKED).errors


# --- settings -------------------------------------------------------------------------------------


def test_settings_refuse_an_end_of_life_minor_naming_the_key():
    (problem,) = _problems(kubernetesVersion="1.34", istio={"revisions": ["asm-1-30"]})
    assert problem.startswith(
        "aks-grpc:cluster.kubernetesVersion: Kubernetes 1.34 left AKS support on 2026-11-30"
    )
    assert "supportPlan AKSLongTermSupport" in problem


def test_settings_accept_an_end_of_life_minor_on_premium_with_long_term_support():
    cluster = _load(
        kubernetesVersion="1.34",
        skuTier="Premium",
        supportPlan="AKSLongTermSupport",
        istio={"revisions": ["asm-1-30"]},
    ).cluster
    assert cluster.long_term_support and cluster.kubernetes_minor == "1.34"


def test_long_term_support_needs_the_premium_tier():
    problems = _problems(kubernetesVersion="1.34", skuTier="Standard", supportPlan="AKSLongTermSupport")
    assert any(
        p.startswith("aks-grpc:cluster.supportPlan: AKSLongTermSupport needs skuTier Premium")
        for p in problems
    )
    assert any(p.startswith("aks-grpc:cluster.kubernetesVersion:") for p in problems)


def test_settings_warn_near_end_of_life_with_the_injected_date():
    cluster = _load(datetime.date(2027, 2, 1), kubernetesVersion="1.35").cluster
    assert any("Kubernetes 1.35 leaves AKS support on 2027-03-31" in w for w in cluster.warnings)
    assert not any("Kubernetes" in w for w in _load(kubernetesVersion="1.35").cluster.warnings)


# --- defaults -------------------------------------------------------------------------------------


def test_default_minor_is_supported_with_its_default_revision_on_the_check_date():
    assert minor_number(DEFAULT_KUBERNETES_VERSION) >= 35
    cluster = _load().cluster
    assert cluster.kubernetes_version == DEFAULT_KUBERNETES_VERSION
    assert cluster.warnings == []
    for revision in DEFAULT_ISTIO_REVISIONS:
        assert SUPPORTED_KUBERNETES_MINORS[revision].contains(DEFAULT_KUBERNETES_VERSION)


def test_default_minor_is_still_supported_today():
    """A staleness alarm on the real date: goes red when the table or the defaults need an update."""
    assert check_kubernetes_minor(DEFAULT_KUBERNETES_VERSION, on=today()).errors == []
    assert check_revisions(list(DEFAULT_ISTIO_REVISIONS), DEFAULT_KUBERNETES_VERSION, on=today()).errors == []


def test_manifests_are_validated_against_the_default_minors_own_schemas():
    assert schema_version(DEFAULT_KUBERNETES_VERSION) == DEFAULT_KUBERNETES_VERSION


# --- Istio revisions past their expected end of life ----------------------------------------------


def test_revision_past_its_expected_end_of_life_warns_and_names_a_newer_one():
    cluster = _load(kubernetesVersion="1.35", istio={"revisions": ["asm-1-28"]}).cluster
    (warning,) = cluster.warnings
    assert "asm-1-28 was expected to reach end of life on Aug 2026" in warning
    assert "move to asm-1-30" in warning
    assert (
        _load(
            datetime.date(2026, 8, 31), kubernetesVersion="1.35", istio={"revisions": ["asm-1-28"]}
        ).cluster.warnings
        == []
    )


def test_every_revision_row_has_an_end_of_life():
    for revision, row in SUPPORTED_KUBERNETES_MINORS.items():
        assert row.end_of_life is not None, revision
