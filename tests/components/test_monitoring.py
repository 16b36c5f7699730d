"""Observability and ClusterMonitoring under the mock engine: the exact inputs Azure and Kubernetes get."""

from pathlib import Path

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from components import azure_ids
from components.common import (
    DiagnosticsArgs,
    LockLevel,
    PrincipalType,
    RoleAssignmentArgs,
    diagnostic_setting,
    validate_diagnostic_categories,
)
from components.monitoring import (
    AlertThresholdsArgs,
    ClusterMonitoring,
    ClusterMonitoringArgs,
    ContainerInsightsArgs,
    GrafanaArgs,
    LogAnalyticsSku,
    NamespaceFilteringMode,
    Observability,
    ObservabilityArgs,
    ObservabilityNames,
    validate_alert_thresholds,
    validate_app_insights_sampling,
    validate_cluster_monitoring_args,
    validate_container_insights,
    validate_grafana,
    validate_log_analytics,
    validate_observability_args,
    validate_observability_names,
)
from components.naming import RULES, StackNames, deterministic_guid
from components.prometheus_rules import RECORDING_RULE_GROUPS
from program.adapters.monitoring import cluster_monitoring_args, observability_args, observability_names
from program.settings import MonitoringSettings
from tools.mock_engine import SECRET_PLACEHOLDER, SUBSCRIPTION_ID

NAMES = StackNames("grpc", "dev", "westeurope", SUBSCRIPTION_ID)
RG = "rg-grpc-dev-weu"
VIEWERS = ["11111111-2222-4333-8444-555555555555", "66666666-7777-4888-9999-aaaaaaaaaaaa"]
ADMINS = ["bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"]
RG_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RG}/providers"
CLUSTER_ID = f"{RG_ID}/Microsoft.ContainerService/managedClusters/aks-grpc-dev-weu"
AMW_ID = f"{RG_ID}/Microsoft.Monitor/accounts/amw-grpc-dev-weu"
ACTION_GROUP_ID = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RG}/providers/Microsoft.Insights/actionGroups/ag"
)


WORKSPACE_ID = f"{RG_ID}/Microsoft.OperationalInsights/workspaces/log-grpc-dev-weu"
TEAM = "12345678-1234-4234-8234-123456789abc"
LOG_ANALYTICS_READER = "73c42c96-874c-492b-b04d-ab87d138a893"


def grafana_args() -> GrafanaArgs:
    return GrafanaArgs(viewer_group_object_ids=list(VIEWERS), admin_group_object_ids=list(ADMINS))


def monitoring_args(names: StackNames = NAMES, **overrides) -> ObservabilityArgs:
    values = dict(
        resource_group_name=RG,
        location="westeurope",
        names=observability_names(names),
        log_retention_days=90,
        alert_emails=["oncall@example.com", "team.lead@example.org"],
        container_insights=ContainerInsightsArgs(
            namespace_filtering_mode=NamespaceFilteringMode.EXCLUDE,
            namespaces=["kube-system", "gatekeeper-system"],
        ),
    )
    values.update(overrides)
    return ObservabilityArgs(**values)  # type: ignore[arg-type]


def build_observability(args: ObservabilityArgs) -> Observability:
    observability = Observability("monitoring", args)
    pulumi.export("connectionString", observability.app_insights_connection_string)
    pulumi.export("instrumentationKey", observability.app_insights_instrumentation_key)
    pulumi.export("queryEndpoint", observability.prometheus_query_endpoint)
    return observability


@pytest.fixture
def plan(run_mocked):
    return run_mocked(lambda: build_observability(monitoring_args(grafana=grafana_args())))


@pytest.fixture
def plan_without_grafana(run_mocked):
    return run_mocked(lambda: build_observability(monitoring_args()))


def test_log_analytics_workspace_keeps_logs_for_the_configured_days(plan):
    workspace = plan.one("azure-native:operationalinsights:Workspace").inputs
    assert workspace["workspaceName"] == "log-grpc-dev-weu"
    assert workspace["retentionInDays"] == 90
    assert workspace["sku"] == {"name": "PerGB2018"}
    assert workspace["resourceGroupName"] == RG and workspace["location"] == "westeurope"


def test_application_insights_is_workspace_based_and_its_keys_are_secret(plan):
    component = plan.one("azure-native:applicationinsights:Component")
    workspace = plan.one("azure-native:operationalinsights:Workspace")
    assert component.inputs["kind"] == "web"
    assert component.inputs["ingestionMode"] == "LogAnalytics"
    assert component.inputs["resourceName"] == "appi-grpc-dev-weu"
    assert component.inputs["workspaceResourceId"].endswith("/workspaces/log-grpc-dev-weu")
    assert workspace.urn in component.dependencies
    assert plan.outputs["connectionString"] == SECRET_PLACEHOLDER
    assert plan.outputs["instrumentationKey"] == SECRET_PLACEHOLDER
    assert plan.raw_outputs["connectionString"] is not None


