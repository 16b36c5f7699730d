"""Which Kubernetes minors AKS supports until when, and the check built on that.

AKS supports each minor for about 12 months after its GA ("community support"); a cluster on a minor
past end of life gets platform support only and AKS no longer creates clusters on it. Premium-tier
clusters with the `AKSLongTermSupport` support plan get a second year (LTS). The table is data,
updated by hand from its source; each row says where it comes from and when it was checked.

- A minor past its end of life is an error, unless the cluster has LTS (Premium tier + support plan
  `AKSLongTermSupport`) and the LTS end of life has not passed.
- Within `WARNING_DAYS` of the end of life that applies, a warning.
- A minor newer than the table passes with a warning (confirm it with `az aks get-versions`), so a
  stale table never blocks a deploy; an unknown minor older than the table is an error.

"End of life" in the AKS calendar is a month unless a day is given: AKS reads "Mar 2027" as the last
day of that month (note under "AKS Kubernetes release calendar and upcoming versions").
"""

import datetime
from dataclasses import dataclass

AKS_CALENDAR_URL = "https://learn.microsoft.com/azure/aks/supported-kubernetes-versions"
AKS_CALENDAR_SOURCE = (
    f"{AKS_CALENDAR_URL} (MicrosoftDocs/azure-aks-docs articles/aks/supported-kubernetes-versions.md "
    "@ fb060ab, 2026-08-21)"
)
CHECKED = datetime.date(2026, 12, 2)
"""When the rows below were last compared with the source."""

DEFAULT_KUBERNETES_VERSION = "1.36"
"""The default Kubernetes minor: GA on AKS since Jun 2026, supported until 2027-06-30, and supported by
the newest Istio revision in the table (components/istio_revisions.py)."""

WARNING_DAYS = 60
"""Warn this many days before a minor's end of life (time to plan and test the upgrade)."""

LONG_TERM_SUPPORT_PLAN = "AKSLongTermSupport"
"""`ManagedCluster.supportPlan` that, on the Premium tier, extends support by a year (AKS docs:
"Long-term support for Azure Kubernetes Service (AKS) versions")."""


@dataclass(frozen=True)
class KubernetesMinorSupport:
    """One row of the AKS release calendar."""

    minor: str
    aks_ga: datetime.date
    """First day of the month AKS made the minor generally available."""
    end_of_life: datetime.date
    """Last day of community support."""
    lts_end_of_life: datetime.date | None
    """Last day of long-term support (None: the minor has no LTS)."""
    source: str = AKS_CALENDAR_SOURCE
    checked: datetime.date = CHECKED


def _end_of_month(year: int, month: int) -> datetime.date:
    first_of_next = datetime.date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - datetime.timedelta(days=1)


def _row(
    minor: str, ga: tuple[int, int], eol: tuple[int, int], lts: tuple[int, int] | None
) -> KubernetesMinorSupport:
    return KubernetesMinorSupport(
        minor=minor,
        aks_ga=datetime.date(ga[0], ga[1], 1),
        end_of_life=_end_of_month(*eol),
        lts_end_of_life=_end_of_month(*lts) if lts else None,
    )


# minor -> support window, from the two tables of the source ("AKS Kubernetes release calendar" and
# "LTS versions"). Add new minors at the end; keep rows until their LTS end of life has passed.
AKS_KUBERNETES_MINORS: dict[str, KubernetesMinorSupport] = {
    row.minor: row
    for row in (
        _row("1.29", ga=(2024, 3), eol=(2025, 3), lts=(2026, 4)),
        KubernetesMinorSupport(  # explicit day in the source: "Aug 22, 2025"
            "1.30", datetime.date(2024, 7, 1), datetime.date(2025, 8, 22), _end_of_month(2026, 7)
        ),
        KubernetesMinorSupport(  # explicit day in the source: "Nov 1, 2025"
            "1.31", datetime.date(2024, 11, 1), datetime.date(2025, 11, 1), _end_of_month(2026, 11)
        ),
        _row("1.32", ga=(2025, 4), eol=(2026, 3), lts=(2027, 3)),
        _row("1.33", ga=(2025, 6), eol=(2026, 7), lts=(2027, 7)),
        _row("1.34", ga=(2025, 11), eol=(2026, 11), lts=(2027, 11)),
        _row("1.35", ga=(2026, 3), eol=(2027, 3), lts=(2028, 3)),
        _row("1.36", ga=(2026, 6), eol=(2027, 6), lts=(2028, 6)),
        _row("1.37", ga=(2026, 10), eol=(2027, 10), lts=(2028, 10)),
    )
}


