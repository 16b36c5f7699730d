"""What Azure Monitor refuses in Observability's and ClusterMonitoring's arguments, as plain functions.

No Pulumi SDK is imported here, so the settings layer (program/settings/, monitoring section) calls
the same functions the components call (components/monitoring.py) and reports their message under its
config key. Each `validate_*` raises `ValueError` whose message starts with the Args field it is about.
"""

import enum
import re
from collections.abc import Sequence

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class LogAnalyticsSku(enum.StrEnum):
    """Pricing tiers a new Log Analytics workspace can take (Azure Monitor: "Azure Monitor Logs pricing
    details"; the legacy Free/Standard/Premium/PerNode tiers are closed to new workspaces)."""

    PER_GB_2018 = "PerGB2018"
    """Pay-as-you-go."""
    CAPACITY_RESERVATION = "CapacityReservation"
    """A commitment tier: `capacity_reservation_gb_per_day` GB a day at a discount."""


LOG_RETENTION_DAYS = (30, 730)
"""Interactive retention a PerGB2018 or commitment-tier workspace accepts (Azure Monitor: "Manage data
retention in a Log Analytics workspace")."""

COMMITMENT_TIERS_GB = (100, 200, 300, 400, 500, 1000, 2000, 5000, 10000, 25000, 50000)
"""Daily commitment tiers in GB (Azure Monitor Logs pricing details)."""

ALERT_SEVERITIES = (0, 4)
"""Azure alert severities: 0 critical ... 4 verbose."""


class NamespaceFilteringMode(enum.StrEnum):
    """Which namespaces Container Insights collects (`namespaceFilteringMode` of the `MSCI-` rule)."""

    OFF = "Off"
    INCLUDE = "Include"
    EXCLUDE = "Exclude"


def validate_log_analytics(
    retention_days: int, sku: LogAnalyticsSku | str, capacity_reservation_gb_per_day: int | None
) -> None:
    """Retention of 30-730 days; a commitment tier needs one of Azure's daily capacities, PerGB2018 none."""
    low, high = LOG_RETENTION_DAYS
    if not low <= retention_days <= high:
        raise ValueError(f"log_retention_days: {retention_days} is outside {low}-{high} days")
    try:
        tier = LogAnalyticsSku(sku)
    except ValueError:
        allowed = ", ".join(s.value for s in LogAnalyticsSku)
        raise ValueError(
            f"log_analytics_sku: {sku!r} is not a tier new workspaces can use ({allowed})"
        ) from None
    if (
        tier is LogAnalyticsSku.CAPACITY_RESERVATION
        and capacity_reservation_gb_per_day not in COMMITMENT_TIERS_GB
    ):
        raise ValueError(
            f"capacity_reservation_gb_per_day: {capacity_reservation_gb_per_day} is not a commitment tier "
            f"({', '.join(map(str, COMMITMENT_TIERS_GB))})"
        )
    if tier is LogAnalyticsSku.PER_GB_2018 and capacity_reservation_gb_per_day is not None:
        raise ValueError("capacity_reservation_gb_per_day: only the CapacityReservation tier takes one")


def validate_app_insights_sampling(percentage: float | None) -> None:
    """Ingestion sampling keeps a share of telemetry: more than 0 and at most 100 percent (None: all)."""
    if percentage is not None and not 0 < percentage <= 100:
        raise ValueError(f"app_insights_sampling_percentage: {percentage} must be in (0, 100]")


CONTAINER_INSIGHTS_INTERVAL_PATTERN = r"([1-9]|[12][0-9]|30)m"
"""Collection intervals the Container Insights agent accepts: 1m to 30m."""
_INTERVAL = re.compile(CONTAINER_INSIGHTS_INTERVAL_PATTERN)


def validate_container_insights(
    interval: str, mode: NamespaceFilteringMode | str, namespaces: Sequence[str]
) -> None:
    """Collection every 1m-30m (Azure's range); Include/Exclude need namespaces, Off takes none."""
    if not _INTERVAL.fullmatch(interval):
        raise ValueError(f"container_insights.interval: {interval!r} must be 1m to 30m")
    mode = NamespaceFilteringMode(mode)
    if mode is NamespaceFilteringMode.OFF and namespaces:
        raise ValueError("container_insights.namespaces: ignored while namespace_filtering_mode is Off")
    if mode is not NamespaceFilteringMode.OFF and not namespaces:
        raise ValueError(f"container_insights.namespaces: {mode.value} needs at least one namespace")
    for namespace in namespaces:
        if len(namespace) > 63 or not _DNS_LABEL.fullmatch(namespace):
            raise ValueError(f"container_insights.namespaces: {namespace!r} is not a DNS label")


def validate_alert_thresholds(
    *,
    pod_restarts: int,
    grpc_error_ratio: float,
    grpc_p99_latency_ms: int,
    hpa_max_replicas_minutes: int,
    severity: int,
) -> None:
    """Thresholds that can fire: positive counts and durations, a ratio in (0, 1), an Azure severity."""
    low, high = ALERT_SEVERITIES
    if not low <= severity <= high:
        raise ValueError(f"alerts.severity: {severity} is not an Azure alert severity ({low}-{high})")
    if not 0 < grpc_error_ratio < 1:
        raise ValueError(f"alerts.grpc_error_ratio: {grpc_error_ratio} must be between 0 and 1")
    for field_name, value in (
        ("pod_restarts", pod_restarts),
        ("grpc_p99_latency_ms", grpc_p99_latency_ms),
        ("hpa_max_replicas_minutes", hpa_max_replicas_minutes),
    ):
        if value < 1:
            raise ValueError(f"alerts.{field_name}: {value} must be at least 1")
