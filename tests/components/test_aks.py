"""AksCluster under the mock engine: the exact inputs Azure and the Kubernetes provider would receive."""

import dataclasses
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components import azure_ids
from components.aks import (
    CLUSTER_LOG_CATEGORIES,
    AksCluster,
    AksClusterArgs,
    ClusterEgress,
    ClusterEgressArgs,
    ClusterNetworkArgs,
    ClusterOutboundType,
    ClusterRegistryArgs,
    IstioMeshArgs,
    KubeloginMode,
    NodeOsDiskType,
    NodePool,
    NodePoolArgs,
    NodePoolComponentArgs,
    hashed_pool_name,
    os_disk_type,
    pool_create_only_settings,
    validate_aks_cluster_args,
)
from components.common import PrincipalType
from components.naming import StackNames
from components.node_pool import (
    default_system_pool,
    pool_profile_fields,
    system_pool_profile,
    validate_node_pool_args,
)
from program.adapters.cluster import LOGIN_MODE_ENV, cluster_args, node_pool_args
from program.adapters.deployer import deployer_principal_type
from program.settings import ClusterSettings
from tools import mock_engine
from tools.mock_engine import DEPLOYER_CLIENT_ID, DEPLOYER_OBJECT_ID, SUBSCRIPTION_ID, TENANT_ID, Plan

_DEFAULT_PLANS: dict[str, Plan] = {}
STACKS = Path(__file__).resolve().parents[2] / "stacks"
CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"
ROLE = "azure-native:authorization:RoleAssignment"
DCRA = "azure-native:monitor:DataCollectionRuleAssociation"
REGISTRY = "azure-native:containerregistry:Registry"
PROVIDER = "pulumi:providers:kubernetes"
WORKSPACE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/log"
PROMETHEUS_DCR = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/dcr-prom"
)
CI_DCR = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/MSCI-x"
DCE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionEndpoints/dce"


def stack_cluster_settings(stack: str) -> ClusterSettings:
    """The `aks-grpc:cluster` settings of a real stack file."""
    config = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
    return ClusterSettings.model_validate(config.get("aks-grpc:cluster", {}))


@pytest.fixture(autouse=True)
def _no_login_override(monkeypatch):
    monkeypatch.delenv(LOGIN_MODE_ENV, raising=False)


@pytest.fixture
def ignore_changes(monkeypatch) -> dict[str, list[str]]:
    """Logical name -> the `ignoreChanges` the engine receives (the recorder does not keep them)."""
    seen: dict[str, list[str]] = {}
    original = mock_engine.RecordingMonitor.RegisterResource

    def register(self: Any, request: Any) -> Any:
        seen[request.name] = list(request.ignoreChanges)
        return original(self, request)

    monkeypatch.setattr(mock_engine.RecordingMonitor, "RegisterResource", register)
    return seen


@pytest.fixture
def build(run_mocked) -> Callable[..., Plan]:
    """Build one AksCluster with the given settings and argument overrides; exports its outputs."""

    def run(
        settings: ClusterSettings | None = None,
        environment: str = "dev",
        fresh: bool = False,
        **overrides: Any,
    ) -> Plan:
        # The default dev/prod builds are shared between tests (each run costs ~1-2 s on CI's 2 cores).
        cacheable = settings is None and not overrides and not fresh and not os.environ.get(LOGIN_MODE_ENV)
        if cacheable and environment in _DEFAULT_PLANS:
            return _DEFAULT_PLANS[environment]

        def program() -> None:
            # The stack's settings through the program's adapter, then Args fields overridden directly.
            cluster_settings = settings or stack_cluster_settings(environment)
            args = cluster_args(
                cluster_settings,
                StackNames("grpc", environment, "westeurope", SUBSCRIPTION_ID),
                resource_group_name=f"rg-grpc-{environment}-weu",
                location="westeurope",
                subscription_id=SUBSCRIPTION_ID,
                tenant_id=TENANT_ID,
                deployer_object_id=DEPLOYER_OBJECT_ID,
                deployer_client_id=DEPLOYER_CLIENT_ID,
                environ=os.environ,
                log_analytics_workspace_id=WORKSPACE,
                prometheus_rule_id=PROMETHEUS_DCR,
                container_insights_rule_id=CI_DCR,
                data_collection_endpoint_id=DCE,
                diagnostics=WORKSPACE,
            )
            cluster = AksCluster("cluster", dataclasses.replace(args, **overrides))
            pulumi.export("clusterName", cluster.cluster_name)
            pulumi.export("clusterId", cluster.cluster_id)
            pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
            pulumi.export("kubeletIdentityObjectId", cluster.kubelet_identity_object_id)
            pulumi.export("kvClientId", cluster.key_vault_secrets_provider_client_id)
            pulumi.export("kvObjectId", cluster.key_vault_secrets_provider_object_id)
            pulumi.export("nodeResourceGroup", cluster.node_resource_group)
            pulumi.export("registryLoginServer", cluster.registry_login_server)
            pulumi.export("istioRevision", cluster.istio_revision)
            pulumi.export("kubernetesReady", [r.urn for r in cluster.kubernetes_ready])

        plan = run_mocked(program, stack=environment)
        if cacheable:
            _DEFAULT_PLANS[environment] = plan
        return plan

    return run


def _cluster(plan: Plan) -> dict[str, Any]:
    return plan.one(CLUSTER).inputs


