"""Every policy of the pack, called as the analyzer calls it: one violating and one compliant input each.

Inputs are shaped like the engine's view of real resources (camelCase, numbers as floats, wrapped in the
analyzer's unknown-checking proxies). The compliant inputs start from one known-good object per kind
(which passes *every* policy) and the violating inputs change exactly one thing in it.
"""

import copy
import importlib
import pkgutil
from typing import Any

import pytest
from policy_harness import StackResource, resource_args, stack_args, violations
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError

import policy as pack
from policy import apim, workload
from policy.policies import ALL_POLICIES

POLICIES = {p.name: p for p in ALL_POLICIES}
DELETE = object()


def changed(base: dict[str, Any], **edits: Any) -> dict[str, Any]:
    """A deep copy of `base` with edits at dotted paths (`a__b__0__c`), DELETE removing the key."""
    result = copy.deepcopy(base)
    for dotted, value in edits.items():
        *parents, last = [int(p) if p.isdigit() else p for p in dotted.split("__")]
        node: Any = result
        for part in parents:
            if isinstance(part, str) and part not in node:
                node[part] = {}
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return result


# ---------------------------------------------------------------------------------------------------
# Known-good resources (each passes every policy)
# ---------------------------------------------------------------------------------------------------

TAGS = {"environment": "dev", "project": "aks-grpc", "managed-by": "pulumi", "cost-center": "platform-dev"}
WORKSPACE_ID = (
    "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-grpc-dev-weu/providers/"
    "Microsoft.OperationalInsights/workspaces/log-grpc-dev-weu"
)

CLUSTER_TYPE = "azure-native:containerservice:ManagedCluster"
GOOD_CLUSTER: dict[str, Any] = {
    "resourceName": "aks-grpc-dev-weu",
    "location": "westeurope",
    "tags": TAGS,
    "kubernetesVersion": "1.33",
    "disableLocalAccounts": True,
    "enableRBAC": True,
    "aadProfile": {"managed": True, "enableAzureRBAC": True},
    "apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/24"]},
    "networkProfile": {
        "networkPlugin": "azure",
        "networkPluginMode": "overlay",
        "networkDataplane": "cilium",
        "networkPolicy": "cilium",
        "outboundType": "loadBalancer",
        "loadBalancerProfile": {
            "outboundIPs": {
                "publicIPs": [
                    {
                        "id": "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/"
                        "rg-grpc-dev-weu/providers/Microsoft.Network/publicIPAddresses/pip-grpc-dev-weu-aks-egress"
                    }
                ]
            }
        },
    },
    "oidcIssuerProfile": {"enabled": True},
    "securityProfile": {
        "workloadIdentity": {"enabled": True},
        "imageCleaner": {"enabled": True, "intervalHours": 168.0},
        "defender": {
            "logAnalyticsWorkspaceResourceId": WORKSPACE_ID,
            "securityMonitoring": {"enabled": True},
        },
    },
    "autoUpgradeProfile": {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"},
    "addonProfiles": {
        "azurepolicy": {"enabled": True},
        "azureKeyvaultSecretsProvider": {
            "enabled": True,
            "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"},
        },
        "omsagent": {
            "enabled": True,
            "config": {"logAnalyticsWorkspaceResourceID": WORKSPACE_ID, "useAADAuth": "true"},
        },
    },
    "azureMonitorProfile": {"metrics": {"enabled": True}},
    "agentPoolProfiles": [
        {
            "name": "system",
            "mode": "System",
            "count": 2.0,
            "vmSize": "Standard_D4ds_v5",
            "osSKU": "AzureLinux",
            "nodeTaints": ["CriticalAddonsOnly=true:NoSchedule"],
            "securityProfile": {"sshAccess": "Disabled"},
        }
    ],
    "sku": {"name": "Base", "tier": "Standard"},
}
AGENT_POOL_TYPE = "azure-native:containerservice:AgentPool"
GOOD_AGENT_POOL: dict[str, Any] = {
    "agentPoolName": "user",
    "resourceName": "aks-grpc-dev-weu",
    "mode": "User",
    "enableAutoScaling": True,
    "minCount": 2.0,
    "maxCount": 5.0,
    "securityProfile": {"sshAccess": "Disabled"},
    "tags": TAGS,
}
VAULT_TYPE = "azure-native:keyvault:Vault"
GOOD_VAULT: dict[str, Any] = {
    "vaultName": "kv-grpc-dev-weu-1a2b",
    "location": "westeurope",
    "tags": TAGS,
    "properties": {
        "tenantId": "00000000-0000-4000-8000-000000000002",
        "sku": {"family": "A", "name": "standard"},
        "enableRbacAuthorization": True,
        "enablePurgeProtection": True,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": 90.0,
        "networkAcls": {
            "defaultAction": "Deny",
            "bypass": "AzureServices",
            "ipRules": [{"value": "203.0.113.7"}],
        },
    },
}
SECRET_TYPE = "azure-native:keyvault:Secret"
GOOD_SECRET: dict[str, Any] = {
    "vaultName": "kv-grpc-dev-weu-1a2b",
    "secretName": "greeter-tls",
    "tags": TAGS,
    "properties": {"value": "[secret]", "attributes": {"expires": 1893456000.0}},
}
APIM_TYPE = "azure-native:apimanagement:ApiManagementService"
GOOD_APIM: dict[str, Any] = {
    "serviceName": "apim-grpc-dev-weu",
    "tags": TAGS,
    "sku": {"name": "Developer", "capacity": 1.0},
    "identity": {"type": "SystemAssigned"},
    "publisherName": "aks-grpc platform team",
    "publisherEmail": "platform@example.com",
    "customProperties": {
        **{key: "False" for key in apim.LEGACY_PROTOCOL_PROPERTIES},
        **{key: "False" for key in apim.WEAK_CIPHER_PROPERTIES},
    },
}
API_TYPE = "azure-native:apimanagement:Api"
GOOD_API: dict[str, Any] = {
    "apiId": "greeter",
    "serviceName": "apim-grpc-dev-weu",
    "apiType": "grpc",
    "format": "grpc",
    "path": "",
    "protocols": ["https"],
    "value": 'syntax = "proto3";',
}
ROLE_ASSIGNMENT_TYPE = "azure-native:authorization:RoleAssignment"
GOOD_ROLE_ASSIGNMENT: dict[str, Any] = {
    "roleAssignmentName": "5f0c3c5e-8a43-5b4e-9b1a-0c2d3e4f5a6b",
    "principalId": "00000000-0000-4000-8000-000000000003",
    "principalType": "ServicePrincipal",
    "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458b",
    "scope": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
}
RESOURCE_GROUP_TYPE = "azure-native:resources:ResourceGroup"
GOOD_RESOURCE_GROUP: dict[str, Any] = {
    "resourceGroupName": "rg-grpc-dev-weu",
    "location": "westeurope",
    "tags": TAGS,
}
REGISTRY_TYPE = "azure-native:containerregistry:Registry"
GOOD_REGISTRY: dict[str, Any] = {
    "registryName": "acrgrpcdevweu",
    "sku": {"name": "Standard"},
    "adminUserEnabled": False,
    "anonymousPullEnabled": False,
    "tags": TAGS,
}
FEDERATED_TYPE = "azure-native:managedidentity:FederatedIdentityCredential"
GOOD_FEDERATED: dict[str, Any] = {
    "resourceName": "id-greeter-dev",
    "federatedIdentityCredentialResourceName": "greeter",
    "issuer": "https://westeurope.oic.prod-aks.azure.com/tenant/cluster/",
    "subject": "system:serviceaccount:grpc-greeter:greeter",
    "audiences": ["api://AzureADTokenExchange"],
}
APP_FEDERATED_TYPE = (
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
)

