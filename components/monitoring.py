"""Azure Monitor end to end: logs, traces, managed Prometheus, alerts and (optionally) Grafana.

Two components, because the cluster sits in the middle of the chain:

- `Observability` is created before the cluster and knows nothing about it: Log Analytics,
  workspace-based Application Insights, the Azure Monitor workspace (managed Prometheus), the data
  collection endpoint, the Prometheus and Container Insights (`MSCI-`) data collection rules, the
  action group and optional Managed Grafana. `AksCluster` associates the rules and the endpoint
  with the cluster from the ids exposed here.
- `ClusterMonitoring` is created after the cluster: the Prometheus rule groups scoped to the
  workspace and the cluster (Azure's recording rules + gRPC alerts) and the scrape configuration
  ConfigMaps the metrics add-on reads from `kube-system`.

Azure Monitor docs: "Enable monitoring for Kubernetes clusters", "Data collection rules for
Prometheus", "Customize scraping of Prometheus metrics in Azure Monitor managed service for
Prometheus", "Configure data collection in Container insights using data collection rule".
"""

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import (
    alertsmanagement,
    applicationinsights,
    dashboard,
    monitor,
    operationalinsights,
)

from . import azure_ids
from .common import RoleAssignmentArgs, role_assignment
from .naming import RULES, StackNames
from .prometheus_rules import (
    METRICS_CONFIG_NAMESPACE,
    METRICS_SETTINGS_CONFIGMAP,
    PROMETHEUS_CONFIG_CONFIGMAP,
    RECORDING_RULE_GROUPS,
    PrometheusRule,
    RuleGroup,
    grpc_alert_rules,
    metrics_settings_data,
    prometheus_config_data,
    rule_group_name,
)
from .settings import MonitoringSettings

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")

LOG_ANALYTICS_SKU = "PerGB2018"
"""Pay-as-you-go Log Analytics pricing tier (the only tier new workspaces can choose besides commitments)."""