def test_azure_monitor_workspace_and_endpoint_names_fit_azure(plan):
    workspace = plan.one("azure-native:monitor:AzureMonitorWorkspace").inputs
    endpoint = plan.one("azure-native:monitor:DataCollectionEndpoint").inputs
    assert workspace["azureMonitorWorkspaceName"] == "amw-grpc-dev-weu"
    assert endpoint["dataCollectionEndpointName"] == "dce-grpc-dev-weu"
    assert endpoint["kind"] == "Linux"
    assert plan.outputs["queryEndpoint"].startswith("https://amw-grpc-dev-weu")


def test_prometheus_rule_forwards_the_metrics_stream_to_the_monitor_workspace(plan):
    rule = plan.one("azure-native:monitor:DataCollectionRule", "monitoring-prometheus-dcr")
    inputs = rule.inputs
    endpoint = plan.one("azure-native:monitor:DataCollectionEndpoint")
    workspace = plan.one("azure-native:monitor:AzureMonitorWorkspace")
    assert inputs["dataCollectionEndpointId"].endswith("/dataCollectionEndpoints/dce-grpc-dev-weu")
    assert {endpoint.urn, workspace.urn} <= set(rule.dependencies)
    assert inputs["dataSources"] == {
        "prometheusForwarder": [{"name": "PrometheusDataSource", "streams": ["Microsoft-PrometheusMetrics"]}]
    }
    assert inputs["destinations"] == {
        "monitoringAccounts": [{"name": "MonitoringAccount1", "accountResourceId": AMW_ID}]
    }
    assert inputs["dataFlows"] == [
        {"streams": ["Microsoft-PrometheusMetrics"], "destinations": ["MonitoringAccount1"]}
    ]


def test_container_insights_rule_is_msci_with_containerlogv2_and_namespace_filtering(plan):
    rule = plan.one("azure-native:monitor:DataCollectionRule", "monitoring-container-insights-dcr").inputs
    assert rule["dataCollectionRuleName"].startswith("MSCI-")
    assert RULES["data_collection_rule"].check(rule["dataCollectionRuleName"])
    (extension,) = rule["dataSources"]["extensions"]
    assert extension["extensionName"] == "ContainerInsights"
    assert "Microsoft-ContainerLogV2" in extension["streams"]
    assert extension["extensionSettings"] == {
        "dataCollectionSettings": {
            "interval": "1m",
            "namespaceFilteringMode": "Exclude",
            "namespaces": ["kube-system", "gatekeeper-system"],
            "enableContainerLogV2": True,
        }
    }
    (destination,) = rule["destinations"]["logAnalytics"]
    assert destination["workspaceResourceId"].endswith("/workspaces/log-grpc-dev-weu")
    (flow,) = rule["dataFlows"]
    assert flow == {"streams": extension["streams"], "destinations": [destination["name"]]}


def test_action_group_mails_every_configured_address_with_a_short_name(plan):
    group = plan.one("azure-native:monitor:ActionGroup").inputs
    assert group["groupShortName"] == "grpc-dev" and len(group["groupShortName"]) <= 12
    assert group["enabled"] is True and group["location"] == "Global"
    assert [r["emailAddress"] for r in group["emailReceivers"]] == [
        "oncall@example.com",
        "team.lead@example.org",
    ]
    assert len({r["name"] for r in group["emailReceivers"]}) == 2
    assert all(r["useCommonAlertSchema"] for r in group["emailReceivers"])


def test_grafana_integrates_the_monitor_workspace_with_its_own_identity(plan):
    grafana = plan.one("azure-native:dashboard:Grafana").inputs
    assert grafana["workspaceName"] == "amg-grpc-dev-weu"
    assert grafana["identity"] == {"type": "SystemAssigned"}
    assert grafana["sku"] == {"name": "Standard"}
    assert grafana["properties"]["grafanaIntegrations"] == {
        "azureMonitorWorkspaceIntegrations": [{"azureMonitorWorkspaceResourceId": AMW_ID}]
    }