LABELS = {"app.kubernetes.io/name": "greeter"}
DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
GOOD_DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "greeter", "namespace": "grpc-greeter", "labels": LABELS},
    "spec": {
        "selector": {"matchLabels": LABELS},
        "template": {
            "metadata": {"labels": {**LABELS, "azure.workload.identity/use": "true"}},
            "spec": {
                "serviceAccountName": "greeter",
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001.0,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "greeter",
                        "image": "acrgrpcdevweu.azurecr.io/greeter:0.1.0",
                        "ports": [{"name": "grpc", "containerPort": 50051.0}],
                        "env": [{"name": "GRPC_PORT", "value": "50051"}],
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "128Mi"},
                            "limits": {"memory": "256Mi"},
                        },
                        "readinessProbe": {"grpc": {"port": 50051.0, "service": "readiness"}},
                        "livenessProbe": {"grpc": {"port": 50051.0, "service": "liveness"}},
                        "volumeMounts": [{"name": "secrets", "mountPath": "/mnt/secrets", "readOnly": True}],
                    }
                ],
                "volumes": [
                    {
                        "name": "secrets",
                        "csi": {
                            "driver": "secrets-store.csi.k8s.io",
                            "readOnly": True,
                            "volumeAttributes": {"secretProviderClass": "greeter"},
                        },
                    }
                ],
            },
        },
    },
}
C = "spec__template__spec__containers__0"
"""Path prefix of the Deployment's app container."""
POD_TYPE = "kubernetes:core/v1:Pod"
GOOD_POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "debug", "namespace": "grpc-greeter"},
    "spec": copy.deepcopy(GOOD_DEPLOYMENT["spec"]["template"]["spec"]),
}
CRONJOB_TYPE = "kubernetes:batch/v1:CronJob"
GOOD_CRONJOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "probe", "namespace": "grpc-greeter"},
    "spec": {
        "schedule": "*/5 * * * *",
        "jobTemplate": {"spec": {"template": copy.deepcopy(GOOD_DEPLOYMENT["spec"]["template"])}},
    },
}
PDB_TYPE = "kubernetes:policy/v1:PodDisruptionBudget"
GOOD_PDB: dict[str, Any] = {
    "apiVersion": "policy/v1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "greeter", "namespace": "grpc-greeter"},
    "spec": {"maxUnavailable": 1.0, "selector": {"matchLabels": LABELS}},
}
HPA_TYPE = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
GOOD_HPA: dict[str, Any] = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "greeter", "namespace": "grpc-greeter"},
    "spec": {
        "minReplicas": 2.0,
        "maxReplicas": 10.0,
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "greeter"},
        "metrics": [
            {
                "type": "ContainerResource",
                "containerResource": {
                    "name": "cpu",
                    "container": "greeter",
                    "target": {"type": "Utilization", "averageUtilization": 70.0},
                },
            }
        ],
    },
}
SCALED_OBJECT_TYPE = "kubernetes:keda.sh/v1alpha1:ScaledObject"
GOOD_SCALED_OBJECT: dict[str, Any] = {
    "apiVersion": "keda.sh/v1alpha1",
    "kind": "ScaledObject",
    "metadata": {"name": "greeter", "namespace": "grpc-greeter"},
    "spec": {
        "scaleTargetRef": {"name": "greeter"},
        "minReplicaCount": 2.0,
        "maxReplicaCount": 10.0,
        "triggers": [],
    },
}
SERVICE_TYPE = "kubernetes:core/v1:Service"
GOOD_SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "greeter", "namespace": "grpc-greeter"},
    "spec": {
        "selector": LABELS,
        "ports": [
            {"name": "grpc", "port": 50051.0, "targetPort": 50051.0, "appProtocol": "grpc"},
            {"name": "tls-greeter", "port": 50443.0, "targetPort": 50443.0, "appProtocol": "tls"},
            {"name": "http-metrics", "port": 9464.0, "targetPort": 9464.0, "appProtocol": "http"},
        ],
    },
}
NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
GOOD_NAMESPACE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {"name": "grpc-greeter", "labels": {"istio.io/rev": "asm-1-28"}},
}
PEER_AUTH_TYPE = "kubernetes:security.istio.io/v1:PeerAuthentication"
GOOD_PEER_AUTH: dict[str, Any] = {
    "apiVersion": "security.istio.io/v1",
    "kind": "PeerAuthentication",
    "metadata": {"name": "default", "namespace": "grpc-greeter"},
    "spec": {"mtls": {"mode": "STRICT"}},
}
DIAG_TYPE = "azure-native:monitor:DiagnosticSetting"
PUBLIC_IP_TYPE = "azure-native:network:PublicIPAddress"
GOOD_PUBLIC_IP: dict[str, Any] = {  # as the stack policy sees it after creation: with its address
    "publicIpAddressName": "pip-grpc-dev-weu-aks-egress",
    "sku": {"name": "Standard", "tier": "Regional"},
    "publicIPAllocationMethod": "Static",
    "ipAddress": "203.0.113.7",
    "tags": TAGS,
}
SPC_TYPE = "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass"
GOOD_SPC: dict[str, Any] = {
    "apiVersion": "secrets-store.csi.x-k8s.io/v1",
    "kind": "SecretProviderClass",
    "metadata": {"name": "greeter-secrets", "namespace": "grpc-greeter"},
    "spec": {
        "provider": "azure",
        "parameters": {
            "clientID": "00000000-0000-4000-8000-000000000009",
            "keyvaultName": "kv-grpc-dev-weu-1a2b",
            "tenantId": "00000000-0000-4000-8000-000000000002",
            "objects": "array:\n  - |\n    objectName: appinsights-connection-string\n    objectType: secret\n",
        },
    },
}
PRIVATE_ENDPOINT_TYPE = "azure-native:network:PrivateEndpoint"
PRIVATE_ENDPOINT: dict[str, Any] = {
    "privateEndpointName": "pe-kv-grpc-dev-weu-1a2b",
    "subnet": {
        "id": "/subscriptions/s/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/v/subnets/pe"
    },
    "privateLinkServiceConnections": [
        {
            "name": "pe-kv-grpc-dev-weu-1a2b",
            "privateLinkServiceId": UNKNOWN_STRING_VALUE,  # the vault's id: unknown before it exists
            "groupIds": ["vault"],
        }
    ],
}