def subscription_of(resource_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """The subscription id inside an ARM resource id (`/subscriptions/<id>/...`)."""
    return pulumi.Output.from_input(resource_id).apply(lambda rid: rid.split("/")[2])


# ---------------------------------------------------------------------------------------------------
# Observability (before the cluster)
# ---------------------------------------------------------------------------------------------------


@dataclass
class ObservabilityArgs:
    settings: MonitoringSettings
    """The stack's `aks-grpc:monitoring` settings."""
    names: StackNames
    """Azure names of the stack (workspace, DCE, DCR, action group, Grafana names come from here)."""
    resource_group_name: pulumi.Input[str]
    """Resource group every monitoring resource goes into."""
    location: pulumi.Input[str]
    """Azure region of the workspaces, endpoint and rules (the cluster's region)."""
    subscription_id: pulumi.Input[str] = ""
    """Subscription of the role assignments; empty: the Azure Monitor workspace's subscription."""


def validate_observability_args(args: ObservabilityArgs) -> None:
    """Reject args that would fail in Azure, naming the field."""
    if not isinstance(args.settings, MonitoringSettings):
        raise ValueError("ObservabilityArgs.settings must be a MonitoringSettings")
    if not isinstance(args.names, StackNames):
        raise ValueError("ObservabilityArgs.names must be a StackNames")
    for field_name, rule in (
        ("data_collection_endpoint", "data_collection_endpoint"),
        ("action_group_short", "action_group_short"),
        ("container_insights_rule", "data_collection_rule"),
    ):
        value = getattr(args.names, field_name)
        if not RULES[rule].check(value):
            raise ValueError(
                f"ObservabilityArgs.names.{field_name}: {value!r} breaks Azure's {rule} naming rule"
            )


class Observability(pulumi.ComponentResource):
    """Everything Azure Monitor needs before the cluster exists (see the module docstring)."""

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:monitoring:Observability", name, None, opts)
        validate_observability_args(args)
        settings, names = args.settings, args.names
        child = pulumi.ResourceOptions(parent=self)

        # --- logs and traces ------------------------------------------------------------------
        self.log_analytics_workspace = operationalinsights.Workspace(
            f"{name}-logs",
            operationalinsights.WorkspaceArgs(
                workspace_name=names.log_analytics,
                sku=operationalinsights.WorkspaceSkuArgs(name=LOG_ANALYTICS_SKU),
                retention_in_days=settings.log_retention_days,
                resource_group_name=args.resource_group_name,
                location=args.location,
            ),
            opts=child,
        )
        self.log_analytics_workspace_id: pulumi.Output[str] = self.log_analytics_workspace.id

        # Workspace-based: classic (standalone) Application Insights is retired. Keyword arguments,
        # not ComponentArgs: the SDK's args path passes `resource_name` twice (azure-native 3.29).
        self.app_insights = applicationinsights.Component(
            f"{name}-appinsights",
            resource_name_=names.application_insights,
            kind="web",
            application_type="web",
            workspace_resource_id=self.log_analytics_workspace.id,
            ingestion_mode="LogAnalytics",
            resource_group_name=args.resource_group_name,
            location=args.location,
            opts=pulumi.ResourceOptions(
                parent=self, additional_secret_outputs=["connectionString", "instrumentationKey"]
            ),
        )
        self.app_insights_id: pulumi.Output[str] = self.app_insights.id
        self.app_insights_connection_string: pulumi.Output[str] = pulumi.Output.secret(
            self.app_insights.connection_string
        )
        self.app_insights_instrumentation_key: pulumi.Output[str] = pulumi.Output.secret(
            self.app_insights.instrumentation_key
        )

        # --- managed Prometheus ---------------------------------------------------------------
        self.monitor_workspace = monitor.AzureMonitorWorkspace(
            f"{name}-prometheus",
            monitor.AzureMonitorWorkspaceArgs(
                azure_monitor_workspace_name=names.monitor_workspace,
                resource_group_name=args.resource_group_name,
                location=args.location,
            ),
            opts=child,
        )
        self.monitor_workspace_id: pulumi.Output[str] = self.monitor_workspace.id
        self.prometheus_query_endpoint: pulumi.Output[str] = self.monitor_workspace.metrics.apply(
            lambda metrics: metrics.prometheus_query_endpoint if metrics else ""
        )

        self.data_collection_endpoint = monitor.DataCollectionEndpoint(
            f"{name}-dce",
            monitor.DataCollectionEndpointArgs(
                data_collection_endpoint_name=names.data_collection_endpoint,
                kind="Linux",
                description="Endpoint of the AKS metrics add-on (managed Prometheus) and its configuration.",
                resource_group_name=args.resource_group_name,
                location=args.location,
            ),
            opts=child,
        )
        self.data_collection_endpoint_id: pulumi.Output[str] = self.data_collection_endpoint.id

        self.prometheus_rule = monitor.DataCollectionRule(
            f"{name}-prometheus-dcr",
            monitor.DataCollectionRuleArgs(
                data_collection_rule_name=names.data_collection_rule("prometheus"),
                kind="Linux",
                description="Managed Prometheus: the AKS metrics add-on -> the Azure Monitor workspace.",
                data_collection_endpoint_id=self.data_collection_endpoint.id,
                data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                    prometheus_forwarder=[
                        monitor.PrometheusForwarderDataSourceArgs(
                            name=azure_ids.PROMETHEUS_DATA_SOURCE,
                            streams=[azure_ids.PROMETHEUS_STREAM],
                        )
                    ]
                ),
                destinations=monitor.DataCollectionRuleDestinationsArgs(
                    monitoring_accounts=[
                        monitor.MonitoringAccountDestinationArgs(
                            name=azure_ids.PROMETHEUS_DESTINATION,
                            account_resource_id=self.monitor_workspace.id,
                        )
                    ]
                ),
                data_flows=[
                    monitor.DataFlowArgs(
                        streams=[azure_ids.PROMETHEUS_STREAM],
                        destinations=[azure_ids.PROMETHEUS_DESTINATION],
                    )
                ],
                resource_group_name=args.resource_group_name,
                location=args.location,
            ),
            opts=child,
        )
        self.prometheus_rule_id: pulumi.Output[str] = self.prometheus_rule.id

        # --- Container Insights -----------------------------------------------------------------
        streams = list(azure_ids.CONTAINER_INSIGHTS_STREAMS)
        self.container_insights_rule = monitor.DataCollectionRule(
            f"{name}-container-insights-dcr",
            monitor.DataCollectionRuleArgs(
                data_collection_rule_name=names.container_insights_rule,
                kind="Linux",
                description="Container Insights (ContainerLogV2, events, pod inventory) -> Log Analytics.",
                data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                    extensions=[
                        monitor.ExtensionDataSourceArgs(
                            name=azure_ids.CONTAINER_INSIGHTS_DATA_SOURCE,
                            extension_name=azure_ids.CONTAINER_INSIGHTS_EXTENSION,
                            streams=streams,
                            extension_settings=container_insights_extension_settings(settings),
                        )
                    ]
                ),
                destinations=monitor.DataCollectionRuleDestinationsArgs(
                    log_analytics=[
                        monitor.LogAnalyticsDestinationArgs(
                            name=azure_ids.CONTAINER_INSIGHTS_DESTINATION,
                            workspace_resource_id=self.log_analytics_workspace.id,
                        )
                    ]
                ),
                data_flows=[
                    monitor.DataFlowArgs(
                        streams=streams, destinations=[azure_ids.CONTAINER_INSIGHTS_DESTINATION]
                    )
                ],
                resource_group_name=args.resource_group_name,
                location=args.location,
            ),
            opts=child,
        )
        self.container_insights_rule_id: pulumi.Output[str] = self.container_insights_rule.id

        # --- alert routing --------------------------------------------------------------------
        self.action_group = monitor.ActionGroup(
            f"{name}-action-group",
            monitor.ActionGroupInitArgs(
                action_group_name=names.action_group,
                group_short_name=names.action_group_short,
                enabled=True,
                location="Global",
                resource_group_name=args.resource_group_name,
                email_receivers=[
                    monitor.MicrosoftCommonEmailReceiverArgs(
                        name=email_receiver_name(index, email),
                        email_address=email,
                        use_common_alert_schema=True,
                    )
                    for index, email in enumerate(settings.alert_emails)
                ],
            ),
            opts=child,
        )
        self.action_group_id: pulumi.Output[str] = self.action_group.id

        # --- Grafana (optional) ----------------------------------------------------------------
        subscription_id = args.subscription_id or subscription_of(self.monitor_workspace.id)
        self.grafana: dashboard.Grafana | None = None
        self.grafana_endpoint: pulumi.Output[str] = pulumi.Output.from_input("")
        self.role_assignments: list[pulumi.Resource] = []
        if settings.grafana.enabled:
            grafana = settings.grafana
            self.grafana = dashboard.Grafana(
                f"{name}-grafana",
                dashboard.GrafanaArgs(
                    workspace_name=names.grafana,
                    sku=dashboard.ResourceSkuArgs(name=grafana.sku),
                    identity=dashboard.ManagedServiceIdentityArgs(type="SystemAssigned"),
                    properties=dashboard.ManagedGrafanaPropertiesArgs(
                        grafana_major_version=grafana.major_version,
                        public_network_access="Enabled",
                        grafana_integrations=dashboard.GrafanaIntegrationsArgs(
                            azure_monitor_workspace_integrations=[
                                dashboard.AzureMonitorWorkspaceIntegrationArgs(
                                    azure_monitor_workspace_resource_id=self.monitor_workspace.id
                                )
                            ]
                        ),
                    ),
                    resource_group_name=args.resource_group_name,
                    location=args.location,
                ),
                opts=child,
            )
            self.grafana_endpoint = self.grafana.properties.apply(lambda p: (p.endpoint or "") if p else "")
            grafana_principal = self.grafana.identity.apply(lambda i: i.principal_id if i else "")
            # Grafana queries the workspace with its own identity (Azure Monitor: "Use Azure Monitor
            # managed service for Prometheus as data source for Grafana using managed system identity").
            self.role_assignments.append(
                role_assignment(
                    f"{name}-grafana-monitoring-data-reader",
                    scope=self.monitor_workspace.id,
                    assignment=RoleAssignmentArgs(
                        principal_id=grafana_principal,
                        role_definition_id=azure_ids.MONITORING_DATA_READER,
                        description="Managed Grafana reads managed Prometheus.",
                    ),
                    subscription_id=subscription_id,
                    opts=child,
                )
            )
            for index, group in enumerate(grafana.viewer_group_object_ids):
                for suffix, scope, role in (
                    ("grafana-viewer", self.grafana.id, azure_ids.GRAFANA_VIEWER),
                    ("monitoring-data-reader", self.monitor_workspace.id, azure_ids.MONITORING_DATA_READER),
                ):
                    self.role_assignments.append(
                        role_assignment(
                            f"{name}-viewers-{index}-{suffix}",
                            scope=scope,
                            assignment=RoleAssignmentArgs(
                                principal_id=group, role_definition_id=role, principal_type="Group"
                            ),
                            subscription_id=subscription_id,
                            opts=child,
                        )
                    )
            for index, group in enumerate(grafana.admin_group_object_ids):
                self.role_assignments.append(
                    role_assignment(
                        f"{name}-admins-{index}-grafana-admin",
                        scope=self.grafana.id,
                        assignment=RoleAssignmentArgs(
                            principal_id=group,
                            role_definition_id=azure_ids.GRAFANA_ADMIN,
                            principal_type="Group",
                        ),
                        subscription_id=subscription_id,
                        opts=child,
                    )
                )

        self.register_outputs(
            {
                "logAnalyticsWorkspaceId": self.log_analytics_workspace_id,
                "appInsightsId": self.app_insights_id,
                "appInsightsConnectionString": self.app_insights_connection_string,
                "monitorWorkspaceId": self.monitor_workspace_id,
                "prometheusQueryEndpoint": self.prometheus_query_endpoint,
                "dataCollectionEndpointId": self.data_collection_endpoint_id,
                "prometheusRuleId": self.prometheus_rule_id,
                "containerInsightsRuleId": self.container_insights_rule_id,
                "actionGroupId": self.action_group_id,
                "grafanaEndpoint": self.grafana_endpoint,
            }
        )


