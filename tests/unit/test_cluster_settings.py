"""`aks-grpc:cluster` settings: every rejected value names its full config key."""

from typing import Any

import pytest

from components.istio_revisions import (
    SUPPORTED_KUBERNETES_MINORS,
    check_revisions,
    compatible_revisions,
    newest_revision,
)
from program.settings import DEFAULT_ISTIO_REVISIONS, ClusterSettings, SettingsError, load_settings


def _load(environment: str = "dev", **cluster: Any):
    return load_settings({"environment": environment, "location": "westeurope", "cluster": cluster})


def _problems(environment: str = "dev", **cluster: Any) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        _load(environment, **cluster)
    return caught.value.problems


def _problem_for(key: str, problems: list[str]) -> str:
    found = [p for p in problems if p.startswith(f"aks-grpc:{key}:")]
    assert found, f"no problem for {key} in {problems}"
    return found[0]


# --- defaults -------------------------------------------------------------------------------------


def test_defaults_are_consistent_with_the_revision_table():
    cluster = ClusterSettings()
    assert list(cluster.istio.revisions) == list(DEFAULT_ISTIO_REVISIONS)
    for revision in cluster.istio.revisions:
        assert SUPPORTED_KUBERNETES_MINORS[revision].contains(cluster.kubernetes_minor)
    assert cluster.warnings == []


def test_active_revision_defaults_to_the_newest():
    cluster = _load(istio={"revisions": ["asm-1-29", "asm-1-30"]}).cluster
    assert cluster.istio.active_revision == "asm-1-30"


def test_newest_revision_compares_numbers_not_strings():
    assert newest_revision(["asm-1-9", "asm-1-10"]) == "asm-1-10"


def test_partial_pool_override_keeps_the_pools_other_defaults():
    cluster = _load(systemPool={"minCount": 1}).cluster
    assert cluster.system_pool.max_count == 3 and cluster.system_pool.os_disk_size_gb == 64


# --- Istio revisions ------------------------------------------------------------------------------


def test_revision_that_does_not_support_the_minor_is_rejected():
    problem = _problem_for(
        "cluster.istio.revisions[0]", _problems(kubernetesVersion="1.36", istio={"revisions": ["asm-1-28"]})
    )
    assert "asm-1-28" in problem and "1.36" in problem and "asm-1-29" in problem


def test_revision_newer_than_the_table_passes_with_a_warning():
    cluster = _load(istio={"revisions": ["asm-1-99"]}).cluster
    (warning,) = cluster.warnings
    assert "asm-1-99" in warning and "az aks mesh get-revisions" in warning


def test_revision_older_than_the_table_is_rejected():
    _problem_for("cluster.istio.revisions[0]", _problems(istio={"revisions": ["asm-1-20"]}))


def test_more_than_two_revisions_are_rejected():
    problem = _problem_for(
        "cluster.istio.revisions",
        _problems(kubernetesVersion="1.35", istio={"revisions": ["asm-1-28", "asm-1-29", "asm-1-30"]}),
    )
    assert "at most two" in problem


def test_two_revisions_must_be_consecutive():
    problem = _problem_for(
        "cluster.istio.revisions",
        _problems(kubernetesVersion="1.35", istio={"revisions": ["asm-1-28", "asm-1-30"]}),
    )
    assert "consecutive" in problem


def test_two_consecutive_revisions_pass():
    assert _load(istio={"revisions": ["asm-1-29", "asm-1-30"]}).cluster.istio.revisions == [
        "asm-1-29",
        "asm-1-30",
    ]


def test_active_revision_must_be_configured():
    _problem_for(
        "cluster.istio.activeRevision",
        _problems(istio={"revisions": ["asm-1-30"], "activeRevision": "asm-1-29"}),
    )


def test_revision_table_lists_compatible_revisions():
    assert compatible_revisions("1.31") == ["asm-1-28", "asm-1-29"]
    assert check_revisions(["asm-1-30"], "1.36").errors == []


# --- node pools and zones -------------------------------------------------------------------------


@pytest.mark.parametrize("pool", ["systemPool", "userPool"])
def test_min_nodes_above_max_nodes_is_rejected(pool):
    _problem_for(f"cluster.{pool}.minCount", _problems(**{pool: {"minCount": 5, "maxCount": 3}}))


def test_prod_without_zones_is_rejected():
    _problem_for("cluster.zones", _problems("prod", zones=[]))


def test_prod_with_sandbox_local_accounts_is_rejected():
    _problem_for("cluster.sandboxLocalAccounts", _problems("prod", sandboxLocalAccounts=True))


def test_free_tier_in_prod_is_rejected():
    _problem_for("cluster.skuTier", _problems("prod", skuTier="Free"))