def diagnostic(*categories: str, group: str | None = None) -> dict[str, Any]:
    logs = [{"category": c, "enabled": True} for c in categories]
    if group:
        logs.append({"categoryGroup": group, "enabled": True})
    return {
        "name": "diag-log-analytics",
        "resourceUri": UNKNOWN_STRING_VALUE,  # the target's id: unknown before the target exists
        "workspaceId": WORKSPACE_ID,
        "logAnalyticsDestinationType": "Dedicated",
        "logs": logs,
    }


GOOD_RESOURCES: list[tuple[str, dict[str, Any]]] = [
    (CLUSTER_TYPE, GOOD_CLUSTER),
    (AGENT_POOL_TYPE, GOOD_AGENT_POOL),
    (VAULT_TYPE, GOOD_VAULT),
    (SECRET_TYPE, GOOD_SECRET),
    (APIM_TYPE, GOOD_APIM),
    (API_TYPE, GOOD_API),
    (ROLE_ASSIGNMENT_TYPE, GOOD_ROLE_ASSIGNMENT),
    (RESOURCE_GROUP_TYPE, GOOD_RESOURCE_GROUP),
    (REGISTRY_TYPE, GOOD_REGISTRY),
    (FEDERATED_TYPE, GOOD_FEDERATED),
    (APP_FEDERATED_TYPE, GOOD_FEDERATED),
    (DEPLOYMENT_TYPE, GOOD_DEPLOYMENT),
    (POD_TYPE, GOOD_POD),
    (CRONJOB_TYPE, GOOD_CRONJOB),
    (PDB_TYPE, GOOD_PDB),
    (HPA_TYPE, GOOD_HPA),
    (SCALED_OBJECT_TYPE, GOOD_SCALED_OBJECT),
    (SERVICE_TYPE, GOOD_SERVICE),
    (NAMESPACE_TYPE, GOOD_NAMESPACE),
    (PEER_AUTH_TYPE, GOOD_PEER_AUTH),
]