def container_insights_extension_settings(settings: MonitoringSettings) -> dict[str, object]:
    """`extensionSettings` of the Container Insights data source (Azure Monitor: "Configure data
    collection in Container insights using data collection rule")."""
    insights = settings.container_insights
    return {
        "dataCollectionSettings": {
            "interval": insights.interval,
            "namespaceFilteringMode": insights.namespace_filtering_mode,
            "namespaces": list(insights.namespaces),
            "enableContainerLogV2": True,
        }
    }


def email_receiver_name(index: int, email: str) -> str:
    """A unique, readable receiver name per address (receiver names are unique within the group)."""
    local = "".join(c if c.isalnum() or c in "-_" else "-" for c in email.split("@")[0])
    return f"email-{index}-{local}"[:128]


# ---------------------------------------------------------------------------------------------------
# ClusterMonitoring (after the cluster)
# ---------------------------------------------------------------------------------------------------


@dataclass
class ClusterMonitoringArgs:
    cluster_id: pulumi.Input[str]
    """Resource id of the AKS cluster (second scope of every rule group)."""
    cluster_name: pulumi.Input[str]
    """Name of the AKS cluster: rule groups evaluate only its series (`cluster` label)."""
    monitor_workspace_id: pulumi.Input[str]
    """The Azure Monitor workspace the rules run against (`Observability.monitor_workspace_id`)."""
    action_group_id: pulumi.Input[str]
    """Where alerts go (`Observability.action_group_id`)."""
    provider: k8s.Provider
    """Kubernetes provider of the cluster (`AksCluster.provider`)."""
    settings: MonitoringSettings
    """The stack's `aks-grpc:monitoring` settings (alert thresholds)."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the rule groups."""
    location: pulumi.Input[str]
    """Region of the rule groups (the Azure Monitor workspace's region)."""
    workload_namespaces: list[str] = field(default_factory=list)
    """Namespaces of the gRPC workloads: alert scope and pod-annotation scraping."""
    kubernetes_ready: list[pulumi.Resource] = field(default_factory=list)
    """Resources Kubernetes objects must wait for (`AksCluster.kubernetes_ready`)."""