def test_non_premium_registry_in_prod_is_rejected():
    _problem_for("cluster.registry.sku", _problems("prod", registry={"sku": "Standard"}))


def test_dev_may_use_free_tier_no_zones_and_sandbox_accounts():
    cluster = _load(skuTier="Free", zones=[], sandboxLocalAccounts=True).cluster
    assert cluster.sku_tier == "Free" and cluster.zones == [] and cluster.sandbox_local_accounts


# --- network --------------------------------------------------------------------------------------


def test_malformed_authorized_ip_range_is_rejected():
    _problem_for(
        "cluster.authorizedIpRanges[1]", _problems(authorizedIpRanges=["203.0.113.0/24", "203.0.113.0/33"])
    )


@pytest.mark.parametrize("key", ["podCidr", "serviceCidr"])
def test_malformed_pod_or_service_cidr_is_rejected(key):
    _problem_for(f"cluster.network.{key}", _problems(network={key: "10.0.0.0/99"}))


def test_dns_service_ip_outside_service_cidr_is_rejected():
    _problem_for("cluster.network.dnsServiceIp", _problems(network={"dnsServiceIp": "10.1.0.10"}))


def test_dns_service_ip_on_a_reserved_address_is_rejected():
    _problem_for("cluster.network.dnsServiceIp", _problems(network={"dnsServiceIp": "10.0.0.1"}))


def test_overlapping_pod_and_service_ranges_are_rejected():
    _problem_for("cluster.network.podCidr", _problems(network={"podCidr": "10.0.0.0/8"}))


def test_private_cluster_with_authorized_ranges_is_rejected():
    _problem_for(
        "cluster.authorizedIpRanges", _problems(privateCluster=True, authorizedIpRanges=["203.0.113.0/24"])
    )


# --- versions and upgrades ------------------------------------------------------------------------


def test_exact_patch_with_an_auto_upgrade_channel_is_rejected():
    problem = _problem_for("cluster.kubernetesVersion", _problems(kubernetesVersion="1.36.2"))
    assert "fights upgradeChannel" in problem


def test_exact_patch_without_auto_upgrade_passes():
    assert _load(kubernetesVersion="1.36.2", upgradeChannel="none").cluster.kubernetes_minor == "1.36"


def test_maintenance_window_shorter_than_four_hours_is_rejected():
    _problem_for("cluster.autoUpgradeWindow.durationHours", _problems(autoUpgradeWindow={"durationHours": 2}))


def test_unknown_cluster_key_is_rejected_with_the_allowed_keys():
    problem = _problem_for("cluster.kubeletMode", _problems(kubeletMode="x"))
    assert "kubeloginMode" in problem


# --- the settings call the component's rules ------------------------------------------------------


def _rule_message(check: Any, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
    from components.aks_rules import ArgsProblems

    with pytest.raises(ArgsProblems) as caught:
        check(*args, **kwargs)
    return caught.value.problems


def test_a_pool_refusal_is_the_component_rule_under_its_config_key():
    from components.aks_rules import validate_node_pool

    ((field, message),) = _rule_message(
        validate_node_pool,
        vm_size="Standard_D4ds_v5",
        min_count=5,
        max_count=3,
        max_pods=110,
        os_disk_type="auto",
        os_disk_size_gb=128,
    )
    assert field == "min_count"
    problem = _problem_for("cluster.userPool.minCount", _problems(userPool={"minCount": 5, "maxCount": 3}))
    assert problem == f"aks-grpc:cluster.userPool.minCount: {message}"


@pytest.mark.parametrize(
    ("cluster", "key"),
    [
        ({"kubernetesVersion": "1.33"}, "cluster.kubernetesVersion"),
        ({"supportPlan": "AKSLongTermSupport"}, "cluster.supportPlan"),
        ({"kubernetesVersion": "1.36", "istio": {"revisions": ["asm-1-28"]}}, "cluster.istio.revisions[0]"),
        (
            {"istio": {"revisions": ["asm-1-30"], "activeRevision": "asm-1-29"}},
            "cluster.istio.activeRevision",
        ),
        ({"network": {"dnsServiceIp": "10.1.0.10"}}, "cluster.network.dnsServiceIp"),
        ({"network": {"outboundType": "userDefinedRouting"}}, "cluster.network.outboundType"),
        ({"privateCluster": True, "authorizedIpRanges": ["203.0.113.0/24"]}, "cluster.authorizedIpRanges"),
        ({"zones": ["1", "1"]}, "cluster.zones"),
    ],
)
def test_each_component_rule_reaches_the_stack_user_under_its_config_key(cluster, key):
    _problem_for(key, _problems(**cluster))
