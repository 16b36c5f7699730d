"""The pack's structure: the split into one module per area kept every policy, in the same order.

EXPECTED_NAMES was written down from `policy/policies.py` before it was split into area modules
(issue 15); a policy that goes missing, is renamed or is added shows up here first.
"""

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from policy.policies import ALL_POLICIES

EXPECTED_NAMES = [
    "aks-local-accounts-disabled",
    "aks-entra-id-azure-rbac",
    "aks-api-server-access-restricted",
    "aks-network-policy-enabled",
    "aks-workload-identity-enabled",
    "aks-defender-enabled",
    "aks-auto-upgrade-channels",
    "aks-azure-policy-addon",
    "aks-keyvault-csi-secret-rotation",
    "aks-no-ssh-keys",
    "aks-node-ssh-disabled",
    "aks-image-cleaner-enabled",
    "aks-managed-prometheus-enabled",
    "aks-container-insights-entra-auth",
    "aks-system-pool-isolated",
    "aks-diagnostic-audit-logs",
    "keyvault-rbac-authorization",
    "keyvault-purge-protection",
    "keyvault-soft-delete-retention",
    "keyvault-firewall-default-deny",
    "keyvault-secret-expiration",
    "keyvault-diagnostic-audit-events",
    "keyvault-admits-cluster-egress",
    "apim-no-legacy-tls",
    "apim-no-weak-ciphers",
    "apim-system-assigned-identity",
    "apim-self-hosted-gateway-tier",
    "apim-api-https-only",
    "apim-grpc-api-empty-path",
    "apim-diagnostic-gateway-logs",
    "azure-role-assignment-deterministic-name",
    "azure-required-tags",
    "acr-no-admin-or-anonymous-pull",
    "workload-identity-federated-credential",
    "k8s-run-as-non-root",
    "k8s-no-privilege-escalation",
    "k8s-drop-all-capabilities",
    "k8s-seccomp-runtime-default",
    "k8s-read-only-root-filesystem",
    "k8s-no-host-namespaces",
    "k8s-no-host-path-volumes",
    "k8s-no-privileged-containers",
    "k8s-secrets-as-files",
    "k8s-resource-requests-limits",
    "k8s-probes",
    "k8s-image-pinned",
    "k8s-pdb-allows-drain",
    "k8s-workload-has-drainable-pdb",
    "k8s-autoscaler-min-replicas",
    "k8s-autoscaler-target-exists",
    "k8s-no-replicas-with-autoscaler",
    "k8s-grpc-service-ports",
    "istio-peer-authentication-strict",
    "istio-meshed-namespace-strict-mtls",
    "istio-revision-label",
]


def test_the_pack_holds_exactly_the_policies_it_held_before_the_split() -> None:
    names = [p.name for p in ALL_POLICIES]
    assert set(names) == set(EXPECTED_NAMES)
    assert len(names) == len(set(names)), "a policy is listed twice"


def test_the_pack_lists_the_policies_in_the_same_order_as_before_the_split() -> None:
    assert [p.name for p in ALL_POLICIES] == EXPECTED_NAMES


def test_every_entry_is_a_policy_object() -> None:
    assert all(isinstance(p, ResourceValidationPolicy | StackValidationPolicy) for p in ALL_POLICIES)