def good_stack() -> list[StackResource]:
    """A small stack that passes every stack policy (and, resource by resource, every resource policy)."""
    return [
        StackResource(CLUSTER_TYPE, "cluster", GOOD_CLUSTER, ["egress-ip"]),
        StackResource(DIAG_TYPE, "cluster-diag", diagnostic("kube-audit-admin", "guard"), ["cluster"]),
        StackResource(PUBLIC_IP_TYPE, "egress-ip", GOOD_PUBLIC_IP),
        StackResource(VAULT_TYPE, "vault", GOOD_VAULT, ["egress-ip"]),
        StackResource(SPC_TYPE, "spc", GOOD_SPC),
        StackResource(
            DIAG_TYPE,
            "vault-diag",
            diagnostic(group="audit"),
            property_dependencies={"resourceUri": ["vault"]},
        ),
        StackResource(APIM_TYPE, "apim", GOOD_APIM),
        StackResource(DIAG_TYPE, "apim-diag", diagnostic("GatewayLogs"), ["apim"]),
        StackResource(NAMESPACE_TYPE, "namespace", GOOD_NAMESPACE),
        StackResource(PEER_AUTH_TYPE, "mtls", GOOD_PEER_AUTH),
        StackResource(DEPLOYMENT_TYPE, "deployment", GOOD_DEPLOYMENT),
        StackResource(PDB_TYPE, "pdb", GOOD_PDB),
        StackResource(HPA_TYPE, "hpa", GOOD_HPA),
        StackResource(SERVICE_TYPE, "service", GOOD_SERVICE),
    ]


def today_without_egress() -> list[StackResource]:
    """The plan's shape before the egress fix: AKS-managed egress, a vault firewall with no rule for it."""
    stack = stack_with("egress-ip", None)
    stack = [r for r in stack if r.name not in ("cluster", "vault")]
    cluster = changed(GOOD_CLUSTER, networkProfile__loadBalancerProfile=DELETE)
    vault = changed(GOOD_VAULT, properties__networkAcls__ipRules=[])
    return [
        *stack,
        StackResource(CLUSTER_TYPE, "cluster", cluster),
        StackResource(VAULT_TYPE, "vault", vault),
    ]


def stack_with(name: str, props: dict[str, Any] | None) -> list[StackResource]:
    """The good stack with one resource's props replaced (None removes the resource)."""
    result = []
    for resource in good_stack():
        if resource.name != name:
            result.append(resource)
        elif props is not None:
            result.append(
                StackResource(
                    resource.type, name, props, resource.dependencies, resource.property_dependencies
                )
            )
    return result


# ---------------------------------------------------------------------------------------------------
# Cases: (policy, resource type, violating props, compliant props); a policy with several rules may
# get one case per rule that a single case could not reach
# ---------------------------------------------------------------------------------------------------

