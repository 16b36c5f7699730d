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
from components.common import diagnostic_setting, validate_diagnostic_categories
from components.monitoring import (
    ClusterMonitoring,
    ClusterMonitoringArgs,
    Observability,
    ObservabilityArgs,
    validate_cluster_monitoring_args,
    validate_observability_args,
)
from components.naming import RULES, StackNames, deterministic_guid
from components.prometheus_rules import RECORDING_RULE_GROUPS
from components.settings import MonitoringSettings
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


def monitoring_settings(**overrides) -> MonitoringSettings:
    return MonitoringSettings.model_validate(
        {
            "logRetentionDays": 90,
            "alertEmails": ["oncall@example.com", "team.lead@example.org"],
            "containerInsights": {
                "namespaceFilteringMode": "Exclude",
                "namespaces": ["kube-system", "gatekeeper-system"],
            },
            **overrides,
        }
    )


def build_observability(settings: MonitoringSettings, names: StackNames = NAMES) -> Observability:
    observability = Observability(
        "monitoring",
        ObservabilityArgs(settings=settings, names=names, resource_group_name=RG, location="westeurope"),
    )
    pulumi.export("connectionString", observability.app_insights_connection_string)
    pulumi.export("instrumentationKey", observability.app_insights_instrumentation_key)
    pulumi.export("queryEndpoint", observability.prometheus_query_endpoint)
    return observability


@pytest.fixture
def plan(run_mocked):
    grafana = {"enabled": True, "viewerGroupObjectIds": VIEWERS, "adminGroupObjectIds": ADMINS}
    return run_mocked(lambda: build_observability(monitoring_settings(grafana=grafana)))


@pytest.fixture
def plan_without_grafana(run_mocked):
    return run_mocked(lambda: build_observability(monitoring_settings()))


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
    again = run_mocked(
        lambda: build_observability(
            monitoring_settings(
                grafana={"enabled": True, "viewerGroupObjectIds": VIEWERS, "adminGroupObjectIds": ADMINS}
            )
        )
    )
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
    component = plan.one("aksgrpc:monitoring:Observability")
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
        ObservabilityArgs(
            settings=MonitoringSettings(), names=names, resource_group_name=RG, location=location
        )
    )


def test_longest_stack_identity_registers_a_dce_name_within_44_characters(run_mocked):
    names = StackNames("abcdefghij", "abcdefgh", "a" + "b" * 30, SUBSCRIPTION_ID)
    plan = run_mocked(lambda: build_observability(monitoring_settings(), names))
    name = plan.one("azure-native:monitor:DataCollectionEndpoint").inputs["dataCollectionEndpointName"]
    assert len(name) <= 44 and not name.endswith("-")


def test_observability_args_are_validated_up_front():
    with pytest.raises(ValueError, match=r"ObservabilityArgs\.names"):
        validate_observability_args(
            ObservabilityArgs(
                settings=MonitoringSettings(), names="names", resource_group_name=RG, location="x"
            )  # type: ignore[arg-type]
        )


# ---------------------------------------------------------------------------------------------------
# ClusterMonitoring
# ---------------------------------------------------------------------------------------------------


def build_cluster_monitoring(namespaces=("grpc-greeter",)) -> ClusterMonitoring:
    provider = k8s.Provider("cluster-k8s", kubeconfig="{}")
    ready = pulumi.CustomResource("test:index:ClusterAdmin", "deployer-admin", {})
    return ClusterMonitoring(
        "cluster-monitoring",
        ClusterMonitoringArgs(
            cluster_id=CLUSTER_ID,
            cluster_name="aks-grpc-dev-weu",
            monitor_workspace_id=AMW_ID,
            action_group_id=ACTION_GROUP_ID,
            provider=provider,
            settings=monitoring_settings(
                alerts={"podRestarts": 5, "grpcErrorRatio": 0.02, "grpcP99LatencyMs": 250}
            ),
            resource_group_name=RG,
            location="westeurope",
            workload_namespaces=list(namespaces),
            kubernetes_ready=[ready],
        ),
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
                provider=None,  # type: ignore[arg-type]
                settings=MonitoringSettings(),
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