def test_grafana_identity_and_viewer_groups_read_the_workspace(plan):
    assignments = {r.name: r.inputs for r in plan.of_type("azure-native:authorization:RoleAssignment")}
    grafana_reader = assignments["monitoring-grafana-monitoring-data-reader"]
    assert grafana_reader["scope"] == AMW_ID
    assert grafana_reader["roleDefinitionId"].endswith(azure_ids.MONITORING_DATA_READER)
    assert grafana_reader["principalType"] == "ServicePrincipal"
    for index, group in enumerate(VIEWERS):
        reader = assignments[f"monitoring-viewers-{index}-monitoring-data-reader"]
        viewer = assignments[f"monitoring-viewers-{index}-grafana-viewer"]
        assert reader["principalId"] == viewer["principalId"] == group
        assert reader["principalType"] == viewer["principalType"] == "Group"
        assert reader["scope"] == AMW_ID
        assert viewer["scope"].endswith("/Microsoft.Dashboard/grafana/amg-grpc-dev-weu")
        assert viewer["roleDefinitionId"].endswith(azure_ids.GRAFANA_VIEWER)
    admin = assignments["monitoring-admins-0-grafana-admin"]
    assert admin["principalId"] == ADMINS[0] and admin["roleDefinitionId"].endswith(azure_ids.GRAFANA_ADMIN)
    assert len(assignments) == 1 + 2 * len(VIEWERS) + len(ADMINS)


def test_role_assignment_names_are_deterministic_guids_of_scope_principal_and_role(plan, run_mocked):
    again = run_mocked(lambda: build_observability(monitoring_args(grafana=grafana_args())))
    first = {r.name: r.inputs for r in plan.of_type("azure-native:authorization:RoleAssignment")}
    second = {r.name: r.inputs for r in again.of_type("azure-native:authorization:RoleAssignment")}
    assert {n: i["roleAssignmentName"] for n, i in first.items()} == {
        n: i["roleAssignmentName"] for n, i in second.items()
    }
    for inputs in first.values():
        expected = deterministic_guid(inputs["scope"], inputs["principalId"], inputs["roleDefinitionId"])
        assert inputs["roleAssignmentName"] == expected


def test_without_grafana_there_is_no_grafana_and_no_role_assignment(plan_without_grafana):
    assert plan_without_grafana.of_type("azure-native:dashboard:Grafana") == []
    assert plan_without_grafana.of_type("azure-native:authorization:RoleAssignment") == []


def test_every_child_is_parented_to_the_component(plan):
    component = plan.one("aksgrpc:index:Observability")
    children = [r for r in plan.resources if r.type.startswith("azure-native:")]
    assert children and all(r.parent == component.urn for r in children)


@settings(max_examples=100, deadline=None)
@given(
    st.from_regex(r"[a-z][a-z0-9]{1,9}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9]{1,7}", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9]{2,30}", fullmatch=True),
)
def test_data_collection_endpoint_name_fits_44_characters_for_any_stack(workload, environment, location):
    names = StackNames(workload, environment, location, SUBSCRIPTION_ID)
    assert len(names.data_collection_endpoint) <= 44
    assert RULES["data_collection_endpoint"].check(names.data_collection_endpoint)
    validate_observability_args(
        ObservabilityArgs(resource_group_name=RG, location=location, names=observability_names(names))
    )


def test_longest_stack_identity_registers_a_dce_name_within_44_characters(run_mocked):
    names = StackNames("abcdefghij", "abcdefgh", "a" + "b" * 30, SUBSCRIPTION_ID)
    plan = run_mocked(lambda: build_observability(monitoring_args(names)))
    name = plan.one("azure-native:monitor:DataCollectionEndpoint").inputs["dataCollectionEndpointName"]
    assert len(name) <= 44 and not name.endswith("-")


def test_observability_args_are_validated_up_front():
    with pytest.raises(ValueError, match=r"ObservabilityArgs\.names"):
        validate_observability_args(
            ObservabilityArgs(names="names", resource_group_name=RG, location="x")  # type: ignore[arg-type]
        )


# ---------------------------------------------------------------------------------------------------
# ClusterMonitoring
# ---------------------------------------------------------------------------------------------------


def build_cluster_monitoring(namespaces=("grpc-greeter",), **overrides) -> ClusterMonitoring:
    provider = k8s.Provider("cluster-k8s", kubeconfig="{}")
    ready = pulumi.CustomResource("test:index:ClusterAdmin", "deployer-admin", {})
    return ClusterMonitoring(
        "cluster-monitoring",
        ClusterMonitoringArgs(
            cluster_id=CLUSTER_ID,
            cluster_name="aks-grpc-dev-weu",
            monitor_workspace_id=AMW_ID,
            action_group_id=ACTION_GROUP_ID,
            alerts=AlertThresholdsArgs(pod_restarts=5, grpc_error_ratio=0.02, grpc_p99_latency_ms=250),
            resource_group_name=RG,
            location="westeurope",
            workload_namespaces=list(namespaces),
            **overrides,
        ),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[ready]),
    )