def _by_name(plan: Plan, resource_type: str, name: str) -> dict[str, Any]:
    return plan.one(resource_type, name).inputs


ENVIRONMENTS = ["dev", "prod"]


# --- the managed cluster --------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_entra_id_with_azure_rbac_and_local_accounts_disabled(build, environment):
    settings = stack_cluster_settings(environment).model_copy(
        update={"admin_group_object_ids": ["11111111-1111-4111-8111-111111111111"]}
    )
    cluster = _cluster(build(settings, environment))
    assert cluster["aadProfile"] == {
        "managed": True,
        "enableAzureRBAC": True,
        "adminGroupObjectIDs": ["11111111-1111-4111-8111-111111111111"],
        "tenantID": TENANT_ID,
    }
    assert cluster["disableLocalAccounts"] is True
    assert cluster["enableRBAC"] is True


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_oidc_issuer_workload_identity_and_image_cleaner_are_on(build, environment):
    cluster = _cluster(build(environment=environment))
    assert cluster["oidcIssuerProfile"] == {"enabled": True}
    assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert cluster["securityProfile"]["imageCleaner"] == {"enabled": True, "intervalHours": 168}


def test_control_plane_identity_is_a_user_assigned_child(build):
    plan = build()
    identity = plan.one("azure-native:managedidentity:UserAssignedIdentity", "cluster-identity")
    assert identity.inputs["resourceName"] == "id-grpc-dev-weu-aks"
    assert identity.parent == plan.one("aksgrpc:index:AksCluster").urn
    cluster = _cluster(plan)
    assert cluster["identity"]["type"] == "UserAssigned"
    assert cluster["identity"]["userAssignedIdentities"] == [
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-grpc-dev-weu/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-grpc-dev-weu-aks"
    ]


@pytest.mark.parametrize(("environment", "tier"), [("dev", "Free"), ("prod", "Standard")])
def test_sku_tier_follows_the_stack(build, environment, tier):
    assert _cluster(build(environment=environment))["sku"] == {"name": "Base", "tier": tier}


def test_names_version_and_node_resource_group(build):
    cluster = _cluster(build(environment="prod"))
    assert cluster["resourceName"] == "aks-grpc-prod-weu"
    assert cluster["dnsPrefix"] == "aks-grpc-prod-weu"
    assert cluster["nodeResourceGroup"] == "rg-grpc-prod-weu-aks-nodes"
    assert cluster["kubernetesVersion"] == "1.36"
    assert cluster["supportPlan"] == "KubernetesOfficial"


def test_network_is_azure_cni_overlay_with_cilium(build):
    assert _cluster(build())["networkProfile"] == {
        "networkPlugin": "azure",
        "networkPluginMode": "overlay",
        "networkDataplane": "cilium",
        "networkPolicy": "cilium",
        "podCidr": "10.244.0.0/16",
        "serviceCidr": "10.0.0.0/16",
        "dnsServiceIP": "10.0.0.10",
        "outboundType": "loadBalancer",
        "loadBalancerSku": "standard",
    }


def test_api_server_authorized_ranges_and_run_command_from_settings(build):
    settings = ClusterSettings(authorized_ip_ranges=["203.0.113.0/24"], disable_run_command=True)
    assert _cluster(build(settings))["apiServerAccessProfile"] == {
        "enablePrivateCluster": False,
        "authorizedIPRanges": ["203.0.113.0/24"],
        "disableRunCommand": True,
    }


def test_private_cluster_sends_no_authorized_ranges(build):
    profile = _cluster(build(ClusterSettings(private_cluster=True)))["apiServerAccessProfile"]
    assert profile["enablePrivateCluster"] is True
    assert "authorizedIPRanges" not in profile


def test_upgrade_channel_and_node_os_channel_node_image(build):
    assert _cluster(build())["autoUpgradeProfile"] == {
        "upgradeChannel": "patch",
        "nodeOSUpgradeChannel": "NodeImage",
    }


def test_key_vault_csi_rotation_config_values_are_strings(build):
    addon = _cluster(build())["addonProfiles"]["azureKeyvaultSecretsProvider"]
    assert addon == {
        "enabled": True,
        "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"},
    }


def test_azure_policy_addon_is_enabled(build):
    assert _cluster(build())["addonProfiles"]["azurepolicy"] == {"enabled": True}


def test_container_insights_addon_uses_aad_auth_to_the_workspace(build):
    assert _cluster(build())["addonProfiles"]["omsagent"] == {
        "enabled": True,
        "config": {"logAnalyticsWorkspaceResourceID": WORKSPACE, "useAADAuth": "true"},
    }


def test_defender_uses_the_workspace_when_given(build):
    assert _cluster(build())["securityProfile"]["defender"] == {
        "logAnalyticsWorkspaceResourceId": WORKSPACE,
        "securityMonitoring": {"enabled": True},
    }


def test_without_a_workspace_there_is_no_defender_and_no_omsagent(build):
    cluster = _cluster(build(log_analytics_workspace_id=None))
    assert "defender" not in cluster["securityProfile"]
    assert "omsagent" not in cluster["addonProfiles"]


def test_managed_prometheus_metrics_are_enabled(build):
    assert _cluster(build())["azureMonitorProfile"] == {"metrics": {"enabled": True}}


@pytest.mark.parametrize("keda", [True, False])
def test_keda_addon_follows_the_workload_autoscaling_mode(build, keda):
    assert _cluster(build(keda_enabled=keda))["workloadAutoScalerProfile"] == {"keda": {"enabled": keda}}