RESOURCE_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    # AKS
    (
        "aks-local-accounts-disabled",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, disableLocalAccounts=DELETE),
        GOOD_CLUSTER,
    ),
    (
        "aks-local-accounts-disabled",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, disableLocalAccounts=False),
        GOOD_CLUSTER,
    ),
    (
        "aks-entra-id-azure-rbac",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, aadProfile__enableAzureRBAC=False),
        GOOD_CLUSTER,
    ),
    (
        "aks-api-server-access-restricted",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, apiServerAccessProfile=DELETE),
        changed(GOOD_CLUSTER, apiServerAccessProfile={"enablePrivateCluster": True}),
    ),
    (
        "aks-network-policy-enabled",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, networkProfile__networkPolicy="none"),
        GOOD_CLUSTER,
    ),
    (
        "aks-workload-identity-enabled",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, securityProfile__workloadIdentity=DELETE),
        GOOD_CLUSTER,
    ),
    (
        "aks-defender-enabled",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, securityProfile__defender=DELETE),
        GOOD_CLUSTER,
    ),
    (
        "aks-auto-upgrade-channels",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, autoUpgradeProfile__nodeOSUpgradeChannel="Unmanaged"),
        GOOD_CLUSTER,
    ),
    (
        "aks-azure-policy-addon",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, addonProfiles__azurepolicy=DELETE),
        GOOD_CLUSTER,
    ),
    (
        "aks-keyvault-csi-secret-rotation",
        CLUSTER_TYPE,
        # A bool here is the classic mistake: the add-on config is a map of strings.
        changed(GOOD_CLUSTER, addonProfiles__azureKeyvaultSecretsProvider__config__enableSecretRotation=True),
        GOOD_CLUSTER,
    ),
    (
        "aks-no-ssh-keys",
        CLUSTER_TYPE,
        changed(
            GOOD_CLUSTER,
            linuxProfile={"adminUsername": "azureuser", "ssh": {"publicKeys": [{"keyData": "ssh-rsa AAA"}]}},
        ),
        GOOD_CLUSTER,
    ),
    (
        "aks-node-ssh-disabled",
        AGENT_POOL_TYPE,
        changed(GOOD_AGENT_POOL, securityProfile=DELETE),
        GOOD_AGENT_POOL,
    ),
    (
        "aks-image-cleaner-enabled",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, securityProfile__imageCleaner=DELETE),
        GOOD_CLUSTER,
    ),
    (
        "aks-managed-prometheus-enabled",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, azureMonitorProfile__metrics__enabled=False),
        GOOD_CLUSTER,
    ),
    (
        "aks-container-insights-entra-auth",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, addonProfiles__omsagent__config__useAADAuth=DELETE),
        GOOD_CLUSTER,
    ),
    (
        "aks-system-pool-isolated",
        CLUSTER_TYPE,
        changed(GOOD_CLUSTER, agentPoolProfiles__0__nodeTaints=[]),
        GOOD_CLUSTER,
    ),
    # Key Vault
    (
        "keyvault-rbac-authorization",
        VAULT_TYPE,
        changed(GOOD_VAULT, properties__enableRbacAuthorization=False),
        GOOD_VAULT,
    ),
    (
        "keyvault-purge-protection",
        VAULT_TYPE,
        changed(GOOD_VAULT, properties__enablePurgeProtection=DELETE),
        GOOD_VAULT,
    ),
    (
        "keyvault-soft-delete-retention",
        VAULT_TYPE,
        changed(GOOD_VAULT, properties__softDeleteRetentionInDays=5.0),
        GOOD_VAULT,
    ),
    (
        "keyvault-firewall-default-deny",
        VAULT_TYPE,
        changed(GOOD_VAULT, properties__networkAcls__defaultAction="Allow"),
        GOOD_VAULT,
    ),
    (
        "keyvault-secret-expiration",
        SECRET_TYPE,
        changed(GOOD_SECRET, properties__attributes=DELETE),
        GOOD_SECRET,
    ),
    # API Management
    (
        "apim-no-legacy-tls",
        APIM_TYPE,
        changed(GOOD_APIM, customProperties={apim.LEGACY_PROTOCOL_PROPERTIES[0]: "True"}),
        GOOD_APIM,
    ),
    ("apim-no-weak-ciphers", APIM_TYPE, changed(GOOD_APIM, customProperties={}), GOOD_APIM),
    ("apim-system-assigned-identity", APIM_TYPE, changed(GOOD_APIM, identity=DELETE), GOOD_APIM),
    (
        "apim-self-hosted-gateway-tier",
        APIM_TYPE,
        changed(GOOD_APIM, sku__name="StandardV2"),
        changed(GOOD_APIM, sku__name="Premium"),
    ),
    ("apim-api-https-only", API_TYPE, changed(GOOD_API, protocols=["http", "https"]), GOOD_API),
    ("apim-grpc-api-empty-path", API_TYPE, changed(GOOD_API, path="greeter"), GOOD_API),
    # Azure identity, registry, tags
    (
        "azure-role-assignment-deterministic-name",
        ROLE_ASSIGNMENT_TYPE,
        changed(GOOD_ROLE_ASSIGNMENT, roleAssignmentName=DELETE),
        GOOD_ROLE_ASSIGNMENT,
    ),
    (
        "azure-required-tags",
        RESOURCE_GROUP_TYPE,
        changed(GOOD_RESOURCE_GROUP, tags={"environment": "dev"}),
        GOOD_RESOURCE_GROUP,
    ),
    (
        "acr-no-admin-or-anonymous-pull",
        REGISTRY_TYPE,
        changed(GOOD_REGISTRY, adminUserEnabled=True),
        GOOD_REGISTRY,
    ),
    (
        "workload-identity-federated-credential",
        FEDERATED_TYPE,
        changed(GOOD_FEDERATED, audiences=["api://AzureADTokenExchange", "https://example.com"]),
        GOOD_FEDERATED,
    ),
    # Pod Security Standards (restricted)
    (
        "k8s-run-as-non-root",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, spec__template__spec__securityContext__runAsNonRoot=DELETE),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-run-as-non-root",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, **{f"{C}__securityContext__runAsNonRoot": False}),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-no-privilege-escalation",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, **{f"{C}__securityContext__allowPrivilegeEscalation": DELETE}),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-drop-all-capabilities",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, **{f"{C}__securityContext__capabilities__drop": ["NET_RAW"]}),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-drop-all-capabilities",
        DEPLOYMENT_TYPE,
        changed(
            GOOD_DEPLOYMENT,
            **{f"{C}__securityContext__capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]}},
        ),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-seccomp-runtime-default",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, spec__template__spec__securityContext__seccompProfile=DELETE),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-read-only-root-filesystem",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, **{f"{C}__securityContext__readOnlyRootFilesystem": False}),
        GOOD_DEPLOYMENT,
    ),
    ("k8s-no-host-namespaces", POD_TYPE, changed(GOOD_POD, spec__hostNetwork=True), GOOD_POD),
    (
        "k8s-no-host-path-volumes",
        DEPLOYMENT_TYPE,
        changed(
            GOOD_DEPLOYMENT,
            spec__template__spec__volumes=[{"name": "docker", "hostPath": {"path": "/var/run"}}],
        ),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-no-privileged-containers",
        CRONJOB_TYPE,
        changed(
            GOOD_CRONJOB,
            spec__jobTemplate__spec__template__spec__containers__0__securityContext__privileged=True,
        ),
        GOOD_CRONJOB,
    ),
    (
        "k8s-secrets-as-files",
        DEPLOYMENT_TYPE,
        changed(
            GOOD_DEPLOYMENT,
            **{
                f"{C}__env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "token"}}}]
            },
        ),
        GOOD_DEPLOYMENT,
    ),
    # Reliability
    (
        "k8s-resource-requests-limits",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, **{f"{C}__resources__limits": DELETE}),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-probes",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, **{f"{C}__readinessProbe": DELETE}),
        GOOD_DEPLOYMENT,
    ),
    (
        "k8s-image-pinned",
        DEPLOYMENT_TYPE,
        changed(GOOD_DEPLOYMENT, **{f"{C}__image": "greeter:latest"}),
        GOOD_DEPLOYMENT,
    ),
    ("k8s-pdb-allows-drain", PDB_TYPE, changed(GOOD_PDB, spec__maxUnavailable=0.0), GOOD_PDB),
    ("k8s-autoscaler-min-replicas", HPA_TYPE, changed(GOOD_HPA, spec__minReplicas=DELETE), GOOD_HPA),
    (
        "k8s-grpc-service-ports",
        SERVICE_TYPE,
        changed(GOOD_SERVICE, spec__ports__0__appProtocol=DELETE),
        GOOD_SERVICE,
    ),
    # Istio
    (
        "istio-peer-authentication-strict",
        PEER_AUTH_TYPE,
        changed(GOOD_PEER_AUTH, spec__mtls__mode="PERMISSIVE"),
        GOOD_PEER_AUTH,
    ),
    (
        "istio-revision-label",
        NAMESPACE_TYPE,
        changed(GOOD_NAMESPACE, metadata__labels={"istio-injection": "enabled"}),
        GOOD_NAMESPACE,
    ),
]

