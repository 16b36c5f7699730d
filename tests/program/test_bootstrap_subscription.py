"""tools/bootstrap-subscription.sh: it registers every resource provider the stack's resources and add-ons
need and the EncryptionAtHost feature, idempotently, waiting with progress. There is no Azure here: the
provider list is checked against the offline plans, and the script runs for real against a fake `az`
that behaves like the CLI (states NotRegistered -> Registering -> Registered)."""

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PLANNED_STACKS, REPO_ROOT
from tools.mock_engine import ARM_TYPES, Plan

SCRIPT = REPO_ROOT / "tools" / "bootstrap-subscription.sh"

# What AKS itself needs registered for features of the cluster the plan turns on, beyond the cluster's own
# type (AKS docs: "Azure Policy add-on" - Microsoft.PolicyInsights; "Enable Container Insights" -
# Microsoft.OperationsManagement, Microsoft.Insights; "Defender for Containers" - Microsoft.Security;
# node pools are VM scale sets - Microsoft.Compute; the load balancer and IPs - Microsoft.Network).
ADDON_PROVIDERS = {
    "azurepolicy": "Microsoft.PolicyInsights",
    "omsagent": "Microsoft.OperationsManagement",
}


def script_list() -> list[str]:
    result = subprocess.run(["bash", str(SCRIPT), "--list"], capture_output=True, text=True, check=True)
    return result.stdout.split()


# azure-native module -> ARM resource provider, for types tools/mock_engine.ARM_TYPES does not spell out.
MODULE_NAMESPACES = {
    "apimanagement": "Microsoft.ApiManagement",
    "authorization": "Microsoft.Authorization",
    "keyvault": "Microsoft.KeyVault",
    "managedidentity": "Microsoft.ManagedIdentity",
    "network": "Microsoft.Network",
    "privatedns": "Microsoft.Network",
}


def namespace_of(resource_type: str) -> str:
    """`azure-native:keyvault:Vault` -> `Microsoft.KeyVault`: the ARM type the fake Azure uses, else the
    module's provider."""
    module_type = resource_type.removeprefix("azure-native:")
    arm_type = ARM_TYPES.get(module_type)
    if arm_type is not None:
        return arm_type.split("/")[0] if arm_type else "Microsoft.Resources"
    module = module_type.partition(":")[0]
    assert module in MODULE_NAMESPACES, f"map the azure-native module {module} to its resource provider"
    return MODULE_NAMESPACES[module]


