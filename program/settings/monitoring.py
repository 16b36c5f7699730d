"""Settings: monitoring."""

import typing
from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from components.monitoring_rules import (
    ALERT_SEVERITIES,
    CONTAINER_INSIGHTS_INTERVAL_PATTERN,
    LOG_RETENTION_DAYS,
)

from .base import Email, Guid, KubernetesName, _Model, _raise_problems, nested

if typing.TYPE_CHECKING:
    from .stack import StackSettings

# ---------------------------------------------------------------------------------------------------
# Monitoring (`aks-grpc:monitoring`)
# ---------------------------------------------------------------------------------------------------


# The Azure rules and their constants live with the components (components/monitoring_rules.py,
# components/keyvault_rules.py: no SDK imports); the fields below take their bounds from there.


class ContainerInsightsSettings(_Model):
    """What the Container Insights agent collects (the `MSCI-` data collection rule's settings)."""

    interval: Annotated[str, Field(pattern=f"^{CONTAINER_INSIGHTS_INTERVAL_PATTERN}$")] = "1m"
    """How often inventory and performance data are collected: `1m` to `30m` (Azure's allowed range)."""
    namespace_filtering_mode: Literal["Off", "Include", "Exclude"] = "Off"
    """`Off` collects every namespace; `Include`/`Exclude` collect only / all but `namespaces`."""
    namespaces: list[KubernetesName] = Field(default_factory=list)
    """Namespaces that `namespaceFilteringMode` includes or excludes."""

    @model_validator(mode="after")
    def _filtering_needs_namespaces(self) -> "ContainerInsightsSettings":
        problems: list[tuple[str, str]] = []
        if self.namespace_filtering_mode == "Off" and self.namespaces:
            problems.append(
                ("namespaces", "is ignored while namespaceFilteringMode is Off; set Include or Exclude")
            )
        if self.namespace_filtering_mode != "Off" and not self.namespaces:
            problems.append(
                (
                    "namespaces",
                    f"must name at least one namespace when namespaceFilteringMode is "
                    f"{self.namespace_filtering_mode}",
                )
            )
        _raise_problems(problems, self)
        return self


class GrafanaSettings(_Model):
    """Optional Azure Managed Grafana wired to the Azure Monitor workspace."""

    enabled: bool = False
    """Create an Azure Managed Grafana instance with the workspace as its Prometheus data source."""
    sku: Literal["Standard", "Essential"] = "Standard"
    """Grafana SKU (`Essential` lacks zone redundancy and some enterprise features)."""
    major_version: Annotated[str, Field(pattern=r"^\d{2}$")] = "11"
    """Grafana major version, e.g. `11`."""
    viewer_group_object_ids: list[Guid] = Field(default_factory=list)
    """Entra group object ids that get Grafana Viewer on Grafana and Monitoring Data Reader on the workspace."""
    admin_group_object_ids: list[Guid] = Field(default_factory=list)
    """Entra group object ids that get Grafana Admin on the Grafana instance."""


class AlertSettings(_Model):
    """Thresholds of the gRPC alert rules (Prometheus alert rules on the Azure Monitor workspace)."""

    pod_restarts: Annotated[int, Field(ge=1, le=100)] = 3
    """Container restarts within 15 minutes that fire the pod-restart alert."""
    grpc_error_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.05
    """Share of gRPC calls failing with a server-side status (UNKNOWN, DEADLINE_EXCEEDED, INTERNAL,
    UNAVAILABLE, ...) over 5 minutes that fires the error-ratio alert."""
    grpc_p99_latency_ms: Annotated[int, Field(ge=1, le=60000)] = 500
    """p99 server-side gRPC latency in milliseconds (5 minutes) that fires the latency alert."""
    hpa_max_replicas_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    """Minutes an HPA may sit at its maximum replica count before the alert fires."""
    severity: Annotated[int, Field(ge=ALERT_SEVERITIES[0], le=ALERT_SEVERITIES[1])] = 2
    """Azure alert severity of the gRPC alerts (0 critical ... 4 verbose)."""


class MonitoringSettings(_Model):
    """Azure Monitor: logs, managed Prometheus, traces, alerts and Grafana (`aks-grpc:monitoring`)."""

    log_retention_days: Annotated[int, Field(ge=LOG_RETENTION_DAYS[0], le=LOG_RETENTION_DAYS[1])] = 30
    """Log Analytics retention (30-730 days)."""
    alert_emails: list[Email] = Field(default_factory=list)
    """Email addresses of the action group every alert is routed to."""
    container_insights: ContainerInsightsSettings = nested()
    grafana: GrafanaSettings = nested()
    alerts: AlertSettings = nested()

    @model_validator(mode="after")
    def _unique_emails(self) -> "MonitoringSettings":
        seen: set[str] = set()
        problems: list[tuple[str, str]] = []
        for index, email in enumerate(self.alert_emails):
            if email.lower() in seen:
                problems.append((f"alertEmails[{index}]", f"{email} is listed twice"))
            seen.add(email.lower())
        _raise_problems(problems, self)
        return self


def _monitoring_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if stack.is_production and not stack.monitoring.alert_emails:
        problems.append(("monitoring.alertEmails", "prod must route alerts to at least one email address"))
    grafana = stack.monitoring.grafana
    if stack.is_production and grafana.enabled and not grafana.admin_group_object_ids:
        # ARM gives nobody Grafana Admin on a created instance: without a group nobody can administer it.
        problems.append(
            (
                "monitoring.grafana.adminGroupObjectIds",
                "prod Grafana needs at least one Entra group object id that gets Grafana Admin",
            )
        )
    return problems