def validate_cluster_monitoring_args(args: ClusterMonitoringArgs) -> None:
    """Reject args that would produce broken rules or scrape config, naming the field."""
    if not args.workload_namespaces:
        raise ValueError("ClusterMonitoringArgs.workload_namespaces: give at least one namespace")
    for namespace in args.workload_namespaces:
        if len(namespace) > 63 or not _DNS_LABEL.fullmatch(namespace):
            raise ValueError(f"ClusterMonitoringArgs.workload_namespaces: {namespace!r} is not a DNS label")
    if not isinstance(args.settings, MonitoringSettings):
        raise ValueError("ClusterMonitoringArgs.settings must be a MonitoringSettings")


def prometheus_rule_args(
    rule: PrometheusRule, action_group_id: pulumi.Input[str]
) -> alertsmanagement.PrometheusRuleArgs:
    """One rule as the Azure API takes it; alert rules route to the action group and auto-resolve."""
    if rule.alert:
        return alertsmanagement.PrometheusRuleArgs(
            alert=rule.alert,
            expression=rule.expression,
            enabled=True,
            for_=rule.for_duration or None,
            severity=rule.severity,
            labels=rule.labels or None,
            annotations=rule.annotations or None,
            actions=[alertsmanagement.PrometheusRuleGroupActionArgs(action_group_id=action_group_id)],
            resolve_configuration=alertsmanagement.PrometheusRuleResolveConfigurationArgs(
                auto_resolved=True, time_to_resolve="PT10M"
            ),
        )
    return alertsmanagement.PrometheusRuleArgs(
        record=rule.record, expression=rule.expression, enabled=True, labels=rule.labels or None
    )