def test_istio_service_mesh_profile_with_revisions_and_gateways(build):
    settings = ClusterSettings.model_validate(
        {
            "istio": {
                "revisions": ["asm-1-29", "asm-1-30"],
                "internalIngressGateway": True,
                "externalIngressGateway": False,
            }
        }
    )
    assert _cluster(build(settings))["serviceMeshProfile"] == {
        "mode": "Istio",
        "istio": {
            "revisions": ["asm-1-29", "asm-1-30"],
            "components": {
                "ingressGateways": [
                    {"enabled": False, "mode": "External"},
                    {"enabled": True, "mode": "Internal"},
                ]
            },
        },
    }


def test_istio_revision_attribute_is_the_active_revision(build):
    settings = ClusterSettings.model_validate(
        {"istio": {"revisions": ["asm-1-29", "asm-1-30"], "activeRevision": "asm-1-29"}}
    )
    assert build(settings).outputs["istioRevision"] == "asm-1-29"


# --- node pools -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "zones", "nodes"), [("dev", None, (1, 2)), ("prod", ["1", "2", "3"], (3, 5))]
)
def test_inline_pools_are_exactly_the_tainted_system_pool(build, environment, zones, nodes):
    (pool,) = _cluster(build(environment=environment))["agentPoolProfiles"]
    expected = {
        "name": "system",
        "mode": "System",
        "type": "VirtualMachineScaleSets",
        "vmSize": "Standard_D4ds_v5",
        "enableAutoScaling": True,
        "count": nodes[0],
        "minCount": nodes[0],
        "maxCount": nodes[1],
        "maxPods": 110,
        "osType": "Linux",
        "osSKU": "AzureLinux",
        "osDiskType": "Ephemeral",
        "osDiskSizeGB": 64,
        "enableEncryptionAtHost": True,
        "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"],
        "orchestratorVersion": "1.36",
        "upgradeSettings": {"maxSurge": "33%"},
    }
    if zones:
        expected["availabilityZones"] = zones
    assert pool == expected


def test_cluster_ignores_the_autoscaled_system_pool_count(build, ignore_changes):
    build(fresh=True)
    assert ignore_changes["cluster-aks"] == ["agentPoolProfiles[0].count"]


@pytest.mark.parametrize(
    ("environment", "zones", "nodes"), [("dev", None, (1, 3)), ("prod", ["1", "2", "3"], (3, 12))]
)
def test_user_pool_is_a_separate_autoscaled_agent_pool(build, environment, zones, nodes):
    pool = _by_name(build(environment=environment), AGENT_POOL, "cluster-user-pool")
    expected = {
        "resourceGroupName": f"rg-grpc-{environment}-weu",
        "resourceName": f"aks-grpc-{environment}-weu",
        "agentPoolName": hashed_pool_name(
            "user",
            pool_create_only_settings(
                node_pool_args(stack_cluster_settings(environment).user_pool), zones or []
            ),
        ),
        "mode": "User",
        "type": "VirtualMachineScaleSets",
        "vmSize": "Standard_D4ds_v5",
        "enableAutoScaling": True,
        "count": nodes[0],
        "minCount": nodes[0],
        "maxCount": nodes[1],
        "maxPods": 110,
        "osType": "Linux",
        "osSKU": "AzureLinux",
        "osDiskType": "Ephemeral",
        "osDiskSizeGB": 128,
        "enableEncryptionAtHost": True,
        "orchestratorVersion": "1.36",
        "upgradeSettings": {"maxSurge": "33%"},
    }
    if zones:
        expected["availabilityZones"] = zones
    assert pool == expected


def test_user_pool_ignores_the_autoscaler_driven_count(build, ignore_changes):
    build(fresh=True)
    assert ignore_changes["cluster-user-pool"] == ["count"]


def test_os_disk_is_ephemeral_only_where_the_vm_size_holds_it():
    assert os_disk_type(NodePoolArgs(vm_size="Standard_D4ds_v5", os_disk_size_gb=128)) == "Ephemeral"
    assert os_disk_type(NodePoolArgs(vm_size="Standard_D2ds_v5", os_disk_size_gb=128)) == "Managed"
    assert os_disk_type(NodePoolArgs(vm_size="Standard_D4s_v3", os_disk_size_gb=100)) == "Ephemeral"
    assert os_disk_type(NodePoolArgs(vm_size="Standard_B2s", os_disk_size_gb=64)) == "Managed"
    assert (
        os_disk_type(NodePoolArgs(vm_size="Standard_B2s", os_disk_type=NodeOsDiskType.EPHEMERAL))
        == "Ephemeral"
    )
    assert os_disk_type(NodePoolArgs(os_disk_type=NodeOsDiskType.MANAGED)) == "Managed"


def library_args(**overrides: Any) -> AksClusterArgs:
    """What a library user passes: names, where, who deploys; everything else from the Args' defaults."""
    return AksClusterArgs(
        cluster_name="aks-lib",
        registry=ClusterRegistryArgs(name="crlib0001"),
        resource_group_name="rg-lib",
        location="westeurope",
        subscription_id=SUBSCRIPTION_ID,
        tenant_id=TENANT_ID,
        deployer_object_id=DEPLOYER_OBJECT_ID,
        **overrides,
    )