@pytest.fixture
def cluster_plan(run_mocked):
    return run_mocked(build_cluster_monitoring)


def test_rule_groups_are_azures_recording_groups_plus_grpc_alerts(cluster_plan):
    groups = {
        r.inputs["ruleGroupName"]: r.inputs
        for r in cluster_plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
    }
    assert set(groups) == {
        "NodeRecordingRulesRuleGroup-aks-grpc-dev-weu",
        "KubernetesRecordingRulesRuleGroup-aks-grpc-dev-weu",
        "UXRecordingRulesRuleGroup-aks-grpc-dev-weu",
        "GrpcAlertRulesRuleGroup-aks-grpc-dev-weu",
    }
    for group in groups.values():
        assert group["scopes"] == [AMW_ID, CLUSTER_ID]
        assert group["clusterName"] == "aks-grpc-dev-weu"
        assert group["enabled"] is True and group["interval"] == "PT1M"
        assert group["location"] == "westeurope" and group["resourceGroupName"] == RG
    for upstream in RECORDING_RULE_GROUPS:
        rules = groups[f"{upstream.kind}-aks-grpc-dev-weu"]["rules"]
        assert [r["record"] for r in rules] == [r.record for r in upstream.rules]
        assert all("alert" not in r and "actions" not in r for r in rules)


def test_grpc_alerts_route_to_the_action_group_with_configured_thresholds(cluster_plan):
    group = cluster_plan.one(
        "azure-native:alertsmanagement:PrometheusRuleGroup", "cluster-monitoring-GrpcAlertRulesRuleGroup"
    )
    alerts = {r["alert"]: r for r in group.inputs["rules"]}
    assert set(alerts) == {
        "GrpcPodRestarting",
        "GrpcHpaAtMaxReplicas",
        "GrpcErrorRatioHigh",
        "GrpcLatencyP99High",
    }
    for alert in alerts.values():
        assert alert["actions"] == [{"actionGroupId": ACTION_GROUP_ID}]
        assert alert["severity"] == 2
        assert alert["resolveConfiguration"] == {"autoResolved": True, "timeToResolve": "PT10M"}
        assert 'namespace=~"grpc-greeter"' in alert["expression"]
    assert alerts["GrpcPodRestarting"]["expression"].endswith(">= 5")
    assert alerts["GrpcErrorRatioHigh"]["expression"].endswith("> 0.02")
    assert "istio_requests_total" in alerts["GrpcErrorRatioHigh"]["expression"]
    assert "grpc_response_status" in alerts["GrpcErrorRatioHigh"]["expression"]
    assert alerts["GrpcLatencyP99High"]["expression"].startswith("histogram_quantile(0.99,")
    assert "istio_request_duration_milliseconds_bucket" in alerts["GrpcLatencyP99High"]["expression"]
    assert alerts["GrpcLatencyP99High"]["expression"].endswith("> 250")
    assert alerts["GrpcHpaAtMaxReplicas"]["for"] == "PT15M"


def test_grpc_alerts_are_labelled_with_the_service_name_of_each_namespace(run_mocked):
    plan = run_mocked(
        lambda: build_cluster_monitoring(
            ("grpc-greeter", "shop-orders"),
            workload_services={"grpc-greeter": "greeter", "shop-orders": "orders"},
        )
    )
    group = plan.one(
        "azure-native:alertsmanagement:PrometheusRuleGroup", "cluster-monitoring-GrpcAlertRulesRuleGroup"
    )
    by_service: dict[str, list[str]] = {}
    for rule in group.inputs["rules"]:
        by_service.setdefault(rule["labels"]["service"], []).append(rule["expression"])
    assert sorted(by_service) == ["greeter", "orders"]
    assert all('namespace=~"grpc-greeter"' in e for e in by_service["greeter"])
    assert all('namespace=~"shop-orders"' in e for e in by_service["orders"])
    assert all(len(expressions) == 4 for expressions in by_service.values())


def test_grpc_alerts_without_a_service_name_are_labelled_with_the_namespace(cluster_plan):
    group = cluster_plan.one(
        "azure-native:alertsmanagement:PrometheusRuleGroup", "cluster-monitoring-GrpcAlertRulesRuleGroup"
    )
    assert {rule["labels"]["service"] for rule in group.inputs["rules"]} == {"grpc-greeter"}


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ({"grpc-orders": "orders"}, "workload_services: 'grpc-orders' is not in workload_namespaces"),
        ({"grpc-greeter": ""}, "workload_services: 'grpc-greeter' has an empty service name"),
    ],
)
def test_workload_services_name_the_services_of_the_workload_namespaces(services, message):
    with pytest.raises(ValueError, match=f"^ClusterMonitoringArgs.{message}"):
        validate_cluster_monitoring_args(
            ClusterMonitoringArgs(
                cluster_id=CLUSTER_ID,
                cluster_name="aks",
                monitor_workspace_id=AMW_ID,
                action_group_id=ACTION_GROUP_ID,
                resource_group_name=RG,
                location="westeurope",
                workload_namespaces=["grpc-greeter"],
                workload_services=services,
            )
        )