def needed(plan: Plan) -> set[str]:
    wanted: set[str] = set()
    for resource in plan.resources:
        if not (resource.custom and resource.type.startswith("azure-native:")):
            continue
        wanted.add(namespace_of(resource.type))
        if resource.type == "azure-native:containerservice:ManagedCluster":
            inputs = resource.inputs
            wanted |= {"Microsoft.Compute", "Microsoft.Network"}
            for addon, provider in ADDON_PROVIDERS.items():
                if (inputs.get("addonProfiles") or {}).get(addon, {}).get("enabled"):
                    wanted.add(provider)
            if (inputs.get("securityProfile") or {}).get("defender"):
                wanted.add("Microsoft.Security")
            pools = inputs.get("agentPoolProfiles") or []
            if any(p.get("enableEncryptionAtHost") for p in pools):
                wanted.add("Microsoft.Compute/EncryptionAtHost")
        if resource.type == "azure-native:containerservice:AgentPool" and resource.inputs.get(
            "enableEncryptionAtHost"
        ):
            wanted.add("Microsoft.Compute/EncryptionAtHost")
    return wanted


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_the_script_registers_every_provider_and_feature_the_plan_needs(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    missing = sorted(needed(stack_plan(stack)) - set(script_list()))
    assert missing == [], f"add these to tools/bootstrap-subscription.sh: {missing}"


def test_the_plan_needs_the_providers_the_issue_names(stack_plan: Callable[[str], Plan]) -> None:
    # The derivation above must see them, or the first test proves less than it claims.
    prod = needed(stack_plan("prod"))
    for namespace in (
        "Microsoft.ContainerService",
        "Microsoft.Monitor",
        "Microsoft.AlertsManagement",
        "Microsoft.Dashboard",
        "Microsoft.PolicyInsights",
        "Microsoft.ApiManagement",
        "Microsoft.KeyVault",
        "Microsoft.Network",
        "Microsoft.Compute/EncryptionAtHost",
    ):
        assert namespace in prod, namespace


def test_the_script_lists_kubernetes_configuration_for_cluster_extensions() -> None:
    # Only a stack with Dapr creates an extension; the script prepares every configuration the program allows.
    assert "Microsoft.KubernetesConfiguration" in script_list()


FAKE_AZ = r"""#!/usr/bin/env bash
# A fake Azure CLI: registration states live in files under $FAKE_AZ_STATE.
set -euo pipefail
dir="$FAKE_AZ_STATE"
echo "$*" >> "$dir/calls"
namespace="" name=""
args=("$@")
for i in "${!args[@]}"; do
  case "${args[$i]}" in
    --namespace) namespace="${args[$((i + 1))]}" ;;
    --name) name="${args[$((i + 1))]}" ;;
  esac
done
key="$namespace${name:+__$name}"
file="$dir/$key"
case "$1 $2" in
  "account show") printf 'test-subscription\n00000000-0000-4000-8000-000000000001\n' ;;
  "provider show"|"feature show")
    state=$(cat "$file" 2>/dev/null || echo NotRegistered)
    case "$state" in
      Registering*)
        left=${state#Registering }
        if [ "$left" -le 0 ]; then echo Registered > "$file"; echo Registered; else echo "Registering $((left - 1))" > "$file"; echo Registering; fi ;;
      *) echo "$state" ;;
    esac ;;
  "provider register"|"feature register")
    [ "$(cat "$file" 2>/dev/null)" = Registered ] || echo "Registering ${FAKE_AZ_POLLS:-2}" > "$file" ;;
  *) echo "fake az: unexpected $*" >&2; exit 3 ;;
esac
"""


@pytest.fixture
def fake_az(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    (bin_dir / "az").write_text(FAKE_AZ)
    (bin_dir / "az").chmod(0o755)
    (state / "calls").write_text("")

    def run(*, registered: tuple[str, ...] = (), **env: str) -> subprocess.CompletedProcess[str]:
        for namespace in registered:
            (state / namespace.replace("/", "__")).write_text("Registered\n")
        environment = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_AZ_STATE": str(state),
            "AKS_GRPC_BOOTSTRAP_POLL": "0",
            **env,
        }
        result = subprocess.run(
            ["bash", str(SCRIPT)], capture_output=True, text=True, env=environment, timeout=120
        )
        result.calls = (state / "calls").read_text().splitlines()  # type: ignore[attr-defined]
        (state / "calls").write_text("")
        return result

    return run


def test_registers_what_is_missing_waits_until_registered_and_is_idempotent(fake_az) -> None:
    first = fake_az(registered=("Microsoft.Resources", "Microsoft.Authorization"))
    assert first.returncode == 0, first.stderr
    registers = [c for c in first.calls if " register " in f" {c} "]
    assert "provider register --namespace Microsoft.Resources" not in registers
    assert "provider register --namespace Microsoft.ContainerService" in registers
    assert "feature register --namespace Microsoft.Compute --name EncryptionAtHost" in registers
    # The feature reaches Microsoft.Compute only after the provider is registered again, after the feature.
    feature_at = first.calls.index("feature register --namespace Microsoft.Compute --name EncryptionAtHost")
    assert "provider register --namespace Microsoft.Compute" in first.calls[feature_at + 1 :]
    assert "feature Microsoft.Compute/EncryptionAtHost: Registering" in first.stdout
    assert "provider Microsoft.ApiManagement: Registered" in first.stdout  # progress until Registered
    assert first.stdout.rstrip().endswith("is Registered")

    second = fake_az()
    assert second.returncode == 0, second.stderr
    assert [c for c in second.calls if " register " in f" {c} "] == []
    assert "ok  feature Microsoft.Compute/EncryptionAtHost" in second.stdout


def test_a_registration_that_never_finishes_fails_after_the_timeout(fake_az) -> None:
    result = fake_az(FAKE_AZ_POLLS="1000000", AKS_GRPC_BOOTSTRAP_TIMEOUT="0")
    assert result.returncode == 1
    assert "still Registering after 0s" in result.stderr