def test_forcing_an_ephemeral_disk_larger_than_the_vm_holds_is_rejected():
    # The settings refuse it at its key (tests/unit/test_settings_refusals.py); the component refuses the
    # same pool in Args built in code, naming the Args field.
    with pytest.raises(ValueError, match="osDiskSizeGb"):
        ClusterSettings.model_validate(
            {"userPool": {"vmSize": "Standard_D2ds_v5", "osDiskType": "Ephemeral"}}
        )
    pool = NodePoolArgs(vm_size="Standard_D2ds_v5", os_disk_type=NodeOsDiskType.EPHEMERAL)
    with pytest.raises(ValueError, match=r"^user_pool\.os_disk_size_gb: 128 GiB does not fit"):
        validate_aks_cluster_args(library_args(user_pool=pool))
    with pytest.raises(ValueError, match=r"^system_pool\.os_disk_size_gb"):
        validate_aks_cluster_args(library_args(system_pool=pool))
    validate_aks_cluster_args(library_args(user_pool=dataclasses.replace(pool, os_disk_size_gb=75)))


# --- maintenance ----------------------------------------------------------------------------------


def test_both_aks_managed_maintenance_configurations_with_weekly_windows(build):
    plan = build()
    auto = _by_name(plan, MAINTENANCE, "cluster-auto-upgrade-window")
    node_os = _by_name(plan, MAINTENANCE, "cluster-node-os-upgrade-window")
    assert auto["configName"] == "aksManagedAutoUpgradeSchedule"
    assert node_os["configName"] == "aksManagedNodeOSUpgradeSchedule"
    assert auto["resourceName"] == node_os["resourceName"] == "aks-grpc-dev-weu"
    assert auto["maintenanceWindow"] == {
        "schedule": {"weekly": {"dayOfWeek": "Sunday", "intervalWeeks": 1}},
        "durationHours": 4,
        "startTime": "02:00",
        "utcOffset": "+00:00",
    }
    assert node_os["maintenanceWindow"]["schedule"]["weekly"]["dayOfWeek"] == "Saturday"


def test_maintenance_windows_come_from_settings(build):
    settings = ClusterSettings.model_validate(
        {
            "autoUpgradeWindow": {
                "dayOfWeek": "Tuesday",
                "startTime": "22:30",
                "durationHours": 6,
                "utcOffset": "+01:00",
            }
        }
    )
    window = _by_name(build(settings), MAINTENANCE, "cluster-auto-upgrade-window")["maintenanceWindow"]
    assert window == {
        "schedule": {"weekly": {"dayOfWeek": "Tuesday", "intervalWeeks": 1}},
        "durationHours": 6,
        "startTime": "22:30",
        "utcOffset": "+01:00",
    }


# --- monitoring wiring ----------------------------------------------------------------------------


def test_data_collection_associations_are_scoped_to_the_cluster(build):
    plan = build()
    cluster_id = plan.outputs["clusterId"]
    prometheus = _by_name(plan, DCRA, "cluster-prometheus-dcra")
    insights = _by_name(plan, DCRA, "cluster-container-insights-dcra")
    endpoint = _by_name(plan, DCRA, "cluster-dce-association")
    assert {prometheus["resourceUri"], insights["resourceUri"], endpoint["resourceUri"]} == {cluster_id}
    assert prometheus["dataCollectionRuleId"] == PROMETHEUS_DCR
    assert prometheus["associationName"] == "MSProm-westeurope-aks-grpc-dev-weu"
    assert insights["dataCollectionRuleId"] == CI_DCR
    assert insights["associationName"] == "ContainerInsightsExtension"


def test_dce_association_is_named_configuration_access_endpoint_without_a_rule(build):
    endpoint = _by_name(build(), DCRA, "cluster-dce-association")
    assert endpoint["associationName"] == "configurationAccessEndpoint"
    assert endpoint["dataCollectionEndpointId"] == DCE
    assert "dataCollectionRuleId" not in endpoint


def test_no_monitoring_children_without_their_ids(build):
    plan = build(
        prometheus_rule_id=None,
        container_insights_rule_id=None,
        data_collection_endpoint_id=None,
        diagnostics=None,
    )
    assert plan.of_type(DCRA) == []
    assert plan.of_type("azure-native:monitor:DiagnosticSetting") == []


def test_cluster_diagnostic_setting_sends_control_plane_logs(build):
    plan = build()
    setting = plan.one("azure-native:monitor:DiagnosticSetting").inputs
    assert setting["resourceUri"] == plan.outputs["clusterId"]
    assert setting["workspaceId"] == WORKSPACE
    assert [log["category"] for log in setting["logs"]] == list(CLUSTER_LOG_CATEGORIES)
    assert {"kube-audit-admin", "guard"} <= set(CLUSTER_LOG_CATEGORIES)


# --- registry -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "sku", "zone_redundancy"), [("dev", "Basic", "Disabled"), ("prod", "Premium", "Enabled")]
)
def test_registry_tier_admin_user_and_anonymous_pull(build, environment, sku, zone_redundancy):
    registry = build(environment=environment).one(REGISTRY).inputs
    assert registry["sku"] == {"name": sku}
    assert registry["adminUserEnabled"] is False
    assert registry["anonymousPullEnabled"] is False
    assert registry["zoneRedundancy"] == zone_redundancy