STACK_CASES: list[tuple[str, list[StackResource], list[StackResource]]] = [
    ("k8s-workload-has-drainable-pdb", stack_with("pdb", None), good_stack()),
    (
        "k8s-autoscaler-target-exists",
        stack_with("hpa", changed(GOOD_HPA, spec__scaleTargetRef__name="gretter")),
        good_stack(),
    ),
    (
        "k8s-no-replicas-with-autoscaler",
        stack_with("deployment", changed(GOOD_DEPLOYMENT, spec__replicas=2.0)),
        good_stack(),
    ),
    ("istio-meshed-namespace-strict-mtls", stack_with("mtls", None), good_stack()),
    ("aks-diagnostic-audit-logs", stack_with("cluster-diag", diagnostic("kube-audit-admin")), good_stack()),
    ("keyvault-diagnostic-audit-events", stack_with("vault-diag", None), good_stack()),
    (
        "apim-diagnostic-gateway-logs",
        stack_with("apim-diag", changed(diagnostic("GatewayLogs"), workspaceId=DELETE)),
        good_stack(),
    ),
    ("keyvault-admits-cluster-egress", today_without_egress(), good_stack()),
]


# ---------------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------------


def test_every_policy_has_a_violating_and_a_compliant_case() -> None:
    tested = [case[0] for case in RESOURCE_CASES] + [case[0] for case in STACK_CASES]
    assert set(tested) == set(POLICIES), "add a case for every new policy (and remove cases of deleted ones)"


def test_the_pack_has_at_least_25_uniquely_named_policies_with_a_deliberate_level() -> None:
    names = [p.name for p in ALL_POLICIES]
    assert len(names) == len(set(names)) >= 25
    for policy in ALL_POLICIES:
        assert policy.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY), (
            policy.name
        )
        assert policy.remediation_steps and policy.tags, f"{policy.name} names its fix and its source"


def test_all_policies_lists_every_policy_defined_in_the_area_modules() -> None:
    modules = [
        importlib.import_module(f"policy.{info.name}")
        for info in pkgutil.iter_modules(pack.__path__)
        if info.name != "__main__"  # builds the PolicyPack, which starts a server
    ]
    assert {m.__name__ for m in modules} >= {"policy.cluster", "policy.pods", "policy.stack"}
    defined = {
        value.name
        for module in modules
        for value in vars(module).values()
        if isinstance(value, ResourceValidationPolicy | StackValidationPolicy)
    }
    assert defined == set(POLICIES)


@pytest.mark.parametrize(
    ("name", "resource_type", "bad", "good"),
    RESOURCE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(RESOURCE_CASES)],
)
def test_resource_policy_flags_the_violation_and_passes_the_compliant_input(
    name: str, resource_type: str, bad: dict[str, Any], good: dict[str, Any]
) -> None:
    policy = POLICIES[name]
    assert isinstance(policy, ResourceValidationPolicy)
    assert violations(policy, resource_args(resource_type, bad)), f"{name} missed the violation"
    assert violations(policy, resource_args(resource_type, good)) == []


