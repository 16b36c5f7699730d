"""What a first `pulumi up` depends on at runtime, checked on the whole program's engine inputs: the pods'
path to the vault, no standing data-plane role for the deployer, `protect` on the stateful resources,
and a redeploy path for a vault name held by purge protection."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.protection import STATEFUL_TYPES
from tests.conftest import PLANNED_STACKS
from tools.mock_engine import DEPLOYER_OBJECT_ID, Plan
from tools.offline_plan import STACKS_DIR, plan_stack

PUBLIC_IP = "azure-native:network:PublicIPAddress"
VAULT = "azure-native:keyvault:Vault"
CLUSTER = "azure-native:containerservice:ManagedCluster"
ROLE = "azure-native:authorization:RoleAssignment"
SPC = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"


def plan_with(tmp_path: Path, stack: str, **config: Any) -> Plan:
    """The plan of `stack` with some `aks-grpc:*` keys replaced (a stack file of its own)."""
    document = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())
    for key, value in config.items():
        document["config"][f"aks-grpc:{key}"] = value
    stack_file = tmp_path / f"Pulumi.{stack}.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    return plan_stack(stack, stack_file)


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_the_vault_firewall_admits_the_cluster_egress_ip(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    plan = stack_plan(stack)
    ip = plan.one(PUBLIC_IP)
    vault = plan.one(VAULT)
    cluster = plan.one(CLUSTER)
    address = plan.outputs["egressIpAddress"]
    acls = vault.inputs["properties"]["networkAcls"]
    assert acls["defaultAction"] == "Deny" and acls["bypass"] == "AzureServices"
    assert {"value": f"{address}/32"} in acls["ipRules"]
    assert ip.urn in vault.dependencies  # the address is known once the IP exists; the vault waits for it
    (public_ip,) = cluster.inputs["networkProfile"]["loadBalancerProfile"]["outboundIPs"]["publicIPs"]
    assert public_ip["id"].endswith(f"/publicIPAddresses/{ip.inputs['publicIpAddressName']}")
    assert ip.urn in cluster.dependencies


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_the_secret_provider_classes_read_the_vault_that_admits_the_egress(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    plan = stack_plan(stack)
    vault_name = plan.one(VAULT).inputs["vaultName"]
    classes = plan.of_type(SPC)
    assert classes
    assert {c.inputs["spec"]["parameters"]["keyvaultName"] for c in classes} == {vault_name}


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_egress_ip_zones_follow_the_cluster(stack: str, stack_plan: Callable[[str], Plan]) -> None:
    plan = stack_plan(stack)
    zones = plan.one(CLUSTER).inputs["agentPoolProfiles"][0].get("availabilityZones")
    assert plan.one(PUBLIC_IP).inputs.get("zones") == zones


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_the_deployer_holds_no_role_on_the_vault(stack: str, stack_plan: Callable[[str], Plan]) -> None:
    plan = stack_plan(stack)
    vault_id_suffix = f"/vaults/{plan.one(VAULT).inputs['vaultName']}"
    on_vault = [
        r.name
        for r in plan.of_type(ROLE)
        if r.inputs["principalId"] == DEPLOYER_OBJECT_ID and r.inputs["scope"].endswith(vault_id_suffix)
    ]
    assert on_vault == []
    deployer_roles = {
        r.inputs["roleDefinitionId"].rsplit("/", 1)[1]
        for r in plan.of_type(ROLE)
        if r.inputs["principalId"] == DEPLOYER_OBJECT_ID
    }
    # AKS RBAC Cluster Admin, and AcrPush (the stack files configure no image: the program pushes its own).
    assert deployer_roles == {"b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", "8311e382-0749-4cb8-b61a-304f252e45ec"}


def protected(plan: Plan) -> set[str]:
    return {r.type for r in plan.resources if r.options["protect"]}


def test_prod_protects_exactly_the_stateful_resources(stack_plan: Callable[[str], Plan]) -> None:
    plan = stack_plan("prod")
    assert protected(plan) == STATEFUL_TYPES
    assert {
        "azure-native:containerservice:ManagedCluster",
        "azure-native:keyvault:Vault",
        "azure-native:operationalinsights:Workspace",
        "azure-native:monitor:AzureMonitorWorkspace",
        "azure-native:apimanagement:ApiManagementService",
        "azure-native:containerregistry:Registry",
    } == STATEFUL_TYPES


def test_dev_protects_nothing_by_default(stack_plan: Callable[[str], Plan]) -> None:
    assert protected(stack_plan("dev")) == set()


def test_prod_protection_can_be_turned_off_and_dev_protection_on(tmp_path: Path) -> None:
    assert protected(plan_with(tmp_path, "prod", protectStatefulResources=False)) == set()
    assert protected(plan_with(tmp_path, "dev", protectStatefulResources=True)) == STATEFUL_TYPES


def test_a_name_generation_gives_the_vault_and_its_readers_a_new_name(
    tmp_path: Path, stack_plan: Callable[[str], Plan]
) -> None:
    original = stack_plan("dev").one(VAULT).inputs["vaultName"]
    plan = plan_with(tmp_path, "dev", keyVault={"nameGeneration": 1})
    renamed = plan.one(VAULT).inputs["vaultName"]
    assert renamed != original and renamed.startswith("kv-grpc-dev-weu-") and len(renamed) <= 24
    assert {c.inputs["spec"]["parameters"]["keyvaultName"] for c in plan.of_type(SPC)} == {renamed}
    assert plan.outputs["keyVaultName"] == renamed


def test_recover_mode_reaches_the_vault(tmp_path: Path) -> None:
    plan = plan_with(tmp_path, "dev", keyVault={"createMode": "recover"})
    assert plan.one(VAULT).inputs["properties"]["createMode"] == "recover"