def test_kubelet_identity_gets_acr_pull_on_the_registry(build):
    plan = build()
    assignment = _by_name(plan, ROLE, "cluster-acr-pull")
    assert assignment["principalId"] == plan.outputs["kubeletIdentityObjectId"]
    assert assignment["principalType"] == "ServicePrincipal"
    assert assignment["roleDefinitionId"].endswith(f"/roleDefinitions/{azure_ids.ACR_PULL}")
    assert assignment["scope"].endswith(
        "/Microsoft.ContainerRegistry/registries/" + plan.one(REGISTRY).inputs["registryName"]
    )


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arm_client_id", "principal_type"), [(None, "User"), ("ci-app", "ServicePrincipal")]
)
def test_deployer_gets_rbac_cluster_admin_on_the_cluster(build, monkeypatch, arm_client_id, principal_type):
    monkeypatch.delenv("AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE", raising=False)
    if arm_client_id is None:
        monkeypatch.delenv("ARM_CLIENT_ID", raising=False)
    else:
        monkeypatch.setenv("ARM_CLIENT_ID", arm_client_id)
    plan = build(fresh=True)
    assignment = _by_name(plan, ROLE, "cluster-deployer-admin")
    assert assignment["scope"] == plan.outputs["clusterId"]
    assert assignment["principalId"] == DEPLOYER_OBJECT_ID
    assert assignment["principalType"] == principal_type
    assert assignment["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/"
        "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
    )


def test_configured_principal_type_wins_over_the_environment():
    assert deployer_principal_type("ServicePrincipal", {}) == "ServicePrincipal"
    assert deployer_principal_type("User", {"ARM_CLIENT_ID": "ci-app"}) == "User"


def test_role_assignment_names_are_deterministic(build):
    first = {r.name: r.inputs["roleAssignmentName"] for r in build(fresh=True).of_type(ROLE)}
    second = {r.name: r.inputs["roleAssignmentName"] for r in build(fresh=True).of_type(ROLE)}
    other = {
        r.name: r.inputs["roleAssignmentName"]
        for r in build(deployer_object_id="22222222-2222-4222-8222-222222222222").of_type(ROLE)
    }
    assert first == second
    assert other["cluster-deployer-admin"] != first["cluster-deployer-admin"]
    assert other["cluster-acr-pull"] == first["cluster-acr-pull"]


def test_provider_kubeconfig_is_secret_with_the_cluster_identifier(build):
    plan = build()
    provider = plan.one(PROVIDER)
    assert provider.inputs["kubeconfig"] == "[secret]"
    assert provider.inputs["clusterIdentifier"] == plan.outputs["clusterId"]


def test_provider_uses_kubelogin_with_the_user_credentials_endpoint(build):
    plan = build()
    kubeconfig = yaml.safe_load(plan.one(PROVIDER).secret_inputs()["kubeconfig"])
    assert (
        kubeconfig["clusters"][0]["cluster"]["server"]
        == "https://aks-grpc-dev-weu-fake.hcp.westeurope.azmk8s.io:443"
    )
    assert kubeconfig["users"][0]["user"]["exec"]["args"][:3] == ["get-token", "--login", "azurecli"]
    tokens = [token for token, _ in plan.invokes]
    assert "azure-native:containerservice:listManagedClusterUserCredentials" in tokens
    assert "azure-native:containerservice:listManagedClusterAdminCredentials" not in tokens


def test_login_mode_environment_override_reaches_the_provider(build, monkeypatch):
    monkeypatch.setenv(LOGIN_MODE_ENV, "workloadidentity")
    args = yaml.safe_load(build().one(PROVIDER).secret_inputs()["kubeconfig"])["users"][0]["user"]["exec"][
        "args"
    ]
    assert args == [
        "get-token",
        "--login",
        "workloadidentity",
        "--server-id",
        "6dae42f8-4368-4678-94ff-3960e28e3630",
        "--client-id",
        DEPLOYER_CLIENT_ID,
        "--tenant-id",
        TENANT_ID,
    ]


def test_sandbox_keeps_local_accounts_and_uses_admin_credentials(build):
    plan = build(ClusterSettings(sandbox_local_accounts=True))
    assert _cluster(plan)["disableLocalAccounts"] is False
    assert "azure-native:containerservice:listManagedClusterAdminCredentials" in [t for t, _ in plan.invokes]
    kubeconfig = yaml.safe_load(plan.one(PROVIDER).secret_inputs()["kubeconfig"])
    assert kubeconfig["users"][0]["name"].startswith("clusterAdmin")


def test_spn_mode_without_a_client_id_is_rejected(build, monkeypatch):
    monkeypatch.setenv(LOGIN_MODE_ENV, "spn")
    with pytest.raises(Exception, match="deployer_client_id"):
        build(deployer_client_id=None)


def test_kubernetes_ready_is_the_propagated_deployer_admin_and_the_user_pool(build):
    plan = build()
    sleep = plan.one("time:index/sleep:Sleep", "cluster-rbac-propagation")
    expected = [sleep.urn, plan.one(AGENT_POOL, "cluster-user-pool").urn]
    assert plan.outputs["kubernetesReady"] == expected
    assert set(expected) <= set(plan.one(PROVIDER).dependencies)
    assert plan.one(ROLE, "cluster-deployer-admin").urn in sleep.dependencies


def test_outputs_for_other_components(build):
    outputs = build().outputs
    assert outputs["clusterName"] == "aks-grpc-dev-weu"
    assert outputs["oidcIssuerUrl"].startswith("https://westeurope.oic.prod-aks.azure.com/")
    assert outputs["nodeResourceGroup"] == "rg-grpc-dev-weu-aks-nodes"
    assert outputs["registryLoginServer"].endswith(".azurecr.io")
    for key in ("kubeletIdentityObjectId", "kvClientId", "kvObjectId"):
        assert len(outputs[key]) == 36