def test_scrape_configmaps_are_valid_kube_system_objects_through_the_cluster_provider(cluster_plan):
    provider = cluster_plan.one("pulumi:providers:kubernetes")
    ready = cluster_plan.one("test:index:ClusterAdmin")
    maps = {r.inputs["metadata"]["name"]: r for r in cluster_plan.of_type("kubernetes:core/v1:ConfigMap")}
    assert set(maps) == {"ama-metrics-settings-configmap", "ama-metrics-prometheus-config"}
    for resource in maps.values():
        assert resource.inputs["metadata"]["namespace"] == "kube-system"
        assert resource.provider == provider.urn
        assert ready.urn in resource.dependencies
        kubernetes_validate.validate(resource.inputs, "1.33", strict=True)
    settings_data = maps["ama-metrics-settings-configmap"].inputs["data"]
    assert settings_data["schema-version"] == "v1"
    assert settings_data["pod-annotation-based-scraping"] == 'podannotationnamespaceregex = "grpc-greeter"'
    config = yaml.safe_load(maps["ama-metrics-prometheus-config"].inputs["data"]["prometheus-config"])
    assert [job["job_name"] for job in config["scrape_configs"]] == ["istiod", "istio-ingressgateway-envoy"]


def test_cluster_monitoring_needs_a_workload_namespace():
    with pytest.raises(ValueError, match="workload_namespaces"):
        validate_cluster_monitoring_args(
            ClusterMonitoringArgs(
                cluster_id=CLUSTER_ID,
                cluster_name="aks",
                monitor_workspace_id=AMW_ID,
                action_group_id=ACTION_GROUP_ID,
                resource_group_name=RG,
                location="westeurope",
            )
        )


# ---------------------------------------------------------------------------------------------------
# The shared diagnostics helper (components/common.py)
# ---------------------------------------------------------------------------------------------------


def test_diagnostic_setting_sends_categories_groups_and_metrics_to_log_analytics(run_mocked):
    workspace = f"{RG_ID}/Microsoft.OperationalInsights/workspaces/log"
    plan = run_mocked(
        lambda: diagnostic_setting(
            "aks-diagnostics",
            resource_id=CLUSTER_ID,
            workspace_id=workspace,
            categories=["kube-audit-admin", "guard"],
            category_groups=["audit"],
        )
    )
    inputs = plan.one("azure-native:monitor:DiagnosticSetting").inputs
    assert inputs == {
        "name": "diag-log-analytics",
        "resourceUri": CLUSTER_ID,
        "workspaceId": workspace,
        "logAnalyticsDestinationType": "Dedicated",
        "logs": [
            {"category": "kube-audit-admin", "enabled": True},
            {"category": "guard", "enabled": True},
            {"categoryGroup": "audit", "enabled": True},
        ],
        "metrics": [{"category": "AllMetrics", "enabled": True}],
    }


@pytest.mark.parametrize(
    ("categories", "groups", "metrics", "message"),
    [
        ([], [], False, "at least one"),
        (["guard", "guard"], [], True, "guard listed more than once"),
        ("AuditEvent", [], True, "not one string"),
    ],
)
def test_diagnostic_setting_rejects_settings_azure_would_refuse(categories, groups, metrics, message):
    with pytest.raises(ValueError, match=message):
        validate_diagnostic_categories(categories, groups, metrics)