@pytest.mark.parametrize(("name", "bad", "good"), STACK_CASES, ids=[c[0] for c in STACK_CASES])
def test_stack_policy_flags_the_violation_and_passes_the_compliant_stack(
    name: str, bad: list[StackResource], good: list[StackResource]
) -> None:
    policy = POLICIES[name]
    assert isinstance(policy, StackValidationPolicy)
    assert violations(policy, stack_args(bad)), f"{name} missed the violation"
    assert violations(policy, stack_args(good)) == []


@pytest.mark.parametrize(("resource_type", "props"), GOOD_RESOURCES, ids=[t for t, _ in GOOD_RESOURCES])
def test_known_good_resources_pass_every_policy(resource_type: str, props: dict[str, Any]) -> None:
    found = {
        p.name: violations(p, resource_args(resource_type, props))
        for p in ALL_POLICIES
        if isinstance(p, ResourceValidationPolicy)
    }
    assert {k: v for k, v in found.items() if v} == {}


def test_known_good_stack_passes_every_stack_policy() -> None:
    found = {
        p.name: violations(p, stack_args(good_stack()))
        for p in ALL_POLICIES
        if isinstance(p, StackValidationPolicy)
    }
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize(
    "resource_type",
    [
        CLUSTER_TYPE,
        VAULT_TYPE,
        APIM_TYPE,
        API_TYPE,
        DEPLOYMENT_TYPE,
        SERVICE_TYPE,
        PDB_TYPE,
        HPA_TYPE,
        PEER_AUTH_TYPE,
        NAMESPACE_TYPE,
    ],
)
def test_resource_policies_never_crash_on_empty_or_partial_props(resource_type: str) -> None:
    for props in (
        {},
        {"spec": None, "metadata": None, "properties": None},
        {"spec": {"template": {"spec": {"containers": [None]}}}},
    ):
        for policy in ALL_POLICIES:
            if isinstance(policy, ResourceValidationPolicy):
                violations(policy, resource_args(resource_type, props))


def test_stack_policies_never_crash_on_empty_objects() -> None:
    empty = [StackResource(t, f"r{i}", {}) for i, (t, _) in enumerate(GOOD_RESOURCES)] + [
        StackResource(DIAG_TYPE, "d", {})
    ]
    for policy in ALL_POLICIES:
        if isinstance(policy, StackValidationPolicy):
            violations(policy, stack_args(empty))


def test_policies_ignore_resources_of_other_types() -> None:
    vault_policy = POLICIES["keyvault-purge-protection"]
    assert violations(vault_policy, resource_args(REGISTRY_TYPE, {})) == []
    assert violations(POLICIES["k8s-probes"], resource_args(SERVICE_TYPE, {})) == []


def test_versioned_azure_native_type_tokens_are_checked_too() -> None:
    props = changed(GOOD_VAULT, properties__enablePurgeProtection=False)
    assert violations(
        POLICIES["keyvault-purge-protection"], resource_args("azure-native:keyvault/v20240401:Vault", props)
    )


def test_a_value_unknown_during_preview_is_left_to_the_analyzer() -> None:
    # The analyzer turns UnknownValueError into "can't run policy during preview" and re-checks on `up`.
    props = changed(GOOD_CLUSTER, disableLocalAccounts=UNKNOWN_STRING_VALUE)
    with pytest.raises(UnknownValueError):
        violations(POLICIES["aks-local-accounts-disabled"], resource_args(CLUSTER_TYPE, props))


def test_diagnostics_match_their_target_by_dependency_when_the_id_is_unknown() -> None:
    # resourceUri is UNKNOWN in good_stack(); only the dependency links the setting to the cluster.
    unlinked = [
        StackResource(r.type, r.name, r.props) if r.name == "cluster-diag" else r for r in good_stack()
    ]
    assert violations(POLICIES["aks-diagnostic-audit-logs"], stack_args(unlinked))


def test_diagnostic_categories_may_be_split_over_two_settings() -> None:
    split = [
        *stack_with("cluster-diag", diagnostic("kube-audit-admin")),
        StackResource(DIAG_TYPE, "guard", diagnostic("guard"), ["cluster"]),
    ]
    assert violations(POLICIES["aks-diagnostic-audit-logs"], stack_args(split)) == []


def test_pdb_min_available_must_stay_below_the_autoscaler_minimum() -> None:
    blocking = stack_with("pdb", changed(GOOD_PDB, spec__maxUnavailable=DELETE, spec__minAvailable=2.0))
    assert violations(POLICIES["k8s-workload-has-drainable-pdb"], stack_args(blocking))
    draining = stack_with("pdb", changed(GOOD_PDB, spec__maxUnavailable=DELETE, spec__minAvailable="50%"))
    assert violations(POLICIES["k8s-workload-has-drainable-pdb"], stack_args(draining)) == []


