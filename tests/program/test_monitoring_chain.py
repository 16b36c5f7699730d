"""The whole program: managed Prometheus and Container Insights wired end to end, secrets kept secret.

"Metrics enabled, but no data" comes from one broken link in a chain of resources; these tests walk
the chain in the offline plan of every stack, across component boundaries (Observability -> AksCluster
-> ClusterMonitoring -> SecretStore).
"""

from pathlib import Path

import pytest
import yaml

from components import azure_ids
from tests.conftest import PLANNED_STACKS
from tools.mock_engine import SECRET_PLACEHOLDER, SUBSCRIPTION_ID
from tools.offline_plan import PLACEHOLDER, plan_stack

DCR = "azure-native:monitor:DataCollectionRule"
DCRA = "azure-native:monitor:DataCollectionRuleAssociation"


def arm_id(resource, provider_type: str, name_key: str) -> str:
    inputs = resource.inputs
    return (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{inputs['resourceGroupName']}/providers/"
        f"{provider_type}/{inputs[name_key]}"
    )


def cluster_id(plan) -> str:
    cluster = plan.one("azure-native:containerservice:ManagedCluster")
    return arm_id(cluster, "Microsoft.ContainerService/managedClusters", "resourceName")


def rule(plan, name: str):
    return plan.one(DCR, name)


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_every_data_collection_rule_flows_declared_streams_to_declared_destinations(stack, stack_plan):
    plan = stack_plan(stack)
    rules = plan.of_type(DCR)
    assert len(rules) == 2
    for dcr in rules:
        sources = dcr.inputs["dataSources"]
        declared_streams = {s for kind in sources.values() for source in kind for s in source["streams"]}
        destinations = {d["name"] for kind in dcr.inputs["destinations"].values() for d in kind}
        for flow in dcr.inputs["dataFlows"]:
            assert set(flow["streams"]) <= declared_streams, dcr.name
            assert set(flow["destinations"]) <= destinations, dcr.name
        assert declared_streams <= {s for flow in dcr.inputs["dataFlows"] for s in flow["streams"]}, dcr.name


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_prometheus_chain_reaches_the_monitor_workspace(stack, stack_plan):
    plan = stack_plan(stack)
    workspace = plan.one("azure-native:monitor:AzureMonitorWorkspace")
    prometheus = rule(plan, "monitoring-prometheus-dcr").inputs
    assert prometheus["dataSources"]["prometheusForwarder"][0]["streams"] == [azure_ids.PROMETHEUS_STREAM]
    (account,) = prometheus["destinations"]["monitoringAccounts"]
    assert account == {
        "name": azure_ids.PROMETHEUS_DESTINATION,
        "accountResourceId": arm_id(workspace, "Microsoft.Monitor/accounts", "azureMonitorWorkspaceName"),
    }
    endpoint = plan.one("azure-native:monitor:DataCollectionEndpoint")
    assert len(endpoint.inputs["dataCollectionEndpointName"]) <= 44
    assert prometheus["dataCollectionEndpointId"] == arm_id(
        endpoint, "Microsoft.Insights/dataCollectionEndpoints", "dataCollectionEndpointName"
    )


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_rules_and_endpoint_are_associated_with_the_cluster(stack, stack_plan):
    """AksCluster creates the associations from Observability's ids (the cluster engineer's wiring)."""
    plan = stack_plan(stack)
    associations = plan.of_type(DCRA)
    assert associations, "no data collection rule association: AksCluster is not given Observability's ids"
    assert {a.inputs["resourceUri"] for a in associations} == {cluster_id(plan)}
    by_rule = {a.inputs.get("dataCollectionRuleId"): a.inputs for a in associations}
    for name in ("monitoring-prometheus-dcr", "monitoring-container-insights-dcr"):
        expected = arm_id(
            rule(plan, name), "Microsoft.Insights/dataCollectionRules", "dataCollectionRuleName"
        )
        assert expected in by_rule, f"{name} is not associated with the cluster"
    endpoint = plan.one("azure-native:monitor:DataCollectionEndpoint")
    (dce_association,) = [a.inputs for a in associations if a.inputs.get("dataCollectionEndpointId")]
    assert dce_association["associationName"] == azure_ids.CONFIGURATION_ACCESS_ENDPOINT
    assert dce_association["dataCollectionEndpointId"] == arm_id(
        endpoint, "Microsoft.Insights/dataCollectionEndpoints", "dataCollectionEndpointName"
    )


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_cluster_sends_metrics_and_container_logs_to_the_stack_workspaces(stack, stack_plan):
    plan = stack_plan(stack)
    cluster = plan.one("azure-native:containerservice:ManagedCluster").inputs
    workspace = plan.one("azure-native:operationalinsights:Workspace")
    assert cluster["azureMonitorProfile"]["metrics"]["enabled"] is True
    omsagent = cluster["addonProfiles"][azure_ids.ADDON_MONITORING]
    assert omsagent["enabled"] is True
    assert omsagent["config"]["useAADAuth"] == "true"
    assert omsagent["config"]["logAnalyticsWorkspaceResourceID"] == arm_id(
        workspace, "Microsoft.OperationalInsights/workspaces", "workspaceName"
    )


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_rule_groups_are_scoped_to_the_workspace_and_the_cluster(stack, stack_plan):
    plan = stack_plan(stack)
    workspace = plan.one("azure-native:monitor:AzureMonitorWorkspace")
    groups = plan.of_type("azure-native:alertsmanagement:PrometheusRuleGroup")
    assert len(groups) == 4
    cluster_name = plan.one("azure-native:containerservice:ManagedCluster").inputs["resourceName"]
    for group in groups:
        assert group.inputs["scopes"] == [
            arm_id(workspace, "Microsoft.Monitor/accounts", "azureMonitorWorkspaceName"),
            cluster_id(plan),
        ]
        assert group.inputs["clusterName"] == cluster_name


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_connection_string_is_secret_in_inputs_and_outputs(stack, stack_plan):
    plan = stack_plan(stack)
    assert plan.outputs["appInsightsConnectionString"] == SECRET_PLACEHOLDER
    secret = plan.one("azure-native:keyvault:Secret", "secrets-secret-appinsights-connection-string")
    assert secret.inputs["properties"] == SECRET_PLACEHOLDER
    assert secret.secret_inputs()["properties"]["value"].startswith("InstrumentationKey=")
    assert (
        plan.outputs["keyVaultSecretNames"]["appinsights-connection-string"]
        == "appinsights-connection-string"
    )


def test_grafana_runs_in_prod_only(stack_plan):
    assert len(stack_plan("prod").of_type("azure-native:dashboard:Grafana")) == 1
    assert stack_plan("dev").of_type("azure-native:dashboard:Grafana") == []


def test_secret_declared_in_config_is_written_from_its_encrypted_value(tmp_path: Path):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    document = yaml.safe_load((Path(__file__).parents[2] / "stacks" / "Pulumi.dev.yaml").read_text())
    document["config"]["aks-grpc:keyVault"] = {"secrets": ["db-password"]}
    document["config"]["aks-grpc:secrets"] = {"db-password": {"secure": "v1:AAAAfakeciphertext"}}
    stack_file.write_text(yaml.safe_dump(document))
    plan = plan_stack("dev", stack_file)
    secret = plan.one("azure-native:keyvault:Secret", "secrets-secret-db-password")
    assert secret.inputs["properties"] == SECRET_PLACEHOLDER
    assert secret.secret_inputs()["properties"]["value"] == PLACEHOLDER
    assert plan.outputs["keyVaultSecretNames"]["db-password"] == "db-password"
    assert PLACEHOLDER not in repr([r.inputs for r in plan.resources]) + repr(plan.outputs)