def test_prod_plan_gives_grafana_admin_to_the_configured_group(stack_plan):
    """Prod Grafana always has an administrator: the stack's admin group gets Grafana Admin on it."""
    stack = yaml.safe_load((Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.prod.yaml").read_text())[
        "config"
    ]
    groups = stack["aks-grpc:monitoring"]["grafana"]["adminGroupObjectIds"]
    plan = stack_plan("prod")
    grafana = plan.one("azure-native:dashboard:Grafana")
    admins = [
        r.inputs
        for r in plan.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["roleDefinitionId"].endswith(azure_ids.GRAFANA_ADMIN)
    ]
    assert [a["principalId"] for a in admins] == groups
    for admin in admins:
        assert admin["principalType"] == "Group"
        assert admin["scope"].endswith(f"/Microsoft.Dashboard/grafana/{grafana.inputs['workspaceName']}")


# ---------------------------------------------------------------------------------------------------
# Azure's rules as validate_* functions, and the uniform knobs on Observability / ClusterMonitoring
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retention", "sku", "capacity", "field"),
    [
        (29, LogAnalyticsSku.PER_GB_2018, None, "log_retention_days"),
        (731, LogAnalyticsSku.PER_GB_2018, None, "log_retention_days"),
        (30, "Free", None, "log_analytics_sku"),
        (30, LogAnalyticsSku.CAPACITY_RESERVATION, 150, "capacity_reservation_gb_per_day"),
        (30, LogAnalyticsSku.CAPACITY_RESERVATION, None, "capacity_reservation_gb_per_day"),
        (30, LogAnalyticsSku.PER_GB_2018, 100, "capacity_reservation_gb_per_day"),
    ],
)
def test_log_analytics_rules_refuse_what_azure_refuses(retention, sku, capacity, field):
    with pytest.raises(ValueError, match=f"^{field}: "):
        validate_log_analytics(retention, sku, capacity)


@pytest.mark.parametrize(
    ("retention", "sku", "capacity"),
    [(30, "PerGB2018", None), (730, LogAnalyticsSku.PER_GB_2018, None), (90, "CapacityReservation", 100)],
)
def test_log_analytics_rules_accept_azures_range(retention, sku, capacity):
    validate_log_analytics(retention, sku, capacity)


def test_commitment_tier_reaches_the_workspace_sku(run_mocked):
    plan = run_mocked(
        lambda: build_observability(
            monitoring_args(
                log_analytics_sku=LogAnalyticsSku.CAPACITY_RESERVATION, capacity_reservation_gb_per_day=200
            )
        )
    )
    workspace = plan.one("azure-native:operationalinsights:Workspace").inputs
    assert workspace["sku"] == {"name": "CapacityReservation", "capacityReservationLevel": 200}


@pytest.mark.parametrize("percentage", [0, -5, 100.5])
def test_app_insights_sampling_must_keep_some_and_at_most_all(percentage):
    with pytest.raises(ValueError, match=r"^app_insights_sampling_percentage: "):
        validate_app_insights_sampling(percentage)


def test_app_insights_sampling_reaches_the_component_only_when_set(run_mocked, plan):
    assert "samplingPercentage" not in plan.one("azure-native:applicationinsights:Component").inputs
    sampled = run_mocked(lambda: build_observability(monitoring_args(app_insights_sampling_percentage=25)))
    assert sampled.one("azure-native:applicationinsights:Component").inputs["samplingPercentage"] == 25
    validate_app_insights_sampling(None)
    validate_app_insights_sampling(100)


@pytest.mark.parametrize(
    ("interval", "mode", "namespaces", "message"),
    [
        ("0m", "Off", [], "interval"),
        ("31m", "Off", [], "interval"),
        ("1h", "Off", [], "interval"),
        ("1m", "Off", ["kube-system"], "namespaces: ignored"),
        ("1m", NamespaceFilteringMode.INCLUDE, [], "namespaces: Include needs"),
        ("1m", "Exclude", ["Kube_System"], "not a DNS label"),
    ],
)
def test_container_insights_rules_refuse_what_the_agent_cannot_do(interval, mode, namespaces, message):
    with pytest.raises(ValueError, match=f"^container_insights.*{message}"):
        validate_container_insights(interval, mode, namespaces)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"severity": 5}, "severity"),
        ({"severity": -1}, "severity"),
        ({"grpc_error_ratio": 1.0}, "grpc_error_ratio"),
        ({"grpc_error_ratio": 0}, "grpc_error_ratio"),
        ({"pod_restarts": 0}, "pod_restarts"),
        ({"grpc_p99_latency_ms": 0}, "grpc_p99_latency_ms"),
        ({"hpa_max_replicas_minutes": 0}, "hpa_max_replicas_minutes"),
    ],
)
def test_alert_thresholds_must_be_able_to_fire(overrides, field):
    values = {**vars(AlertThresholdsArgs()), **overrides}
    with pytest.raises(ValueError, match=f"^alerts.{field}: "):
        validate_alert_thresholds(**values)
    with pytest.raises(ValueError, match=f"alerts.{field}"):
        validate_cluster_monitoring_args(
            ClusterMonitoringArgs(
                cluster_id=CLUSTER_ID,
                cluster_name="aks",
                monitor_workspace_id=AMW_ID,
                action_group_id=ACTION_GROUP_ID,
                resource_group_name=RG,
                location="westeurope",
                workload_namespaces=["grpc-greeter"],
                alerts=AlertThresholdsArgs(**values),
            )
        )


