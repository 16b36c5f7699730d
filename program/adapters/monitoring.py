"""`aks-grpc:monitoring` settings + the stack's names -> ObservabilityArgs and ClusterMonitoringArgs."""

import pulumi

from components.common import DiagnosticsArgs
from components.monitoring import (
    AlertThresholdsArgs,
    ClusterMonitoringArgs,
    ContainerInsightsArgs,
    GrafanaArgs,
    GrafanaSku,
    NamespaceFilteringMode,
    ObservabilityArgs,
    ObservabilityNames,
)
from components.naming import StackNames
from program.settings import ContainerInsightsSettings, MonitoringSettings


def observability_names(names: StackNames) -> ObservabilityNames:
    """The stack's CAF names of every monitoring resource."""
    return ObservabilityNames(
        log_analytics_workspace=names.log_analytics,
        application_insights=names.application_insights,
        monitor_workspace=names.monitor_workspace,
        data_collection_endpoint=names.data_collection_endpoint,
        prometheus_rule=names.data_collection_rule("prometheus"),
        container_insights_rule=names.container_insights_rule,
        action_group=names.action_group,
        action_group_short=names.action_group_short,
        grafana=names.grafana,
    )


def container_insights_args(settings: ContainerInsightsSettings) -> ContainerInsightsArgs:
    """`aks-grpc:monitoring.containerInsights` as the component's Args."""
    return ContainerInsightsArgs(
        interval=settings.interval,
        namespace_filtering_mode=NamespaceFilteringMode(settings.namespace_filtering_mode),
        namespaces=list(settings.namespaces),
    )


def observability_args(
    settings: MonitoringSettings,
    names: StackNames,
    *,
    resource_group_name: pulumi.Input[str],
    location: pulumi.Input[str],
    subscription_id: pulumi.Input[str] = "",
    diagnostics: DiagnosticsArgs | None = None,
) -> ObservabilityArgs:
    """ObservabilityArgs of the stack: its settings and names, no knob beyond what the settings say."""
    grafana = settings.grafana
    return ObservabilityArgs(
        resource_group_name=resource_group_name,
        location=location,
        names=observability_names(names),
        subscription_id=subscription_id,
        log_retention_days=settings.log_retention_days,
        alert_emails=list(settings.alert_emails),
        container_insights=container_insights_args(settings.container_insights),
        grafana=GrafanaArgs(
            sku=GrafanaSku(grafana.sku),
            major_version=grafana.major_version,
            viewer_group_object_ids=list(grafana.viewer_group_object_ids),
            admin_group_object_ids=list(grafana.admin_group_object_ids),
        )
        if grafana.enabled
        else None,
        diagnostics=diagnostics,
    )


def alert_thresholds(settings: MonitoringSettings) -> AlertThresholdsArgs:
    alerts = settings.alerts
    return AlertThresholdsArgs(
        pod_restarts=alerts.pod_restarts,
        grpc_error_ratio=alerts.grpc_error_ratio,
        grpc_p99_latency_ms=alerts.grpc_p99_latency_ms,
        hpa_max_replicas_minutes=alerts.hpa_max_replicas_minutes,
        severity=alerts.severity,
    )


def cluster_monitoring_args(
    settings: MonitoringSettings,
    *,
    cluster_id: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    monitor_workspace_id: pulumi.Input[str],
    action_group_id: pulumi.Input[str],
    resource_group_name: pulumi.Input[str],
    location: pulumi.Input[str],
    workload_services: dict[str, str],
) -> ClusterMonitoringArgs:
    """ClusterMonitoringArgs of the stack (the provider and the wait go in the component's opts).
    `workload_services` maps each service's namespace to the service's name (`aks-grpc:services`):
    the namespaces are the alert and scrape scope, the names the alerts' `service` label."""
    return ClusterMonitoringArgs(
        cluster_id=cluster_id,
        cluster_name=cluster_name,
        monitor_workspace_id=monitor_workspace_id,
        action_group_id=action_group_id,
        resource_group_name=resource_group_name,
        location=location,
        workload_namespaces=list(workload_services),
        workload_services=dict(workload_services),
        alerts=alert_thresholds(settings),
    )
