#!/usr/bin/env bash
# Register what a subscription needs before the first `pulumi up` of aks-grpc: the resource providers of
# every resource type the stack creates (and of the add-ons AKS enables for it), and the preview-gated
# feature Microsoft.Compute/EncryptionAtHost that node pools with host encryption need.
#
# Idempotent: anything already Registered is skipped; the rest is registered and waited for, with
# progress, until Registered (a provider takes seconds to minutes, the feature up to ~20 minutes).
# Needs the Azure CLI logged in with a role allowed */register/action on the subscription (Owner or
# Contributor). Run it once per subscription (docs/operations.md, first deploy).
#
# Usage: tools/bootstrap-subscription.sh [--subscription <id>] [--list]
#   --list            print the providers and features (namespace/name), one a line, and exit
#   --subscription    the subscription to prepare (default: the Azure CLI's current one)
# Environment: AKS_GRPC_BOOTSTRAP_TIMEOUT (seconds per wait, default 1800),
#              AKS_GRPC_BOOTSTRAP_POLL (seconds between checks, default 10).
set -euo pipefail

# Resource providers. tests/program/test_bootstrap_subscription.py derives the namespaces from the
# offline plans' resource types and fails when one is missing here.
PROVIDERS=(
  Microsoft.ContainerService      # AKS cluster, agent pools, maintenance configurations
  Microsoft.ContainerRegistry     # registry
  Microsoft.Compute               # node VM scale sets (and the EncryptionAtHost feature below)
  Microsoft.Network               # egress public IP, load balancer, private endpoint
  Microsoft.KeyVault              # vault and secrets
  Microsoft.ManagedIdentity       # control-plane and workload identities, federated credentials
  Microsoft.OperationalInsights   # Log Analytics
  Microsoft.OperationsManagement  # Container Insights (omsagent add-on)
  Microsoft.Insights              # App Insights, DCE/DCR/associations, action group, diagnostic settings
  Microsoft.Monitor               # Azure Monitor workspace (managed Prometheus)
  Microsoft.AlertsManagement      # Prometheus rule groups
  Microsoft.Dashboard             # Managed Grafana
  Microsoft.KubernetesConfiguration  # cluster extensions (Dapr)
  Microsoft.PolicyInsights        # Azure Policy add-on
  Microsoft.Security              # Defender for Containers
  Microsoft.ApiManagement         # API Management
  Microsoft.Authorization         # role definitions and assignments, locks
  Microsoft.Resources             # resource group
)

# Features, as <namespace>/<name>. Registering a feature takes effect for its namespace once that
# provider is registered again (Azure docs: "Set up preview features in Azure subscription").
FEATURES=(
  Microsoft.Compute/EncryptionAtHost  # enableEncryptionAtHost on every node pool (AKS: host-based encryption)
)

subscription=()
list_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list_only=true; shift ;;
    --subscription) subscription=(--subscription "$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if $list_only; then
  printf '%s\n' "${PROVIDERS[@]}" "${FEATURES[@]}"
  exit 0
fi

timeout="${AKS_GRPC_BOOTSTRAP_TIMEOUT:-1800}"
poll="${AKS_GRPC_BOOTSTRAP_POLL:-10}"
command -v az >/dev/null || { echo "error: the Azure CLI (az) is not installed" >&2; exit 1; }
account=$(az account show "${subscription[@]}" --query "[name, id]" -o tsv | tr '\n' ' ')
echo "==> subscription: $account"

provider_state() { az provider show "${subscription[@]}" --namespace "$1" --query registrationState -o tsv; }
feature_state() { az feature show "${subscription[@]}" --namespace "$1" --name "$2" --query properties.state -o tsv; }

# wait_for <what> <command...>: poll until the command prints Registered, showing each change of state.
wait_for() {
  local what="$1" state last="" waited=0
  shift
  while true; do
    state=$("$@")
    if [ "$state" != "$last" ]; then
      echo "    $what: $state (${waited}s)"
      last="$state"
    fi
    [ "$state" = "Registered" ] && return 0
    if [ "$waited" -ge "$timeout" ]; then
      echo "error: $what is still $state after ${timeout}s; run this script again later" >&2
      return 1
    fi
    sleep "$poll"
    waited=$((waited + poll))
  done
}

pending=()
for namespace in "${PROVIDERS[@]}"; do
  state=$(provider_state "$namespace")
  if [ "$state" = "Registered" ]; then
    echo "ok  provider $namespace"
  else
    echo "==> registering provider $namespace (was $state)"
    az provider register "${subscription[@]}" --namespace "$namespace" >/dev/null
    pending+=("$namespace")
  fi
done

for feature in "${FEATURES[@]}"; do
  namespace="${feature%%/*}"
  name="${feature#*/}"
  state=$(feature_state "$namespace" "$name")
  if [ "$state" = "Registered" ]; then
    echo "ok  feature $feature"
    continue
  fi
  echo "==> registering feature $feature (was $state)"
  az feature register "${subscription[@]}" --namespace "$namespace" --name "$name" >/dev/null
  wait_for "feature $feature" feature_state "$namespace" "$name"
  # The feature reaches the resource provider only when the provider is registered again.
  az provider register "${subscription[@]}" --namespace "$namespace" >/dev/null
  pending+=("$namespace")
done

for namespace in "${pending[@]}"; do
  wait_for "provider $namespace" provider_state "$namespace"
done
echo "==> every provider and feature aks-grpc needs is Registered"