def test_stack_policies_read_declared_kubernetes_inputs_not_live_defaults() -> None:
    # After `up`, outputs of a Kubernetes object are the live object (spec.replicas filled in by the
    # HPA) with the declared inputs under __inputs: only the declared ones count.
    live = {**changed(GOOD_DEPLOYMENT, spec__replicas=3.0), "__inputs": copy.deepcopy(GOOD_DEPLOYMENT)}
    assert (
        violations(POLICIES["k8s-no-replicas-with-autoscaler"], stack_args(stack_with("deployment", live)))
        == []
    )


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("mcr.microsoft.com/azure-api-management/gateway:2.11.0", True),
        ("localhost:5000/greeter", False),
        ("localhost:5000/greeter:0.1.0", True),
        ("greeter@sha256:" + "a" * 64, True),
        ("greeter:LATEST", False),
        ("", False),
    ],
)
def test_image_pinning_understands_registry_ports_and_digests(image: str, pinned: bool) -> None:
    assert (workload.image_problem(image) is None) is pinned


def test_min_available_percentage_is_rounded_up_like_the_disruption_controller() -> None:
    # 67% of 3 pods rounds up to 3: nothing may ever be evicted.
    three = stack_with("hpa", changed(GOOD_HPA, spec__minReplicas=3.0))
    three = [
        StackResource(
            r.type, r.name, changed(GOOD_PDB, spec__maxUnavailable=DELETE, spec__minAvailable="67%")
        )
        if r.name == "pdb"
        else r
        for r in three
    ]
    assert violations(POLICIES["k8s-workload-has-drainable-pdb"], stack_args(three))


# --- keyvault-admits-cluster-egress -----------------------------------------------------------------

EGRESS_POLICY = POLICIES["keyvault-admits-cluster-egress"]


def _egress_violations(stack: list[StackResource]) -> list[str]:
    return violations(EGRESS_POLICY, stack_args(stack))


def _replace(stack: list[StackResource], replacement: StackResource) -> list[StackResource]:
    return [replacement if r.name == replacement.name else r for r in stack]


def test_a_firewall_rule_for_another_address_does_not_admit_the_egress() -> None:
    vault = StackResource(
        VAULT_TYPE,
        "vault",
        changed(GOOD_VAULT, properties__networkAcls__ipRules=[{"value": "198.51.100.9/32"}]),
        ["egress-ip"],
    )
    (message,) = _egress_violations(_replace(good_stack(), vault))
    assert "does not admit the cluster's egress IP 203.0.113.7" in message


def test_a_range_covering_the_egress_address_admits_it() -> None:
    vault = StackResource(
        VAULT_TYPE,
        "vault",
        changed(GOOD_VAULT, properties__networkAcls__ipRules=[{"value": "203.0.113.0/24"}]),
    )
    assert _egress_violations(_replace(good_stack(), vault)) == []


def test_a_private_endpoint_serves_a_vault_whose_firewall_has_no_rule_for_the_egress() -> None:
    stack = today_without_egress()
    assert _egress_violations(stack)
    endpoint = StackResource(
        PRIVATE_ENDPOINT_TYPE,
        "vault-pe",
        PRIVATE_ENDPOINT,
        property_dependencies={"privateLinkServiceConnections": ["vault"]},
    )
    assert _egress_violations([*stack, endpoint]) == []


def test_a_private_endpoint_of_another_service_does_not_count() -> None:
    other = changed(PRIVATE_ENDPOINT, privateLinkServiceConnections__0__groupIds=["blob"])
    endpoint = StackResource(PRIVATE_ENDPOINT_TYPE, "vault-pe", other, ["vault"])
    assert _egress_violations([*today_without_egress(), endpoint])


def test_during_preview_the_vault_rules_must_come_from_the_egress_ip() -> None:
    # Before the IP exists its address is unknown: the vault's rule is an unknown value derived from it.
    preview_ip = StackResource(PUBLIC_IP_TYPE, "egress-ip", changed(GOOD_PUBLIC_IP, ipAddress=DELETE))
    preview_vault = changed(GOOD_VAULT, properties__networkAcls__ipRules=[{"value": UNKNOWN_STRING_VALUE}])
    derived = StackResource(VAULT_TYPE, "vault", preview_vault, ["egress-ip"])
    unrelated = StackResource(VAULT_TYPE, "vault", preview_vault)
    stack = _replace(good_stack(), preview_ip)
    assert _egress_violations(_replace(stack, derived)) == []
    assert _egress_violations(_replace(stack, unrelated))
    no_rules = StackResource(
        VAULT_TYPE, "vault", changed(GOOD_VAULT, properties__networkAcls__ipRules=[]), ["egress-ip"]
    )
    assert _egress_violations(_replace(stack, no_rules))


def test_a_vault_no_secret_provider_class_reads_is_not_judged() -> None:
    assert _egress_violations([r for r in today_without_egress() if r.name != "spc"]) == []


def test_a_vault_with_public_access_disabled_and_no_private_endpoint_is_unreachable() -> None:
    vault = StackResource(
        VAULT_TYPE, "vault", changed(GOOD_VAULT, properties__publicNetworkAccess="Disabled"), ["egress-ip"]
    )
    assert _egress_violations(_replace(good_stack(), vault))