@pytest.mark.parametrize(
    ("grafana", "message"),
    [
        (GrafanaArgs(major_version="eleven"), "major_version"),
        (GrafanaArgs(viewer_group_object_ids=["not-a-guid"]), "viewer_group_object_ids"),
        (GrafanaArgs(admin_group_object_ids=[ADMINS[0], ADMINS[0].upper()]), "admin_group_object_ids: lists"),
    ],
)
def test_grafana_args_are_checked(grafana, message):
    with pytest.raises(ValueError, match=f"^grafana.{message}"):
        validate_grafana(grafana)


@pytest.mark.parametrize(
    ("names", "field"),
    [
        (ObservabilityNames(action_group_short="far-too-long-a-name"), "action_group_short"),
        (ObservabilityNames(data_collection_endpoint="dce-" + "x" * 41), "data_collection_endpoint"),
        (ObservabilityNames(grafana="g"), "grafana"),
        (ObservabilityNames(log_analytics_workspace="log_bad"), "log_analytics_workspace"),
    ],
)
def test_given_names_must_fit_azures_naming_rules(names, field):
    with pytest.raises(ValueError, match=f"^names.{field}: "):
        validate_observability_names(names)


def test_observability_refuses_a_duplicate_alert_email():
    with pytest.raises(ValueError, match=r"^alert_emails: "):
        validate_observability_args(monitoring_args(alert_emails=["a@example.com", "A@example.com"]))


def test_default_names_are_left_to_pulumi_auto_naming(run_mocked):
    plan = run_mocked(
        lambda: Observability("obs", ObservabilityArgs(resource_group_name=RG, location="westeurope"))
    )
    assert "workspaceName" not in plan.one("azure-native:operationalinsights:Workspace").inputs
    assert plan.one("azure-native:monitor:ActionGroup").inputs["groupShortName"] == "alerts"
    assert plan.of_type("azure-native:dashboard:Grafana") == []


def test_lock_tags_roles_and_diagnostics_land_on_the_observability_resources(run_mocked):
    tags = {"team": "payments"}
    args = monitoring_args(
        tags=tags,
        lock=LockLevel.CAN_NOT_DELETE,
        role_assignments=[
            RoleAssignmentArgs(
                principal_id=TEAM, role_definition_id=LOG_ANALYTICS_READER, principal_type=PrincipalType.GROUP
            )
        ],
        diagnostics=DiagnosticsArgs(workspace_id=WORKSPACE_ID),
        grafana=grafana_args(),
    )
    plan = run_mocked(lambda: build_observability(args))
    tagged = {r.name: r.inputs["tags"] for r in plan.resources if "tags" in r.inputs}
    assert tagged == {
        f"monitoring-{suffix}": tags
        for suffix in (
            "logs",
            "appinsights",
            "prometheus",
            "dce",
            "prometheus-dcr",
            "container-insights-dcr",
            "action-group",
            "grafana",
        )
    }
    locks = {
        r.inputs["scope"]: r.inputs for r in plan.of_type("azure-native:authorization:ManagementLockByScope")
    }
    assert set(locks) == {WORKSPACE_ID, AMW_ID}
    assert all(lock["level"] == "CanNotDelete" for lock in locks.values())
    (team,) = [
        r.inputs
        for r in plan.of_type("azure-native:authorization:RoleAssignment")
        if r.name == "monitoring-ra-0"
    ]
    assert team["scope"] == WORKSPACE_ID and team["principalId"] == TEAM and team["principalType"] == "Group"
    assert team["roleDefinitionId"].endswith(f"/roleDefinitions/{LOG_ANALYTICS_READER}")
    diagnostics = plan.one("azure-native:monitor:DiagnosticSetting").inputs
    assert diagnostics["resourceUri"] == WORKSPACE_ID and diagnostics["workspaceId"] == WORKSPACE_ID
    assert diagnostics["logs"] == [{"category": "Audit", "enabled": True}]


def test_without_knobs_observability_sends_no_tags_lock_or_diagnostics(plan_without_grafana):
    assert all("tags" not in r.inputs for r in plan_without_grafana.resources)
    assert plan_without_grafana.of_type("azure-native:authorization:ManagementLockByScope") == []
    assert plan_without_grafana.of_type("azure-native:monitor:DiagnosticSetting") == []


def test_observability_refuses_bad_knobs_naming_them():
    with pytest.raises(ValueError, match=r"^lock: "):
        validate_observability_args(monitoring_args(lock="Frozen"))
    with pytest.raises(ValueError, match=r"^tags: "):
        validate_observability_args(monitoring_args(tags={"a/b": "x"}))
    with pytest.raises(ValueError, match=r"^role_assignments\[0\].role_definition_id: "):
        validate_observability_args(
            monitoring_args(
                role_assignments=[RoleAssignmentArgs(principal_id=TEAM, role_definition_id="Reader")]
            )
        )