# --- the whole program ----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ENVIRONMENTS)
def test_stack_plan_contains_the_cluster_and_its_access(stack_plan, stack):
    plan = stack_plan(stack)
    plan.one(CLUSTER, "cluster-aks")
    plan.one(AGENT_POOL, "cluster-user-pool")
    assert {r.inputs["configName"] for r in plan.of_type(MAINTENANCE)} == {
        "aksManagedAutoUpgradeSchedule",
        "aksManagedNodeOSUpgradeSchedule",
    }
    plan.one(REGISTRY, "cluster-registry")
    plan.one(ROLE, "cluster-acr-pull")
    plan.one(ROLE, "cluster-deployer-admin")
    assert plan.one(PROVIDER, "cluster-k8s").inputs["kubeconfig"] == "[secret]"
    for key in (
        "clusterName",
        "clusterId",
        "oidcIssuerUrl",
        "kubeletIdentityObjectId",
        "nodeResourceGroup",
        "registryLoginServer",
    ):
        assert plan.outputs[key]


def test_kubelet_may_pull_from_configured_shared_registries(build):
    shared = (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/"
        "Microsoft.ContainerRegistry/registries/crshared"
    )
    settings = ClusterSettings.model_validate({"registry": {"pullRegistryIds": [shared]}})
    plan = build(settings=settings)
    assignment = _by_name(plan, ROLE, "cluster-acr-pull-0")
    assert assignment["scope"] == shared
    assert assignment["principalId"] == plan.outputs["kubeletIdentityObjectId"]
    assert assignment["roleDefinitionId"].endswith(f"/roleDefinitions/{azure_ids.ACR_PULL}")


def test_a_pull_registry_must_be_a_registry_resource_id():
    with pytest.raises(ValueError, match="pullRegistryIds"):
        ClusterSettings.model_validate({"registry": {"pullRegistryIds": ["crshared.azurecr.io"]}})


# --- egress, encryption at host, create-only settings ---------------------------------------------

PUBLIC_IP = "azure-native:network:PublicIPAddress"
EGRESS_IP_ID = (
    f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-grpc-dev-weu/providers/Microsoft.Network/"
    "publicIPAddresses/pip-grpc-dev-weu-aks-egress"
)


def test_cluster_egresses_from_the_given_public_ip_and_not_from_a_managed_one(build):
    plan = build(outbound_public_ip_ids=[EGRESS_IP_ID])
    profile = _cluster(plan)["networkProfile"]
    assert profile["outboundType"] == "loadBalancer"
    assert profile["loadBalancerProfile"]["outboundIPs"] == {"publicIPs": [{"id": EGRESS_IP_ID}]}
    assert "managedOutboundIPs" not in profile["loadBalancerProfile"]


def test_control_plane_identity_may_join_the_egress_ip_before_the_cluster_exists(build):
    plan = build(outbound_public_ip_ids=[EGRESS_IP_ID])
    role = plan.one(ROLE, "cluster-egress-ip-network-contributor-0")
    identity = plan.one("azure-native:managedidentity:UserAssignedIdentity")
    assert role.inputs["scope"] == EGRESS_IP_ID
    assert role.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{azure_ids.NETWORK_CONTRIBUTOR}")
    identity_id = (
        f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-grpc-dev-weu/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{identity.inputs['resourceName']}"
    )
    assert role.inputs["principalId"] == mock_engine.fake_guid(identity_id, "principal")
    assert role.inputs["principalType"] == "ServicePrincipal"
    assert identity.urn in role.dependencies
    assert role.urn in plan.one(CLUSTER).dependencies


def test_without_given_ips_aks_keeps_its_default_egress(build):
    profile = _cluster(build())["networkProfile"]
    assert "loadBalancerProfile" not in profile
    assert build().of_type(ROLE) and not [r for r in build().of_type(ROLE) if "egress" in r.name]


def test_given_ips_with_another_outbound_type_are_rejected():
    args = library_args(
        network=ClusterNetworkArgs(outbound_type=ClusterOutboundType.MANAGED_NAT_GATEWAY),
        outbound_public_ip_ids=[EGRESS_IP_ID],
    )
    with pytest.raises(ValueError, match=r"^outbound_public_ip_ids"):
        validate_aks_cluster_args(args)
    validate_aks_cluster_args(dataclasses.replace(args, outbound_public_ip_ids=[]))