def _rule_group_name_of(kind: str, cluster_name: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(cluster_name).apply(lambda cluster: rule_group_name(kind, cluster))


class ClusterMonitoring(pulumi.ComponentResource):
    """Prometheus rule groups and scrape configuration of one cluster (see the module docstring)."""

    def __init__(
        self, name: str, args: ClusterMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:monitoring:ClusterMonitoring", name, None, opts)
        validate_cluster_monitoring_args(args)
        alerts = args.settings.alerts
        groups: list[RuleGroup] = [
            *RECORDING_RULE_GROUPS,
            grpc_alert_rules(
                args.workload_namespaces,
                pod_restarts=alerts.pod_restarts,
                grpc_error_ratio=alerts.grpc_error_ratio,
                grpc_p99_latency_ms=alerts.grpc_p99_latency_ms,
                hpa_max_replicas_minutes=alerts.hpa_max_replicas_minutes,
                severity=alerts.severity,
            ),
        ]
        self.rule_groups: dict[str, alertsmanagement.PrometheusRuleGroup] = {}
        for group in groups:
            self.rule_groups[group.kind] = alertsmanagement.PrometheusRuleGroup(
                f"{name}-{group.kind}",
                alertsmanagement.PrometheusRuleGroupArgs(
                    rule_group_name=_rule_group_name_of(group.kind, args.cluster_name),
                    description=group.description,
                    # Both scopes: the workspace holds the series, the cluster ties the group to it in
                    # the portal; cluster_name restricts evaluation to this cluster's series.
                    scopes=[args.monitor_workspace_id, args.cluster_id],
                    cluster_name=args.cluster_name,
                    enabled=True,
                    interval=group.interval,
                    rules=[prometheus_rule_args(rule, args.action_group_id) for rule in group.rules],
                    resource_group_name=args.resource_group_name,
                    location=args.location,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        k8s_opts = pulumi.ResourceOptions(
            provider=args.provider, parent=self, depends_on=list(args.kubernetes_ready)
        )
        self.metrics_settings = k8s.core.v1.ConfigMap(
            f"{name}-metrics-settings",
            k8s.core.v1.ConfigMapInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=METRICS_SETTINGS_CONFIGMAP,
                    namespace=METRICS_CONFIG_NAMESPACE,
                    labels={"app.kubernetes.io/managed-by": "pulumi"},
                ),
                data=metrics_settings_data(args.workload_namespaces),
            ),
            opts=k8s_opts,
        )
        self.prometheus_config = k8s.core.v1.ConfigMap(
            f"{name}-prometheus-config",
            k8s.core.v1.ConfigMapInitArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=PROMETHEUS_CONFIG_CONFIGMAP,
                    namespace=METRICS_CONFIG_NAMESPACE,
                    labels={"app.kubernetes.io/managed-by": "pulumi"},
                ),
                data=prometheus_config_data(),
            ),
            opts=k8s_opts,
        )
        self.register_outputs(
            {
                "ruleGroupIds": {kind: group.id for kind, group in self.rule_groups.items()},
            }
        )
