"""Azure Monitor end to end: logs, traces, managed Prometheus, alerts and (optionally) Grafana.

Two components, because the cluster sits in the middle of the chain:

- `Observability` is created before the cluster and knows nothing about it: Log Analytics,
  workspace-based Application Insights, the Azure Monitor workspace (managed Prometheus), the data
  collection endpoint, the Prometheus and Container Insights (`MSCI-`) data collection rules, the
  action group and optional Managed Grafana. `AksCluster` associates the rules and the endpoint
  with the cluster from the ids exposed here.
- `ClusterMonitoring` is created after the cluster: the Prometheus rule groups scoped to the
  workspace and the cluster (Azure's recording rules + gRPC alerts) and the scrape configuration
  ConfigMaps the metrics add-on reads from `kube-system`. It takes the cluster's Kubernetes provider
  and what Kubernetes objects wait for through its `opts` (`provider=`, `depends_on=`).

Azure Monitor docs: "Enable monitoring for Kubernetes clusters", "Data collection rules for
Prometheus", "Customize scraping of Prometheus metrics in Azure Monitor managed service for
Prometheus", "Configure data collection in Container insights using data collection rule".
"""

import enum
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
from .common import (
    DiagnosticsArgs,
    LockLevel,
    PrincipalType,
    RoleAssignmentArgs,
    depends_on_of,
    diagnostic_settings,
    management_lock,
    resource_tags,
    role_assignment,
    role_assignments,
    validate_uniform_knobs,
)
from .monitoring_rules import (
    LogAnalyticsSku,
    NamespaceFilteringMode,
    validate_alert_thresholds,
    validate_app_insights_sampling,
    validate_container_insights,
    validate_log_analytics,
)
from .naming import RULES
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

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def subscription_of(resource_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """The subscription id inside an ARM resource id (`/subscriptions/<id>/...`)."""
    return pulumi.Output.from_input(resource_id).apply(lambda rid: rid.split("/")[2])


# ---------------------------------------------------------------------------------------------------
# Choices and the Azure rules on them
# ---------------------------------------------------------------------------------------------------


class GrafanaSku(enum.StrEnum):
    """Azure Managed Grafana SKUs (`Essential` lacks zone redundancy and some enterprise features)."""

    STANDARD = "Standard"
    ESSENTIAL = "Essential"


# ---------------------------------------------------------------------------------------------------
# Observability (before the cluster)
# ---------------------------------------------------------------------------------------------------


@dataclass
class ObservabilityNames:
    """Azure names of Observability's resources; None lets Pulumi auto-name one from its logical name."""

    log_analytics_workspace: str | None = None
    application_insights: str | None = None
    monitor_workspace: str | None = None
    """Azure Monitor workspace (managed Prometheus): 4-44 characters."""
    data_collection_endpoint: str | None = None
    """3-44 characters."""
    prometheus_rule: str | None = None
    """Data collection rule of managed Prometheus."""
    container_insights_rule: str | None = None
    """Data collection rule of Container Insights (`MSCI-<region>-<cluster>` by Azure's convention)."""
    action_group: str | None = None
    action_group_short: str = "alerts"
    """Shown in alert mails and texts: 1-12 letters, digits and hyphens (Azure requires one)."""
    grafana: str | None = None
    """Azure Managed Grafana workspace: 2-23 characters."""


_NAME_RULES = (
    ("log_analytics_workspace", "log_analytics"),
    ("application_insights", "application_insights"),
    ("monitor_workspace", "monitor_workspace"),
    ("data_collection_endpoint", "data_collection_endpoint"),
    ("prometheus_rule", "data_collection_rule"),
    ("container_insights_rule", "data_collection_rule"),
    ("action_group", "action_group"),
    ("action_group_short", "action_group_short"),
    ("grafana", "grafana"),
)


def validate_observability_names(names: ObservabilityNames) -> None:
    """Every given name fits Azure's naming rule for its resource type."""
    for field_name, rule in _NAME_RULES:
        value = getattr(names, field_name)
        if value is not None and not RULES[rule].check(value):
            raise ValueError(f"names.{field_name}: {value!r} breaks Azure's {rule} naming rule")


@dataclass
class ContainerInsightsArgs:
    """What the Container Insights agent collects (the `MSCI-` data collection rule's settings)."""

    interval: str = "1m"
    """How often inventory and performance data are collected: `1m` to `30m`."""
    namespace_filtering_mode: NamespaceFilteringMode = NamespaceFilteringMode.OFF
    """`Off` collects every namespace; `Include`/`Exclude` collect only / all but `namespaces`."""
    namespaces: list[str] = field(default_factory=list)


@dataclass
class GrafanaArgs:
    """Azure Managed Grafana wired to the Azure Monitor workspace."""

    sku: GrafanaSku = GrafanaSku.STANDARD
    major_version: str = "11"
    """Grafana major version (two digits)."""
    viewer_group_object_ids: list[str] = field(default_factory=list)
    """Entra groups that get Grafana Viewer on Grafana and Monitoring Data Reader on the workspace."""
    admin_group_object_ids: list[str] = field(default_factory=list)
    """Entra groups that get Grafana Admin (ARM gives nobody Grafana Admin on a created instance)."""


def validate_grafana(grafana: GrafanaArgs) -> None:
    """A two-digit major version and object ids that are GUIDs, each group once per role."""
    if not re.fullmatch(r"\d{2}", grafana.major_version):
        raise ValueError(f"grafana.major_version: {grafana.major_version!r} must be two digits, e.g. 11")
    GrafanaSku(grafana.sku)
    for field_name in ("viewer_group_object_ids", "admin_group_object_ids"):
        groups: list[str] = getattr(grafana, field_name)
        for group in groups:
            if not _GUID.fullmatch(group):
                raise ValueError(f"grafana.{field_name}: {group!r} is not an object id (GUID)")
        if len({g.lower() for g in groups}) != len(groups):
            raise ValueError(f"grafana.{field_name}: lists a group twice")


@dataclass
class ObservabilityArgs:
    resource_group_name: pulumi.Input[str]
    """Resource group every monitoring resource goes into."""
    location: pulumi.Input[str]
    """Azure region of the workspaces, endpoint and rules (the cluster's region)."""
    names: ObservabilityNames = field(default_factory=ObservabilityNames)
    """Azure names of the resources (default: Pulumi auto-names)."""
    subscription_id: pulumi.Input[str] = ""
    """Subscription of the role assignments; empty: the Azure Monitor workspace's subscription."""
    log_retention_days: int = 30
    """Log Analytics retention: 30 (included in the price) to 730 days."""
    log_analytics_sku: LogAnalyticsSku = LogAnalyticsSku.PER_GB_2018
    capacity_reservation_gb_per_day: int | None = None
    """Daily commitment of the CapacityReservation tier."""
    app_insights_sampling_percentage: float | None = None
    """Application Insights ingestion sampling; None: keep all telemetry."""
    alert_emails: list[str] = field(default_factory=list)
    """Addresses of the action group every alert is routed to."""
    container_insights: ContainerInsightsArgs = field(default_factory=ContainerInsightsArgs)
    grafana: GrafanaArgs | None = None
    """Managed Grafana; None: no Grafana."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags of every taggable resource here."""
    lock: LockLevel | None = None
    """Lock on the state holders: the Log Analytics and Azure Monitor workspaces."""
    role_assignments: list[RoleAssignmentArgs] = field(default_factory=list)
    """Roles on the Log Analytics workspace (e.g. Log Analytics Reader for a team)."""
    diagnostics: DiagnosticsArgs | None = None
    """The Log Analytics workspace's own logs (default category `Audit`: its query audit)."""


def validate_observability_args(args: ObservabilityArgs) -> None:
    """Reject args that would fail in Azure, naming the field."""
    if not isinstance(args.names, ObservabilityNames):
        raise ValueError("ObservabilityArgs.names must be an ObservabilityNames")
    validate_observability_names(args.names)
    validate_log_analytics(
        args.log_retention_days, args.log_analytics_sku, args.capacity_reservation_gb_per_day
    )
    validate_app_insights_sampling(args.app_insights_sampling_percentage)
    insights = args.container_insights
    validate_container_insights(insights.interval, insights.namespace_filtering_mode, insights.namespaces)
    if args.grafana is not None:
        validate_grafana(args.grafana)
    emails = [e.lower() for e in args.alert_emails]
    if len(set(emails)) != len(emails):
        raise ValueError("alert_emails: lists an address twice")
    validate_uniform_knobs(
        tags=args.tags, lock=args.lock, role_assignments=args.role_assignments, diagnostics=args.diagnostics
    )


def container_insights_extension_settings(insights: ContainerInsightsArgs) -> dict[str, object]:
    """`extensionSettings` of the Container Insights data source (Azure Monitor: "Configure data
    collection in Container insights using data collection rule")."""
    return {
        "dataCollectionSettings": {
            "interval": insights.interval,
            "namespaceFilteringMode": NamespaceFilteringMode(insights.namespace_filtering_mode).value,
            "namespaces": list(insights.namespaces),
            "enableContainerLogV2": True,
        }
    }


def email_receiver_name(index: int, email: str) -> str:
    """A unique, readable receiver name per address (receiver names are unique within the group)."""
    local = "".join(c if c.isalnum() or c in "-_" else "-" for c in email.split("@")[0])
    return f"email-{index}-{local}"[:128]


def prometheus_collection_rule_args(
    monitor_workspace_id: pulumi.Input[str], data_collection_endpoint_id: pulumi.Input[str]
) -> dict[str, object]:
    """The managed-Prometheus DCR body: the add-on's `prometheusForwarder` -> the Azure Monitor workspace."""
    return dict(
        kind="Linux",
        description="Managed Prometheus: the AKS metrics add-on -> the Azure Monitor workspace.",
        data_collection_endpoint_id=data_collection_endpoint_id,
        data_sources=monitor.DataCollectionRuleDataSourcesArgs(
            prometheus_forwarder=[
                monitor.PrometheusForwarderDataSourceArgs(
                    name=azure_ids.PROMETHEUS_DATA_SOURCE, streams=[azure_ids.PROMETHEUS_STREAM]
                )
            ]
        ),
        destinations=monitor.DataCollectionRuleDestinationsArgs(
            monitoring_accounts=[
                monitor.MonitoringAccountDestinationArgs(
                    name=azure_ids.PROMETHEUS_DESTINATION, account_resource_id=monitor_workspace_id
                )
            ]
        ),
        data_flows=[
            monitor.DataFlowArgs(
                streams=[azure_ids.PROMETHEUS_STREAM], destinations=[azure_ids.PROMETHEUS_DESTINATION]
            )
        ],
    )


def container_insights_rule_args(
    insights: ContainerInsightsArgs, log_analytics_workspace_id: pulumi.Input[str]
) -> dict[str, object]:
    """The `MSCI-` DCR body: ContainerLogV2, events and pod inventory -> Log Analytics."""
    streams = list(azure_ids.CONTAINER_INSIGHTS_STREAMS)
    return dict(
        kind="Linux",
        description="Container Insights (ContainerLogV2, events, pod inventory) -> Log Analytics.",
        data_sources=monitor.DataCollectionRuleDataSourcesArgs(
            extensions=[
                monitor.ExtensionDataSourceArgs(
                    name=azure_ids.CONTAINER_INSIGHTS_DATA_SOURCE,
                    extension_name=azure_ids.CONTAINER_INSIGHTS_EXTENSION,
                    streams=streams,
                    extension_settings=container_insights_extension_settings(insights),
                )
            ]
        ),
        destinations=monitor.DataCollectionRuleDestinationsArgs(
            log_analytics=[
                monitor.LogAnalyticsDestinationArgs(
                    name=azure_ids.CONTAINER_INSIGHTS_DESTINATION,
                    workspace_resource_id=log_analytics_workspace_id,
                )
            ]
        ),
        data_flows=[
            monitor.DataFlowArgs(streams=streams, destinations=[azure_ids.CONTAINER_INSIGHTS_DESTINATION])
        ],
    )


LOG_ANALYTICS_LOG_CATEGORIES = ("Audit",)
"""Default `diagnostics` category of the workspace itself: its query audit (`LAQueryLogs`)."""


class Observability(pulumi.ComponentResource):
    """Everything Azure Monitor needs before the cluster exists (see the module docstring)."""

    log_analytics_workspace_id: pulumi.Output[str]
    """Resource id of the Log Analytics workspace (the `diagnostics` target of the other components)."""
    app_insights_id: pulumi.Output[str]
    app_insights_connection_string: pulumi.Output[str]
    """Secret."""
    app_insights_instrumentation_key: pulumi.Output[str]
    """Secret."""
    monitor_workspace_id: pulumi.Output[str]
    """Resource id of the Azure Monitor workspace (managed Prometheus)."""
    prometheus_query_endpoint: pulumi.Output[str]
    data_collection_endpoint_id: pulumi.Output[str]
    prometheus_rule_id: pulumi.Output[str]
    container_insights_rule_id: pulumi.Output[str]
    action_group_id: pulumi.Output[str]
    grafana_endpoint: pulumi.Output[str]
    """Empty without Grafana."""

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:index:Observability", name, None, opts)
        validate_observability_args(args)
        self._name, self._args = name, args
        self._child = pulumi.ResourceOptions(parent=self)
        self._tags = resource_tags(args.tags)

        self._logs_and_traces()
        self._managed_prometheus()
        self._container_insights()
        self._action_group()
        subscription_id = args.subscription_id or subscription_of(self.monitor_workspace.id)
        self.role_assignments: list[pulumi.Resource] = []
        self.grafana: dashboard.Grafana | None = None
        self.grafana_endpoint = pulumi.Output.from_input("")
        if args.grafana is not None:
            self._grafana(args.grafana, subscription_id)
        self._uniform_knobs(subscription_id)

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

    def _logs_and_traces(self) -> None:
        name, args = self._name, self._args
        self.log_analytics_workspace = operationalinsights.Workspace(
            f"{name}-logs",
            operationalinsights.WorkspaceArgs(
                workspace_name=args.names.log_analytics_workspace,
                sku=operationalinsights.WorkspaceSkuArgs(
                    name=LogAnalyticsSku(args.log_analytics_sku).value,
                    capacity_reservation_level=args.capacity_reservation_gb_per_day,
                ),
                retention_in_days=args.log_retention_days,
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=self._tags,
            ),
            opts=self._child,
        )
        self.log_analytics_workspace_id = self.log_analytics_workspace.id

        # Workspace-based: classic (standalone) Application Insights is retired. Keyword arguments,
        # not ComponentArgs: the SDK's args path passes `resource_name` twice (azure-native 3.29).
        self.app_insights = applicationinsights.Component(
            f"{name}-appinsights",
            resource_name_=args.names.application_insights,
            kind="web",
            application_type="web",
            workspace_resource_id=self.log_analytics_workspace.id,
            ingestion_mode="LogAnalytics",
            sampling_percentage=args.app_insights_sampling_percentage,
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=self._tags,
            opts=pulumi.ResourceOptions(
                parent=self, additional_secret_outputs=["connectionString", "instrumentationKey"]
            ),
        )
        self.app_insights_id = self.app_insights.id
        self.app_insights_connection_string = pulumi.Output.secret(self.app_insights.connection_string)
        self.app_insights_instrumentation_key = pulumi.Output.secret(self.app_insights.instrumentation_key)

    def _managed_prometheus(self) -> None:
        name, args = self._name, self._args
        self.monitor_workspace = monitor.AzureMonitorWorkspace(
            f"{name}-prometheus",
            monitor.AzureMonitorWorkspaceArgs(
                azure_monitor_workspace_name=args.names.monitor_workspace,
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=self._tags,
            ),
            opts=self._child,
        )
        self.monitor_workspace_id = self.monitor_workspace.id
        self.prometheus_query_endpoint = self.monitor_workspace.metrics.apply(
            lambda metrics: metrics.prometheus_query_endpoint if metrics else ""
        )
        self.data_collection_endpoint = monitor.DataCollectionEndpoint(
            f"{name}-dce",
            monitor.DataCollectionEndpointArgs(
                data_collection_endpoint_name=args.names.data_collection_endpoint,
                kind="Linux",
                description="Endpoint of the AKS metrics add-on (managed Prometheus) and its configuration.",
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=self._tags,
            ),
            opts=self._child,
        )
        self.data_collection_endpoint_id = self.data_collection_endpoint.id
        self.prometheus_rule = monitor.DataCollectionRule(
            f"{name}-prometheus-dcr",
            monitor.DataCollectionRuleArgs(
                data_collection_rule_name=args.names.prometheus_rule,
                **prometheus_collection_rule_args(
                    self.monitor_workspace.id, self.data_collection_endpoint.id
                ),  # type: ignore[arg-type]
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=self._tags,
            ),
            opts=self._child,
        )
        self.prometheus_rule_id = self.prometheus_rule.id

    def _container_insights(self) -> None:
        name, args = self._name, self._args
        self.container_insights_rule = monitor.DataCollectionRule(
            f"{name}-container-insights-dcr",
            monitor.DataCollectionRuleArgs(
                data_collection_rule_name=args.names.container_insights_rule,
                **container_insights_rule_args(args.container_insights, self.log_analytics_workspace.id),  # type: ignore[arg-type]
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=self._tags,
            ),
            opts=self._child,
        )
        self.container_insights_rule_id = self.container_insights_rule.id

    def _action_group(self) -> None:
        name, args = self._name, self._args
        self.action_group = monitor.ActionGroup(
            f"{name}-action-group",
            monitor.ActionGroupInitArgs(
                action_group_name=args.names.action_group,
                group_short_name=args.names.action_group_short,
                enabled=True,
                location="Global",
                resource_group_name=args.resource_group_name,
                email_receivers=[
                    monitor.MicrosoftCommonEmailReceiverArgs(
                        name=email_receiver_name(index, email),
                        email_address=email,
                        use_common_alert_schema=True,
                    )
                    for index, email in enumerate(args.alert_emails)
                ],
                tags=self._tags,
            ),
            opts=self._child,
        )
        self.action_group_id = self.action_group.id

    def _grafana(self, grafana: GrafanaArgs, subscription_id: pulumi.Input[str]) -> None:
        name, args, child = self._name, self._args, self._child
        self.grafana = dashboard.Grafana(
            f"{name}-grafana",
            dashboard.GrafanaArgs(
                workspace_name=args.names.grafana,
                sku=dashboard.ResourceSkuArgs(name=GrafanaSku(grafana.sku).value),
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
                tags=self._tags,
            ),
            opts=child,
        )
        self.grafana_endpoint = self.grafana.properties.apply(lambda p: (p.endpoint or "") if p else "")
        grafana_principal = self.grafana.identity.apply(lambda i: i.principal_id if i else "")
        # (logical name suffix, scope, principal, role, principal type): Grafana queries the workspace with
        # its own identity (Azure Monitor: "Use Azure Monitor managed service for Prometheus as data source
        # for Grafana using managed system identity"); viewers read both, admins administer Grafana.
        grants: list[tuple[str, pulumi.Input[str], pulumi.Input[str], str, PrincipalType]] = [
            (
                "grafana-monitoring-data-reader",
                self.monitor_workspace.id,
                grafana_principal,
                azure_ids.MONITORING_DATA_READER,
                PrincipalType.SERVICE_PRINCIPAL,
            )
        ]
        for index, group in enumerate(grafana.viewer_group_object_ids):
            grants.append(
                (
                    f"viewers-{index}-grafana-viewer",
                    self.grafana.id,
                    group,
                    azure_ids.GRAFANA_VIEWER,
                    PrincipalType.GROUP,
                )
            )
            grants.append(
                (
                    f"viewers-{index}-monitoring-data-reader",
                    self.monitor_workspace.id,
                    group,
                    azure_ids.MONITORING_DATA_READER,
                    PrincipalType.GROUP,
                )
            )
        for index, group in enumerate(grafana.admin_group_object_ids):
            grants.append(
                (
                    f"admins-{index}-grafana-admin",
                    self.grafana.id,
                    group,
                    azure_ids.GRAFANA_ADMIN,
                    PrincipalType.GROUP,
                )
            )
        for suffix, scope, principal, role, principal_type in grants:
            self.role_assignments.append(
                role_assignment(
                    f"{name}-{suffix}",
                    scope=scope,
                    assignment=RoleAssignmentArgs(
                        principal_id=principal,
                        role_definition_id=role,
                        principal_type=principal_type,
                        description="Managed Grafana reads managed Prometheus."
                        if suffix.startswith("grafana-")
                        else "",
                    ),
                    subscription_id=subscription_id,
                    opts=child,
                )
            )

    def _uniform_knobs(self, subscription_id: pulumi.Input[str]) -> None:
        """`role_assignments` and `diagnostics` on the Log Analytics workspace, `lock` on both workspaces."""
        name, args, child = self._name, self._args, self._child
        workspace = self.log_analytics_workspace
        self.role_assignments += role_assignments(
            name,
            scope=workspace.id,
            assignments=args.role_assignments,
            subscription_id=subscription_id,
            opts=child,
        )
        self.diagnostic_setting = diagnostic_settings(
            f"{name}-diagnostics",
            resource_id=workspace.id,
            diagnostics=args.diagnostics,
            default_categories=LOG_ANALYTICS_LOG_CATEGORIES,
            opts=child,
        )
        self.locks = [
            lock
            for lock in (
                management_lock(f"{name}-logs-lock", scope=workspace.id, level=args.lock, opts=child),
                management_lock(
                    f"{name}-prometheus-lock", scope=self.monitor_workspace.id, level=args.lock, opts=child
                ),
            )
            if lock is not None
        ]


# ---------------------------------------------------------------------------------------------------
# ClusterMonitoring (after the cluster)
# ---------------------------------------------------------------------------------------------------


@dataclass
class AlertThresholdsArgs:
    """Thresholds of the gRPC alert rules (Prometheus alert rules on the Azure Monitor workspace)."""

    pod_restarts: int = 3
    """Container restarts within 15 minutes that fire the pod-restart alert."""
    grpc_error_ratio: float = 0.05
    """Share of gRPC calls failing with a server-side status over 5 minutes that fires the error alert."""
    grpc_p99_latency_ms: int = 500
    """p99 server-side gRPC latency in milliseconds (5 minutes) that fires the latency alert."""
    hpa_max_replicas_minutes: int = 15
    """Minutes an HPA may sit at its maximum replica count before the alert fires."""
    severity: int = 2
    """Azure alert severity of the gRPC alerts (0 critical ... 4 verbose)."""


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
    resource_group_name: pulumi.Input[str]
    """Resource group of the rule groups."""
    location: pulumi.Input[str]
    """Region of the rule groups (the Azure Monitor workspace's region)."""
    workload_namespaces: list[str] = field(default_factory=list)
    """Namespaces of the gRPC workloads: alert scope and pod-annotation scraping (at least one)."""
    workload_services: dict[str, str] = field(default_factory=dict)
    """Namespace -> name of the gRPC service that owns it (`GrpcService.service_name`): the alerts'
    `service` label. A namespace without an entry is labelled with the namespace itself."""
    alerts: AlertThresholdsArgs = field(default_factory=AlertThresholdsArgs)
    tags: dict[str, str] = field(default_factory=dict)
    """Tags of the rule groups."""


def validate_cluster_monitoring_args(args: ClusterMonitoringArgs) -> None:
    """Reject args that would produce broken rules or scrape config, naming the field."""
    if not args.workload_namespaces:
        raise ValueError("ClusterMonitoringArgs.workload_namespaces: give at least one namespace")
    for namespace in args.workload_namespaces:
        if len(namespace) > 63 or not _DNS_LABEL.fullmatch(namespace):
            raise ValueError(f"ClusterMonitoringArgs.workload_namespaces: {namespace!r} is not a DNS label")
    for namespace, service in args.workload_services.items():
        if namespace not in args.workload_namespaces:
            raise ValueError(
                f"ClusterMonitoringArgs.workload_services: {namespace!r} is not in workload_namespaces"
            )
        if not service:
            raise ValueError(
                f"ClusterMonitoringArgs.workload_services: {namespace!r} has an empty service name"
            )
    if not isinstance(args.alerts, AlertThresholdsArgs):
        raise ValueError("ClusterMonitoringArgs.alerts must be an AlertThresholdsArgs")
    a = args.alerts
    validate_alert_thresholds(
        pod_restarts=a.pod_restarts,
        grpc_error_ratio=a.grpc_error_ratio,
        grpc_p99_latency_ms=a.grpc_p99_latency_ms,
        hpa_max_replicas_minutes=a.hpa_max_replicas_minutes,
        severity=a.severity,
    )
    validate_uniform_knobs(tags=args.tags, lock=None, role_assignments=[], diagnostics=None)


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


def rule_groups_of(args: ClusterMonitoringArgs) -> list[RuleGroup]:
    """Azure's recording rule groups plus the gRPC alerts for the workload namespaces."""
    a = args.alerts
    return [
        *RECORDING_RULE_GROUPS,
        grpc_alert_rules(
            args.workload_namespaces,
            pod_restarts=a.pod_restarts,
            grpc_error_ratio=a.grpc_error_ratio,
            grpc_p99_latency_ms=a.grpc_p99_latency_ms,
            hpa_max_replicas_minutes=a.hpa_max_replicas_minutes,
            severity=a.severity,
            services=args.workload_services,
        ),
    ]


class ClusterMonitoring(pulumi.ComponentResource):
    """Prometheus rule groups and scrape configuration of one cluster (see the module docstring).

    `opts.provider` (or `opts.providers`) is the cluster's Kubernetes provider; `opts.depends_on` is
    what the Kubernetes objects wait for (`AksCluster.kubernetes_ready`).
    """

    def __init__(
        self, name: str, args: ClusterMonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:index:ClusterMonitoring", name, None, opts)
        validate_cluster_monitoring_args(args)
        tags = resource_tags(args.tags)
        self.rule_groups: dict[str, alertsmanagement.PrometheusRuleGroup] = {}
        for group in rule_groups_of(args):
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
                    tags=tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        # The Kubernetes provider comes from the parent (this component's opts); the wait is passed on.
        k8s_opts = pulumi.ResourceOptions(parent=self, depends_on=depends_on_of(opts))
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
        self.register_outputs({"ruleGroupIds": {kind: group.id for kind, group in self.rule_groups.items()}})