def minor_number(minor: str) -> int:
    """`1.36` -> 36."""
    return int(minor.split(".")[1])


def today() -> datetime.date:
    """The date the checks compare with (UTC); settings take an explicit date in tests."""
    return datetime.datetime.now(datetime.UTC).date()


@dataclass(frozen=True)
class VersionCheck:
    """Outcome of checking a Kubernetes minor against the calendar."""

    errors: list[str]
    warnings: list[str]


def supported_minors(on: datetime.date, long_term_support: bool = False) -> list[str]:
    """Minors in the table that are GA and not past the end of life that applies on `on`."""
    return [
        row.minor
        for row in sorted(AKS_KUBERNETES_MINORS.values(), key=lambda r: minor_number(r.minor))
        if row.aks_ga <= on <= _applicable_end_of_life(row, long_term_support)
    ]


def _applicable_end_of_life(row: KubernetesMinorSupport, long_term_support: bool) -> datetime.date:
    if long_term_support and row.lts_end_of_life is not None:
        return row.lts_end_of_life
    return row.end_of_life


def check_kubernetes_minor(minor: str, *, on: datetime.date, long_term_support: bool = False) -> VersionCheck:
    """Check a Kubernetes minor (`1.36`) on a date, for a cluster with or without LTS."""
    errors: list[str] = []
    warnings: list[str] = []
    known = sorted(AKS_KUBERNETES_MINORS, key=minor_number)
    row = AKS_KUBERNETES_MINORS.get(minor)
    supported = ", ".join(supported_minors(on, long_term_support)) or "none in the table"
    table = f"table checked {CHECKED.isoformat()}: {AKS_CALENDAR_URL}"
    if row is None:
        if minor_number(minor) > minor_number(known[-1]):
            warnings.append(
                f"Kubernetes {minor} is newer than the support table (newest {known[-1]}, {table}): confirm "
                "AKS offers it with `az aks get-versions --location <region>` and add it to "
                "components/kubernetes_versions.py"
            )
        else:
            errors.append(f"Kubernetes {minor} is not supported by AKS (supported on {on}: {supported})")
        return VersionCheck(errors, warnings)
    lts = long_term_support and row.lts_end_of_life is not None
    end = _applicable_end_of_life(row, long_term_support)
    kind = "long-term support" if lts else "support"
    if on > end:
        hint = (
            ""
            if long_term_support or row.lts_end_of_life is None or on > row.lts_end_of_life
            else f"; Premium tier with supportPlan {LONG_TERM_SUPPORT_PLAN} extends it to "
            f"{row.lts_end_of_life}"
        )
        errors.append(
            f"Kubernetes {minor} left AKS {kind} on {end} ({table}){hint}; supported on {on}: {supported}"
        )
    elif (end - on).days <= WARNING_DAYS:
        warnings.append(
            f"Kubernetes {minor} leaves AKS {kind} on {end}, in {(end - on).days} days ({table}): "
            f"plan the upgrade (supported: {supported})"
        )
    if on < row.aks_ga:
        warnings.append(f"Kubernetes {minor} is not GA on AKS before {row.aks_ga:%b %Y} ({table})")
    return VersionCheck(errors, warnings)