@pytest.mark.parametrize(("environment", "zones"), [("dev", []), ("prod", ["1", "2", "3"])])
def test_egress_ip_is_a_static_standard_ip_in_the_cluster_zones(run_mocked, environment, zones):
    def program() -> None:
        egress = ClusterEgress(
            "egress",
            ClusterEgressArgs(
                public_ip_name=StackNames(
                    "grpc", environment, "westeurope", SUBSCRIPTION_ID
                ).egress_public_ip,
                resource_group_name=f"rg-grpc-{environment}-weu",
                location="westeurope",
                zones=zones,
            ),
        )
        pulumi.export("address", egress.ip_address)
        pulumi.export("id", egress.public_ip_id)

    plan = run_mocked(program)
    ip = plan.one(PUBLIC_IP)
    assert ip.inputs["sku"] == {"name": "Standard", "tier": "Regional"}
    assert ip.inputs["publicIPAllocationMethod"] == "Static"
    assert ip.inputs["publicIPAddressVersion"] == "IPv4"
    assert ip.inputs["publicIpAddressName"] == f"pip-grpc-{environment}-weu-aks-egress"
    assert ip.inputs.get("zones") == (zones or None)
    assert ip.parent == plan.one("aksgrpc:index:ClusterEgress").urn
    assert plan.outputs["address"].startswith("203.0.113.")
    assert plan.outputs["id"].endswith(f"/publicIPAddresses/pip-grpc-{environment}-weu-aks-egress")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_node_pool_encrypts_at_host(build, environment):
    plan = build(environment=environment)
    assert [p["enableEncryptionAtHost"] for p in _cluster(plan)["agentPoolProfiles"]] == [True]
    assert _by_name(plan, AGENT_POOL, "cluster-user-pool")["enableEncryptionAtHost"] is True


def _user_pool_name(**user_pool: Any) -> str:
    settings = ClusterSettings.model_validate({"userPool": user_pool})
    return hashed_pool_name(
        "user", pool_create_only_settings(node_pool_args(settings.user_pool), settings.zones)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"vmSize": "Standard_D8ds_v5"},
        {"osDiskType": "Managed"},
        {"osDiskSizeGb": 100},
        {"maxPods": 50},
    ],
)
def test_a_changed_create_only_setting_renames_the_user_pool(change):
    assert _user_pool_name(**change) != _user_pool_name()


def test_changed_zones_rename_the_user_pool():
    base = NodePoolArgs()
    assert hashed_pool_name("user", pool_create_only_settings(base, ["1", "2"])) != hashed_pool_name(
        "user", pool_create_only_settings(base, ["1", "2", "3"])
    )


@pytest.mark.parametrize("change", [{"minCount": 3}, {"maxCount": 20}, {"maxSurge": "1"}])
def test_settings_aks_updates_in_place_keep_the_pool_name(change):
    assert _user_pool_name(**change) == _user_pool_name()


def test_user_pool_name_follows_aks_agent_pool_naming(build):
    name = _by_name(build(), AGENT_POOL, "cluster-user-pool")["agentPoolName"]
    assert re.fullmatch(r"[a-z][a-z0-9]{0,11}", name) and name.startswith("user")


def test_user_pool_is_replaced_create_before_delete(build):
    pool = build().one(AGENT_POOL, "cluster-user-pool")
    assert pool.options["deleteBeforeReplace"] is False
    assert pool.options["ignoreChanges"] == ["count"]


def test_a_user_pool_vm_size_change_is_a_new_agent_pool_name_on_the_engine(build):
    before = _by_name(build(fresh=True), AGENT_POOL, "cluster-user-pool")["agentPoolName"]
    changed = ClusterSettings.model_validate(
        {
            **yaml.safe_load((STACKS / "Pulumi.dev.yaml").read_text())["config"]["aks-grpc:cluster"],
            "userPool": {"minCount": 1, "maxCount": 3, "vmSize": "Standard_D8ds_v5"},
        }
    )
    after = _by_name(build(settings=changed), AGENT_POOL, "cluster-user-pool")["agentPoolName"]
    assert before != after


# --- a library user: Args alone, and the NodePool child -------------------------------------------