def test_cluster_monitoring_tags_reach_the_rule_groups(run_mocked):
    plan = run_mocked(lambda: build_cluster_monitoring(tags={"team": "payments"}))
    groups = plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
    assert groups and all(g.inputs["tags"] == {"team": "payments"} for g in groups)


def test_cluster_monitoring_configmaps_take_the_provider_from_opts_providers(run_mocked):
    def program():
        provider = k8s.Provider("cluster-k8s", kubeconfig="{}")
        ClusterMonitoring(
            "cm",
            ClusterMonitoringArgs(
                cluster_id=CLUSTER_ID,
                cluster_name="aks",
                monitor_workspace_id=AMW_ID,
                action_group_id=ACTION_GROUP_ID,
                resource_group_name=RG,
                location="westeurope",
                workload_namespaces=["grpc-greeter"],
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )

    plan = run_mocked(program)
    provider = plan.one("pulumi:providers:kubernetes")
    maps = plan.of_type("kubernetes:core/v1:ConfigMap")
    assert len(maps) == 2 and all(m.provider == provider.urn for m in maps)
    rule_groups = plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
    assert all(g.provider != provider.urn for g in rule_groups)


# ---------------------------------------------------------------------------------------------------
# The program-side adapter (program/adapters/monitoring.py)
# ---------------------------------------------------------------------------------------------------


def test_adapter_maps_the_monitoring_settings_onto_the_args():
    settings = MonitoringSettings.model_validate(
        {
            "logRetentionDays": 60,
            "alertEmails": ["oncall@example.com"],
            "containerInsights": {
                "interval": "5m",
                "namespaceFilteringMode": "Include",
                "namespaces": ["app"],
            },
            "grafana": {"enabled": True, "sku": "Essential", "adminGroupObjectIds": ADMINS},
            "alerts": {"podRestarts": 7, "severity": 1},
        }
    )
    args = observability_args(settings, NAMES, resource_group_name=RG, location="westeurope")
    assert args.log_retention_days == 60 and args.alert_emails == ["oncall@example.com"]
    assert args.names.log_analytics_workspace == NAMES.log_analytics
    assert args.names.container_insights_rule == NAMES.container_insights_rule
    assert args.container_insights == ContainerInsightsArgs("5m", NamespaceFilteringMode.INCLUDE, ["app"])
    assert args.grafana is not None and args.grafana.sku == "Essential"
    assert args.grafana.admin_group_object_ids == ADMINS
    assert (
        observability_args(MonitoringSettings(), NAMES, resource_group_name=RG, location="x").grafana is None
    )
    cluster = cluster_monitoring_args(
        settings,
        cluster_id=CLUSTER_ID,
        cluster_name="aks",
        monitor_workspace_id=AMW_ID,
        action_group_id=ACTION_GROUP_ID,
        resource_group_name=RG,
        location="westeurope",
        workload_services={"grpc-greeter": "greeter", "grpc-orders": "orders"},
    )
    assert cluster.alerts == AlertThresholdsArgs(pod_restarts=7, severity=1)
    assert cluster.workload_namespaces == ["grpc-greeter", "grpc-orders"]
    assert cluster.workload_services == {"grpc-greeter": "greeter", "grpc-orders": "orders"}


@pytest.mark.parametrize("days", [29, 30, 365, 730, 731])
def test_settings_and_the_component_agree_on_log_retention(days):
    try:
        MonitoringSettings.model_validate({"logRetentionDays": days})
        settings_ok = True
    except ValueError:
        settings_ok = False
    try:
        validate_log_analytics(days, LogAnalyticsSku.PER_GB_2018, None)
        rule_ok = True
    except ValueError:
        rule_ok = False
    assert settings_ok == rule_ok


@pytest.mark.parametrize(("interval", "severity"), [("1m", 0), ("30m", 4), ("31m", 5), ("0m", -1), ("5m", 2)])
def test_settings_and_the_component_agree_on_interval_and_severity(interval, severity):
    def accepted(check) -> bool:
        try:
            check()
        except ValueError:
            return False
        return True

    assert accepted(
        lambda: MonitoringSettings.model_validate({"containerInsights": {"interval": interval}})
    ) == accepted(lambda: validate_container_insights(interval, "Off", []))
    assert accepted(
        lambda: MonitoringSettings.model_validate({"alerts": {"severity": severity}})
    ) == accepted(lambda: validate_alert_thresholds(**{**vars(AlertThresholdsArgs()), "severity": severity}))