def test_a_library_user_gets_the_secure_defaults_from_args_alone(run_mocked):
    def program() -> None:
        AksCluster("lib", library_args())

    plan = run_mocked(program)
    cluster = plan.one(CLUSTER, "lib-aks").inputs
    assert cluster["resourceName"] == "aks-lib" and cluster["dnsPrefix"] == "aks-lib"
    assert cluster["disableLocalAccounts"] is True and cluster["enableRBAC"] is True
    assert cluster["aadProfile"]["managed"] is True and cluster["aadProfile"]["enableAzureRBAC"] is True
    assert cluster["oidcIssuerProfile"] == {"enabled": True}
    assert cluster["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert cluster["sku"] == {"name": "Base", "tier": "Standard"}
    assert cluster["kubernetesVersion"] == "1.36"
    assert cluster["networkProfile"]["networkDataplane"] == "cilium"
    assert cluster["networkProfile"]["networkPolicy"] == "cilium"
    assert cluster["autoUpgradeProfile"] == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"}
    (system,) = cluster["agentPoolProfiles"]
    assert system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert system["osSKU"] == "AzureLinux" and system["availabilityZones"] == ["1", "2", "3"]
    assert (system["minCount"], system["maxCount"], system["osDiskSizeGB"]) == (2, 3, 64)
    user = plan.one(AGENT_POOL, "lib-user-pool")
    assert user.inputs["mode"] == "User" and user.inputs["enableAutoScaling"] is True
    assert (user.inputs["minCount"], user.inputs["maxCount"]) == (2, 10)
    assert user.parent == plan.one("aksgrpc:index:NodePool", "lib-user").urn
    assert plan.one(REGISTRY).inputs["registryName"] == "crlib0001"
    deployer = _by_name(plan, ROLE, "lib-deployer-admin")
    assert deployer["principalType"] == "User"
    kubeconfig = yaml.safe_load(plan.one(PROVIDER).secret_inputs()["kubeconfig"])
    assert kubeconfig["users"][0]["user"]["exec"]["args"][:3] == ["get-token", "--login", "azurecli"]
    # No monitoring ids, no Dapr: none of their children.
    assert not plan.of_type(DCRA) and not plan.of_type("azure-native:kubernetesconfiguration:Extension")


def test_a_library_user_sets_the_login_mode_and_principal_type_as_enums(run_mocked):
    def program() -> None:
        AksCluster(
            "lib",
            library_args(
                login_mode=KubeloginMode.WORKLOAD_IDENTITY,
                deployer_principal_type=PrincipalType.SERVICE_PRINCIPAL,
                deployer_client_id=DEPLOYER_CLIENT_ID,
            ),
        )

    plan = run_mocked(program)
    assert _by_name(plan, ROLE, "lib-deployer-admin")["principalType"] == "ServicePrincipal"
    kubeconfig = yaml.safe_load(plan.one(PROVIDER).secret_inputs()["kubeconfig"])
    assert kubeconfig["users"][0]["user"]["exec"]["args"][2] == "workloadidentity"


def test_the_component_refuses_args_azure_would_refuse_before_any_child(run_mocked):
    def program() -> None:
        AksCluster(
            "lib", library_args(kubernetes_version="1.36", istio=IstioMeshArgs(revisions=["asm-1-28"]))
        )

    with pytest.raises(Exception, match=r"istio\.revisions\[0\]"):
        run_mocked(program)


def test_node_pool_is_a_component_over_one_autoscaled_agent_pool(run_mocked, ignore_changes):
    pool = NodePoolArgs(vm_size="Standard_D8ds_v5", min_count=1, max_count=4, max_pods=50)

    def program() -> None:
        node_pool = NodePool(
            "batch",
            NodePoolComponentArgs(
                cluster_name="aks-lib",
                resource_group_name="rg-lib",
                pool=pool,
                name_prefix="batch",
                zones=["2", "1"],
                kubernetes_version="1.36",
            ),
        )
        pulumi.export("poolName", node_pool.pool_name)

    plan = run_mocked(program)
    agent_pool = plan.one(AGENT_POOL, "batch-pool")
    expected_name = hashed_pool_name("batch", pool_create_only_settings(pool, ["1", "2"]))
    assert plan.outputs["poolName"] == expected_name
    assert agent_pool.parent == plan.one("aksgrpc:index:NodePool", "batch").urn
    assert agent_pool.inputs == {
        "resourceGroupName": "rg-lib",
        "resourceName": "aks-lib",
        "agentPoolName": expected_name,
        "mode": "User",
        "type": "VirtualMachineScaleSets",
        "vmSize": "Standard_D8ds_v5",
        "enableAutoScaling": True,
        "count": 1,
        "minCount": 1,
        "maxCount": 4,
        "maxPods": 50,
        "availabilityZones": ["2", "1"],
        "osType": "Linux",
        "osSKU": "AzureLinux",
        "osDiskType": "Ephemeral",
        "osDiskSizeGB": 128,
        "enableEncryptionAtHost": True,
        "orchestratorVersion": "1.36",
        "upgradeSettings": {"maxSurge": "33%"},
    }
    assert ignore_changes["batch-pool"] == ["count"]
    assert agent_pool.options["deleteBeforeReplace"] is False


def test_node_pool_refuses_a_pool_azure_would_refuse(run_mocked):
    def program() -> None:
        NodePool(
            "bad",
            NodePoolComponentArgs(
                cluster_name="aks", resource_group_name="rg", pool=NodePoolArgs(min_count=5, max_count=3)
            ),
        )

    with pytest.raises(Exception, match=r"pool\.min_count"):
        run_mocked(program)
    with pytest.raises(ValueError, match=r"^pool\.min_count: must not exceed max_count"):
        validate_node_pool_args(NodePoolArgs(min_count=5, max_count=3))


def test_both_pools_share_one_shape_and_one_set_of_profile_fields():
    system = system_pool_profile("system", default_system_pool(), ["1"], "1.36")
    shared = pool_profile_fields(default_system_pool(), ["1"], "1.36")
    for key, value in shared.items():
        assert getattr(system, key) == value
    assert system.node_taints == ["CriticalAddonsOnly=true:NoSchedule"]


def test_no_cluster_component_module_reads_the_environment_or_the_settings():
    import inspect

    import components.aks
    import components.aks_rules
    import components.node_pool

    for module in (components.aks, components.aks_rules, components.node_pool):
        source = inspect.getsource(module)
        assert "os.environ" not in source and "import os" not in source, module.__name__
        assert "settings" not in [
            line.split()[1] for line in source.splitlines() if line.startswith("from .")
        ]
        assert "StackNames" not in source, module.__name__


def test_the_schema_analyzer_accepts_the_cluster_components():
    from pulumi.provider.experimental.analyzer import Analyzer

    result = Analyzer("aksgrpc").analyze([AksCluster, ClusterEgress, NodePool])
    components = result["component_definitions"]
    assert {"clusterName", "registry", "systemPool", "userPool", "loginMode", "dapr"} <= set(
        components["AksCluster"].inputs
    )
    assert set(components["NodePool"].inputs) >= {"pool", "clusterName", "zones"}
    # Outputs are values, never resources (the provider, the registry, kubernetes_ready stay attributes).
    assert set(components["ClusterEgress"].outputs) == {"ipAddress", "publicIpId"}
    assert {"provider", "registry", "cluster", "kubernetesReady"}.isdisjoint(components["AksCluster"].outputs)
    assert {"NodePoolArgs", "KubeloginMode", "ClusterSkuTier"} <= set(result["type_definitions"])
