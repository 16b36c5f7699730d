"""The aks-grpc guardrails as CrossGuard policies: importable, so each is unit-tested directly.

Every policy is a module-level object and is listed in `ALL_POLICIES`; `__main__.py` only builds the
`PolicyPack` from that list. The props a validation receives are the resource inputs as the engine sees
them (camelCase, numbers as floats, nested values wrapped in read-only `Mapping`/`Sequence` proxies that
raise `UnknownValueError` for values unknown during preview), so every helper here works on the `Mapping`
and `Sequence` ABCs, never on `dict`/`list`, and treats a missing or partial value as "not set".

Resource policies let `UnknownValueError` propagate: the analyzer then reports "can't run during preview"
for that one resource and runs the policy again on `pulumi up`. Stack policies skip the one resource whose
value is unknown (see `_known`) instead of giving up on the whole stack.

Sources: CIS Azure Kubernetes Service Benchmark (CIS AKS), Azure Policy built-in definitions (AP), the
Kubernetes Pod Security Standards, profile "restricted" (PSS), and docs/DESIGN facts (platform). The
table in docs/policy.md lists every policy with its source, enforcement level and reason.
"""

import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

# ---------------------------------------------------------------------------------------------------
# Reading engine values safely
# ---------------------------------------------------------------------------------------------------


def dig(value: Any, *path: str | int) -> Any:
    """The value at `path` (keys and list indexes), or None as soon as any step is missing."""
    for step in path:
        if isinstance(step, int):
            if not _is_list(value) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        elif isinstance(value, Mapping):
            value = value.get(step)
        else:
            return None
    return value


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    return list(value) if _is_list(value) else []


def as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def is_true(value: Any) -> bool:
    """True for the boolean `true` and for the string "true" (ARM maps and CRDs use strings)."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def number(value: Any) -> float | None:
    """A number (the engine sends floats), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        return float(value)
    return None


def get_ci(mapping: Any, key: str) -> Any:
    """A key looked up case-insensitively (ARM treats add-on and customProperties keys so)."""
    for candidate, value in as_map(mapping).items():
        if isinstance(candidate, str) and candidate.lower() == key.lower():
            return value
    return None


def azure_type(resource_type: str) -> str | None:
    """`azure-native:keyvault/v20230701:Vault` or `azure-native:keyvault:Vault` -> `keyvault:Vault`."""
    if not resource_type.startswith("azure-native:"):
        return None
    _, module, name = [*resource_type.split(":"), "", ""][:3]
    return f"{module.split('/')[0]}:{name}"


def k8s_kind(resource_type: str) -> tuple[str, str] | None:
    """`kubernetes:apps/v1:Deployment` -> ("apps", "Deployment"); core kinds have group "core"."""
    if not resource_type.startswith("kubernetes:") or resource_type.count(":") != 2:
        return None
    _, api_version, kind = resource_type.split(":")
    return api_version.split("/")[0] if "/" in api_version else "core", kind


# ---------------------------------------------------------------------------------------------------
# Policy builders
# ---------------------------------------------------------------------------------------------------

Check = Callable[[str, Mapping[str, Any]], Iterable[str]]
"""A resource check: (resource type, props) -> violation messages."""


def resource_policy(
    name: str,
    description: str,
    enforcement: EnforcementLevel,
    applies: Callable[[str], bool],
    check: Check,
    remediation: str,
    source: str,
) -> ResourceValidationPolicy:
    """A ResourceValidationPolicy that runs `check` on the resources `applies` selects."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not applies(args.resource_type):
            return
        for message in check(args.resource_type, as_map(args.props)):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        remediation_steps=remediation,
        tags=[source],
    )


def stack_policy(
    name: str,
    description: str,
    enforcement: EnforcementLevel,
    check: Callable[[list[PolicyResource]], Iterable[tuple[str, str | None]]],
    remediation: str,
    source: str,
) -> StackValidationPolicy:
    """A StackValidationPolicy: `check` yields (message, urn of the offending resource)."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for message, urn in check(list(args.resources)):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement,
        remediation_steps=remediation,
        tags=[source],
    )


def of_azure(*types: str) -> Callable[[str], bool]:
    wanted = set(types)
    return lambda resource_type: azure_type(resource_type) in wanted


def of_kinds(*kinds: str, group: str | None = None) -> Callable[[str], bool]:
    wanted = set(kinds)

    def applies(resource_type: str) -> bool:
        found = k8s_kind(resource_type)
        return found is not None and found[1] in wanted and (group is None or found[0] == group)

    return applies


# ---------------------------------------------------------------------------------------------------
# AKS: azure-native:containerservice:ManagedCluster (and AgentPool)
# ---------------------------------------------------------------------------------------------------

MANAGED_CLUSTER = of_azure("containerservice:ManagedCluster")


def _local_accounts(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if props.get("disableLocalAccounts") is not True:
        yield (
            "disableLocalAccounts must be true: local accounts give a static admin kubeconfig "
            "that bypasses Entra ID"
        )


aks_local_accounts_disabled = resource_policy(
    "aks-local-accounts-disabled",
    "AKS clusters have local (certificate) accounts disabled.",
    MANDATORY,
    MANAGED_CLUSTER,
    _local_accounts,
    "Set disable_local_accounts=True on the ManagedCluster; authenticate with kubelogin.",
    "AP: Azure Kubernetes Service Clusters should have local authentication methods disabled",
)


def _entra_rbac(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    aad = as_map(props.get("aadProfile"))
    if aad.get("managed") is not True:
        yield "aadProfile.managed must be true (Entra ID integration)"
    if aad.get("enableAzureRBAC") is not True:
        yield "aadProfile.enableAzureRBAC must be true (Azure RBAC for Kubernetes authorization)"
    if props.get("enableRBAC") is False:
        yield "enableRBAC must not be false"


aks_entra_id_azure_rbac = resource_policy(
    "aks-entra-id-azure-rbac",
    "AKS clusters use Entra ID integration with Azure RBAC for Kubernetes authorization.",
    MANDATORY,
    MANAGED_CLUSTER,
    _entra_rbac,
    "Set aad_profile=ManagedClusterAADProfileArgs(managed=True, enable_azure_rbac=True) and "
    "enable_rbac=True.",
    "CIS AKS 5.5 (manage Kubernetes RBAC users with Entra ID; Azure RBAC); AP: should enable "
    "Entra ID integration",
)


def _api_server_access(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    access = as_map(props.get("apiServerAccessProfile"))
    if access.get("enablePrivateCluster") is True or as_list(access.get("authorizedIPRanges")):
        return
    yield (
        "the API server is reachable from any address: set "
        "apiServerAccessProfile.authorizedIPRanges or enablePrivateCluster"
    )


aks_api_server_access_restricted = resource_policy(
    "aks-api-server-access-restricted",
    "The AKS API server is private or restricted to authorized IP ranges.",
    ADVISORY,
    MANAGED_CLUSTER,
    _api_server_access,
    "Set api_server_access_profile.authorized_ip_ranges (or enable_private_cluster with a "
    "self-hosted runner).",
    "CIS AKS 5.4.1 / 5.4.2; AP: Authorized IP ranges should be defined on Kubernetes Services",
)


def _network_policy(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    engine = dig(props, "networkProfile", "networkPolicy")
    if not isinstance(engine, str) or engine.lower() in ("", "none"):
        yield "networkProfile.networkPolicy must name a network policy engine (cilium, azure or calico)"


aks_network_policy_enabled = resource_policy(
    "aks-network-policy-enabled",
    "AKS clusters enforce Kubernetes NetworkPolicy (a network policy engine is set).",
    MANDATORY,
    MANAGED_CLUSTER,
    _network_policy,
    "Set network_profile.network_policy='cilium' with network_dataplane='cilium'.",
    "CIS AKS 5.4.4 Ensure Network Policy is Enabled and set as appropriate",
)


def _workload_identity(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if dig(props, "oidcIssuerProfile", "enabled") is not True:
        yield "oidcIssuerProfile.enabled must be true"
    if dig(props, "securityProfile", "workloadIdentity", "enabled") is not True:
        yield "securityProfile.workloadIdentity.enabled must be true"


aks_workload_identity_enabled = resource_policy(
    "aks-workload-identity-enabled",
    "AKS clusters have the OIDC issuer and Entra workload identity enabled.",
    MANDATORY,
    MANAGED_CLUSTER,
    _workload_identity,
    "Set oidc_issuer_profile.enabled=True and security_profile.workload_identity.enabled=True.",
    "CIS AKS 5.2 (prefer dedicated identities); platform: secrets via workload identity",
)


def _defender(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if dig(props, "securityProfile", "defender", "securityMonitoring", "enabled") is not True:
        yield (
            "securityProfile.defender.securityMonitoring.enabled is not true (Defender for Containers sensor)"
        )


aks_defender_enabled = resource_policy(
    "aks-defender-enabled",
    "AKS clusters run the Microsoft Defender for Containers sensor.",
    ADVISORY,
    MANAGED_CLUSTER,
    _defender,
    "Enable the Defender for Containers plan and set security_profile.defender (workspace + "
    "security_monitoring).",
    "AP: Azure Kubernetes Service clusters should have Defender profile enabled",
)


def _upgrade_channels(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    upgrade = as_map(props.get("autoUpgradeProfile"))
    channel = upgrade.get("upgradeChannel")
    if not isinstance(channel, str) or channel.lower() == "none":
        yield "autoUpgradeProfile.upgradeChannel must be set (patch, stable, rapid or node-image), not none"
    node_os = upgrade.get("nodeOSUpgradeChannel")
    if not isinstance(node_os, str) or node_os.lower() in ("none", "unmanaged"):
        yield "autoUpgradeProfile.nodeOSUpgradeChannel must be NodeImage or SecurityPatch"


aks_auto_upgrade_channels = resource_policy(
    "aks-auto-upgrade-channels",
    "AKS clusters have a Kubernetes auto-upgrade channel and a managed node OS upgrade channel.",
    MANDATORY,
    MANAGED_CLUSTER,
    _upgrade_channels,
    "Set auto_upgrade_profile(upgrade_channel='patch', node_os_upgrade_channel='NodeImage') + "
    "maintenance windows.",
    "CIS AKS 3.x/5.x (keep nodes and control plane patched); AKS docs: auto-upgrade",
)


def _azure_policy_addon(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if not is_true(dig(get_ci(props.get("addonProfiles"), "azurepolicy"), "enabled")):
        yield "addonProfiles.azurepolicy.enabled must be true"


aks_azure_policy_addon = resource_policy(
    "aks-azure-policy-addon",
    "AKS clusters run the Azure Policy add-on (Gatekeeper) so in-cluster admission policies apply.",
    MANDATORY,
    MANAGED_CLUSTER,
    _azure_policy_addon,
    "Add addon_profiles={'azurepolicy': ManagedClusterAddonProfileArgs(enabled=True)}.",
    "AP: Azure Policy Add-on for Kubernetes service (AKS) should be installed and enabled",
)


def _csi_rotation(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    addon = as_map(get_ci(props.get("addonProfiles"), "azureKeyvaultSecretsProvider"))
    if not is_true(addon.get("enabled")):
        yield "addonProfiles.azureKeyvaultSecretsProvider.enabled must be true"
        return
    rotation = get_ci(addon.get("config"), "enableSecretRotation")
    if rotation is True:
        yield (
            "azureKeyvaultSecretsProvider.config.enableSecretRotation must be the string "
            '"true" (config is a string map)'
        )
    elif not is_true(rotation):
        yield 'azureKeyvaultSecretsProvider.config.enableSecretRotation must be "true"'


aks_keyvault_csi_secret_rotation = resource_policy(
    "aks-keyvault-csi-secret-rotation",
    "The Key Vault Secrets Store CSI add-on is enabled with secret rotation.",
    MANDATORY,
    MANAGED_CLUSTER,
    _csi_rotation,
    "addon_profiles['azureKeyvaultSecretsProvider'] = enabled=True, config={'enableSecretRotation': 'true'}.",
    "CIS AKS 4.4.2 (external secret storage); platform: secrets as CSI files, rotated",
)


def _no_ssh_keys(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    keys = as_list(dig(props, "linuxProfile", "ssh", "publicKeys"))
    if keys:
        yield (
            f"linuxProfile.ssh holds {len(keys)} SSH public key(s): node access goes through "
            "`kubectl debug`, not SSH"
        )


aks_no_ssh_keys = resource_policy(
    "aks-no-ssh-keys",
    "AKS nodes get no SSH public keys (no linuxProfile.ssh).",
    MANDATORY,
    MANAGED_CLUSTER,
    _no_ssh_keys,
    "Remove linux_profile from the ManagedCluster.",
    "CIS AKS 3.x (minimise node access); AKS docs: manage SSH access",
)


def _pool_ssh(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    if azure_type(resource_type) == "containerservice:AgentPool":
        pools: list[Any] = [props]
    else:
        pools = as_list(props.get("agentPoolProfiles"))
    for pool in pools:
        access = dig(pool, "securityProfile", "sshAccess")
        if not (isinstance(access, str) and access.lower() == "disabled"):
            label = dig(pool, "name") or dig(pool, "agentPoolName") or "agent pool"
            yield f"{label}: securityProfile.sshAccess is not Disabled"


aks_node_ssh_disabled = resource_policy(
    "aks-node-ssh-disabled",
    "Every AKS node pool has the SSH service disabled (securityProfile.sshAccess Disabled).",
    ADVISORY,
    of_azure("containerservice:ManagedCluster", "containerservice:AgentPool"),
    _pool_ssh,
    "Set security_profile=AgentPoolSecurityProfileArgs(ssh_access='Disabled') on every pool.",
    "CIS AKS 3.x (minimise node access); AKS docs: manage SSH access",
)


def _image_cleaner(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if dig(props, "securityProfile", "imageCleaner", "enabled") is not True:
        yield "securityProfile.imageCleaner.enabled is not true (stale, vulnerable images stay on nodes)"


aks_image_cleaner_enabled = resource_policy(
    "aks-image-cleaner-enabled",
    "AKS clusters run Image Cleaner to remove unused, vulnerable images from nodes.",
    ADVISORY,
    MANAGED_CLUSTER,
    _image_cleaner,
    "Set security_profile.image_cleaner=ManagedClusterSecurityProfileImageCleanerArgs(enabled=True, "
    "interval_hours=168).",
    "AP: Azure Kubernetes Service Clusters should enable Image Cleaner",
)


def _managed_prometheus(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if dig(props, "azureMonitorProfile", "metrics", "enabled") is not True:
        yield "azureMonitorProfile.metrics.enabled must be true (managed Prometheus metrics add-on)"


aks_managed_prometheus_enabled = resource_policy(
    "aks-managed-prometheus-enabled",
    "AKS clusters run the managed Prometheus metrics add-on.",
    MANDATORY,
    MANAGED_CLUSTER,
    _managed_prometheus,
    "Set azure_monitor_profile.metrics.enabled=True and associate the Prometheus DCR/DCE with the cluster.",
    "platform: managed Prometheus (DESIGN); AP: Azure Monitor metrics should be enabled for AKS",
)


def _container_insights(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    addon = as_map(get_ci(props.get("addonProfiles"), "omsagent"))
    if not is_true(addon.get("enabled")):
        yield "addonProfiles.omsagent.enabled must be true (Container Insights)"
    elif not is_true(get_ci(addon.get("config"), "useAADAuth")):
        yield (
            'addonProfiles.omsagent.config.useAADAuth must be "true" (managed identity auth, '
            "no workspace key)"
        )


aks_container_insights_entra_auth = resource_policy(
    "aks-container-insights-entra-auth",
    "Container Insights (omsagent) is enabled and authenticates with Entra ID, not the workspace key.",
    MANDATORY,
    MANAGED_CLUSTER,
    _container_insights,
    "addon_profiles['omsagent'] = enabled=True, config={'logAnalyticsWorkspaceResourceID': ..., "
    "'useAADAuth': 'true'}.",
    "CIS AKS 2.1.1 (enable logging); AP: AKS clusters should have Container Insights enabled",
)


def _system_pool_tainted(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    for pool in as_list(props.get("agentPoolProfiles")):
        if str(dig(pool, "mode") or "").lower() != "system":
            continue
        taints = [str(t) for t in as_list(dig(pool, "nodeTaints"))]
        if not any(t.startswith("CriticalAddonsOnly") for t in taints):
            yield (
                f"system pool {dig(pool, 'name') or ''!s}: nodeTaints lacks "
                "CriticalAddonsOnly=true:NoSchedule"
            )


aks_system_pool_isolated = resource_policy(
    "aks-system-pool-isolated",
    "The AKS system pool is tainted CriticalAddonsOnly so workloads run on user pools.",
    ADVISORY,
    MANAGED_CLUSTER,
    _system_pool_tainted,
    "Add node_taints=['CriticalAddonsOnly=true:NoSchedule'] to the system pool; add a User AgentPool.",
    "AKS docs: system and user node pools (reliability best practice)",
)


# ---------------------------------------------------------------------------------------------------
# Key Vault
# ---------------------------------------------------------------------------------------------------

VAULT = of_azure("keyvault:Vault")


def _vault_rbac(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if dig(props, "properties", "enableRbacAuthorization") is not True:
        yield "properties.enableRbacAuthorization must be true (no access policies)"
    if as_list(dig(props, "properties", "accessPolicies")):
        yield "properties.accessPolicies must be empty when using the RBAC permission model"


keyvault_rbac_authorization = resource_policy(
    "keyvault-rbac-authorization",
    "Key Vaults use the Azure RBAC permission model, not access policies.",
    MANDATORY,
    VAULT,
    _vault_rbac,
    "Set properties.enable_rbac_authorization=True and grant data roles with role assignments.",
    "AP: Azure Key Vault should use RBAC permission model",
)


def _purge_protection(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if dig(props, "properties", "enablePurgeProtection") is not True:
        yield "properties.enablePurgeProtection must be true"


keyvault_purge_protection = resource_policy(
    "keyvault-purge-protection",
    "Key Vaults have purge protection enabled.",
    MANDATORY,
    VAULT,
    _purge_protection,
    "Set properties.enable_purge_protection=True (it can never be turned off again).",
    "AP: Key vaults should have deletion protection enabled",
)

MINIMUM_SOFT_DELETE_DAYS = 7
"""Azure Policy's floor; the platform configures 90 (the Azure maximum and default)."""


def _soft_delete(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    properties = as_map(props.get("properties"))
    if properties.get("enableSoftDelete") is False:
        yield "properties.enableSoftDelete must not be false"
    days = number(properties.get("softDeleteRetentionInDays"))
    if days is None:
        yield "properties.softDeleteRetentionInDays must be set explicitly (the platform uses 90)"
    elif days < MINIMUM_SOFT_DELETE_DAYS:
        yield (
            f"properties.softDeleteRetentionInDays is {days:g}; at least "
            f"{MINIMUM_SOFT_DELETE_DAYS} (platform: 90)"
        )


keyvault_soft_delete_retention = resource_policy(
    "keyvault-soft-delete-retention",
    f"Key Vaults keep soft delete on with an explicit retention of at least {MINIMUM_SOFT_DELETE_DAYS} days.",
    MANDATORY,
    VAULT,
    _soft_delete,
    "Set properties.enable_soft_delete=True, soft_delete_retention_in_days=90.",
    "AP: Key vaults should have soft delete enabled",
)


def _vault_firewall(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if str(dig(props, "properties", "publicNetworkAccess") or "").lower() == "disabled":
        return
    if str(dig(props, "properties", "networkAcls", "defaultAction") or "").lower() != "deny":
        yield "properties.networkAcls.defaultAction must be Deny (or publicNetworkAccess Disabled)"


keyvault_firewall_default_deny = resource_policy(
    "keyvault-firewall-default-deny",
    "Key Vault firewalls deny by default (allow-listed IPs and trusted Azure services only).",
    MANDATORY,
    VAULT,
    _vault_firewall,
    "Set properties.network_acls=NetworkRuleSetArgs(default_action='Deny', "
    "bypass='AzureServices', ip_rules=[...]).",
    "AP: Azure Key Vault should have firewall enabled or public network access disabled",
)


def _secret_expiry(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if number(dig(props, "properties", "attributes", "expires")) is None:
        yield "properties.attributes.expires is not set: the secret never expires"


keyvault_secret_expiration = resource_policy(
    "keyvault-secret-expiration",
    "Key Vault secrets carry an expiration date.",
    ADVISORY,
    of_azure("keyvault:Secret"),
    _secret_expiry,
    "Set properties.attributes.expires (Unix time) and rotate before it.",
    "AP: Key Vault secrets should have an expiration date",
)


# ---------------------------------------------------------------------------------------------------
# API Management
# ---------------------------------------------------------------------------------------------------

APIM_SERVICE = of_azure("apimanagement:ApiManagementService")
_SECURITY = "Microsoft.WindowsAzure.ApiManagement.Gateway.Security"
LEGACY_PROTOCOL_PROPERTIES = tuple(
    f"{_SECURITY}.{side}Protocols.{protocol}"
    for side in ("", "Backend.")
    for protocol in ("Tls10", "Tls11", "Ssl30")
)
"""APIM customProperties that must be the string "False" (APIM docs: Manage protocols and ciphers)."""
WEAK_CIPHER_PROPERTIES = (f"{_SECURITY}.Ciphers.TripleDes168",)


def _custom_properties_false(props: Mapping[str, Any], keys: Sequence[str]) -> Iterator[str]:
    custom = props.get("customProperties")
    for key in keys:
        value = get_ci(custom, key)
        if value is False:
            yield f'customProperties["{key}"] must be the string "False" (the map takes strings)'
        elif not (isinstance(value, str) and value.strip().lower() == "false"):
            yield f'customProperties["{key}"] must be "False"'


apim_no_legacy_tls = resource_policy(
    "apim-no-legacy-tls",
    "API Management disables TLS 1.0, TLS 1.1 and SSL 3.0 on the client and backend sides.",
    MANDATORY,
    APIM_SERVICE,
    lambda _, props: _custom_properties_false(props, LEGACY_PROTOCOL_PROPERTIES),
    'Set custom_properties={<each Protocols.Tls10/Tls11/Ssl30 key, frontend and backend>: "False"}.',
    "MCSB DP-3 (encrypt data in transit); APIM docs: Manage protocols and ciphers",
)

apim_no_weak_ciphers = resource_policy(
    "apim-no-weak-ciphers",
    "API Management disables the weak TripleDes168 cipher.",
    ADVISORY,
    APIM_SERVICE,
    lambda _, props: _custom_properties_false(props, WEAK_CIPHER_PROPERTIES),
    f'Set custom_properties["{WEAK_CIPHER_PROPERTIES[0]}"] = "False".',
    "MCSB DP-3; APIM docs: Manage protocols and ciphers",
)


def _system_identity(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if "systemassigned" not in str(dig(props, "identity", "type") or "").lower().replace(" ", ""):
        yield "identity.type must include SystemAssigned"


apim_system_assigned_identity = resource_policy(
    "apim-system-assigned-identity",
    "API Management has a system-assigned managed identity (used by the self-hosted gateway's Entra auth).",
    MANDATORY,
    APIM_SERVICE,
    _system_identity,
    "Set identity=ApiManagementServiceIdentityArgs(type='SystemAssigned').",
    "AP: API Management should use a managed identity; APIM docs: self-hosted gateway workload identity",
)

SELF_HOSTED_GATEWAY_SKUS = ("Developer", "Premium")
"""Classic tiers that support self-hosted gateways (v2 tiers have no gRPC)."""


def _gateway_tier(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    sku = dig(props, "sku", "name")
    if not isinstance(sku, str) or sku.lower() not in {s.lower() for s in SELF_HOSTED_GATEWAY_SKUS}:
        yield (
            f"sku.name is {sku!r}: gRPC APIs need a self-hosted gateway, only "
            f"{' or '.join(SELF_HOSTED_GATEWAY_SKUS)}"
        )


apim_self_hosted_gateway_tier = resource_policy(
    "apim-self-hosted-gateway-tier",
    "API Management uses a tier that supports the self-hosted gateway (Developer or Premium classic).",
    MANDATORY,
    APIM_SERVICE,
    _gateway_tier,
    "Set sku.name to Developer (non-production) or Premium.",
    "APIM docs: gRPC API (self-hosted gateway only); platform",
)

APIM_API = of_azure("apimanagement:Api")


def _api_https_only(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    protocols = [str(p).lower() for p in as_list(props.get("protocols"))]
    if not protocols:
        yield "protocols must be set explicitly to [https]"
    insecure = sorted(set(protocols) - {"https", "wss"})
    if insecure:
        yield f"protocols contains unencrypted {', '.join(insecure)}: use https (wss) only"


apim_api_https_only = resource_policy(
    "apim-api-https-only",
    "API Management APIs accept encrypted protocols only.",
    MANDATORY,
    APIM_API,
    _api_https_only,
    "Set protocols=['https'] on the Api.",
    "AP: API Management APIs should use only encrypted protocols",
)


def _grpc_api_path(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if str(props.get("apiType") or "").lower() != "grpc":
        return
    path = props.get("path")
    if path not in (None, "", "/"):
        yield (
            f"gRPC API path is {path!r}: gRPC clients call /<package>.<Service>/<Method>, the "
            "path must be empty"
        )
    if str(props.get("format") or "").lower() != "grpc":
        yield 'a gRPC API imports its .proto with format "grpc"'


apim_grpc_api_empty_path = resource_policy(
    "apim-grpc-api-empty-path",
    "gRPC APIs have an empty path and import their .proto (format grpc).",
    MANDATORY,
    APIM_API,
    _grpc_api_path,
    "Set path='' and format='grpc' with value=<the .proto text>.",
    "APIM docs: Import a gRPC API; platform",
)


# ---------------------------------------------------------------------------------------------------
# Azure: identity, registry, tags
# ---------------------------------------------------------------------------------------------------

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _role_assignment_name(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    name = props.get("roleAssignmentName")
    if name is None or name == "":
        yield (
            "roleAssignmentName is missing: the provider would generate a random GUID "
            "(duplicates on re-create)"
        )
    elif not (isinstance(name, str) and GUID.match(name)):
        yield f"roleAssignmentName {name!r} is not a GUID"


azure_role_assignment_deterministic_name = resource_policy(
    "azure-role-assignment-deterministic-name",
    "Role assignments have an explicit, deterministic GUID name.",
    MANDATORY,
    of_azure("authorization:RoleAssignment"),
    _role_assignment_name,
    "Create role assignments with components.common.role_assignment (uuid5 of scope, principal, role).",
    "platform (DESIGN): deterministic role assignment names",
)

REQUIRED_TAGS = ("environment", "project", "managed-by")
TAGGABLE_TYPES = frozenset(
    {
        "resources:ResourceGroup",
        "containerservice:ManagedCluster",
        "containerservice:AgentPool",
        "containerregistry:Registry",
        "keyvault:Vault",
        "keyvault:Secret",
        "keyvault:Key",
        "managedidentity:UserAssignedIdentity",
        "operationalinsights:Workspace",
        "applicationinsights:Component",
        "monitor:AzureMonitorWorkspace",
        "monitor:DataCollectionEndpoint",
        "monitor:DataCollectionRule",
        "monitor:ActionGroup",
        "monitor:MetricAlert",
        "monitor:ScheduledQueryRule",
        "monitor:ActivityLogAlert",
        "alertsmanagement:PrometheusRuleGroup",
        "dashboard:Grafana",
        "apimanagement:ApiManagementService",
        "apimanagement:NamedValue",
        "network:VirtualNetwork",
        "network:NetworkSecurityGroup",
        "network:PublicIPAddress",
        "network:PublicIPPrefix",
        "network:NatGateway",
        "network:PrivateEndpoint",
        "network:RouteTable",
    }
)
"""azure-native types whose inputs take `tags` (checked against the SDK for every type in the plan)."""


def _tags(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    tags = props.get("tags")
    if tags is None and azure_type(resource_type) not in TAGGABLE_TYPES:
        return
    present = as_map(tags)
    missing = [t for t in REQUIRED_TAGS if not present.get(t)]
    if missing:
        yield f"tags lack {', '.join(missing)}"


azure_required_tags = resource_policy(
    "azure-required-tags",
    f"Taggable Azure resources carry the tags {', '.join(REQUIRED_TAGS)}.",
    MANDATORY,
    lambda resource_type: azure_type(resource_type) is not None,
    _tags,
    "Register the stack tagging transformation (components.tagging.apply_stack_tags) before any resource.",
    "AP: Require a tag on resources",
)


def _registry(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if props.get("adminUserEnabled") is True:
        yield "adminUserEnabled must be false (pull with the kubelet identity's AcrPull role)"
    if props.get("anonymousPullEnabled") is True:
        yield "anonymousPullEnabled must be false"


acr_no_admin_or_anonymous_pull = resource_policy(
    "acr-no-admin-or-anonymous-pull",
    "Container registries have the admin user and anonymous pull disabled.",
    MANDATORY,
    of_azure("containerregistry:Registry"),
    _registry,
    "Set admin_user_enabled=False, anonymous_pull_enabled=False.",
    "AP: Container registries should have local admin account disabled / anonymous authentication disabled",
)

WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
SERVICE_ACCOUNT_SUBJECT = re.compile(
    r"^system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?$"
)


def _federated_credential(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    audiences = [str(a) for a in as_list(props.get("audiences"))]
    if audiences != [WORKLOAD_IDENTITY_AUDIENCE]:
        yield f"audiences must be exactly [{WORKLOAD_IDENTITY_AUDIENCE}], got {audiences}"
    subject = props.get("subject")
    if not (isinstance(subject, str) and SERVICE_ACCOUNT_SUBJECT.match(subject)):
        yield f"subject {subject!r} must be system:serviceaccount:<namespace>:<service account>"
    issuer = props.get("issuer")
    if not (isinstance(issuer, str) and issuer.startswith("https://")):
        yield "issuer must be the cluster's https OIDC issuer URL"


workload_identity_federated_credential = resource_policy(
    "workload-identity-federated-credential",
    "Federated credentials trust one Kubernetes ServiceAccount on an https OIDC issuer, audience "
    "AzureADTokenExchange.",
    MANDATORY,
    lambda t: (
        azure_type(t) == "managedidentity:FederatedIdentityCredential"
        or t.endswith(":ApplicationFederatedIdentityCredential")
    ),
    _federated_credential,
    "Use issuer=cluster.oidc_issuer_url, subject=system:serviceaccount:<ns>:<sa>, "
    "audiences=[api://AzureADTokenExchange].",
    "AKS docs: workload identity; platform (DESIGN)",
)


# ---------------------------------------------------------------------------------------------------
# Kubernetes: pod specs (Pod Security Standards "restricted" + reliability)
# ---------------------------------------------------------------------------------------------------

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob")
WORKLOAD = of_kinds(*WORKLOAD_KINDS)


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any]:
    kind = (k8s_kind(resource_type) or ("", ""))[1]
    if kind == "Pod":
        return as_map(props.get("spec"))
    if kind == "CronJob":
        return as_map(dig(props, "spec", "jobTemplate", "spec", "template", "spec"))
    return as_map(dig(props, "spec", "template", "spec"))


def containers(spec: Mapping[str, Any], *, init: bool = True) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(label, container) for the app containers and, with `init`, init and ephemeral containers."""
    groups = ("containers", "initContainers", "ephemeralContainers") if init else ("containers",)
    for group in groups:
        for index, container in enumerate(as_list(spec.get(group))):
            container = as_map(container)
            yield f"{group}[{container.get('name') or index}]", container


def _effective(spec: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    """A securityContext field: the container's value overrides the pod's."""
    own = dig(container, "securityContext", key)
    return own if own is not None else dig(spec, "securityContext", key)


def pod_check(check: Callable[[Mapping[str, Any]], Iterable[str]]) -> Check:
    return lambda resource_type, props: check(pod_spec(resource_type, props))


def _run_as_non_root(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        if _effective(spec, container, "runAsNonRoot") is not True:
            yield f"{label}: runAsNonRoot must be true (pod or container securityContext)"
        if number(_effective(spec, container, "runAsUser")) == 0:
            yield f"{label}: runAsUser must not be 0"


k8s_run_as_non_root = resource_policy(
    "k8s-run-as-non-root",
    "Containers run as non-root.",
    MANDATORY,
    WORKLOAD,
    pod_check(_run_as_non_root),
    "Set securityContext.runAsNonRoot=true (and a non-zero runAsUser) on the pod.",
    "PSS restricted: Running as Non-root; CIS AKS 4.2.6",
)


def _no_privilege_escalation(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        if dig(container, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{label}: securityContext.allowPrivilegeEscalation must be false"


k8s_no_privilege_escalation = resource_policy(
    "k8s-no-privilege-escalation",
    "Containers set allowPrivilegeEscalation: false.",
    MANDATORY,
    WORKLOAD,
    pod_check(_no_privilege_escalation),
    "Set securityContext.allowPrivilegeEscalation=false on every container.",
    "PSS restricted: Privilege Escalation; CIS AKS 4.2.5",
)

ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})


def _drop_all(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        capabilities = as_map(dig(container, "securityContext", "capabilities"))
        if "ALL" not in {str(c).upper() for c in as_list(capabilities.get("drop"))}:
            yield f"{label}: securityContext.capabilities.drop must include ALL"
        added = {str(c).upper() for c in as_list(capabilities.get("add"))} - ALLOWED_ADDED_CAPABILITIES
        if added:
            yield f"{label}: capabilities.add may only hold NET_BIND_SERVICE, got {', '.join(sorted(added))}"


k8s_drop_all_capabilities = resource_policy(
    "k8s-drop-all-capabilities",
    "Containers drop ALL capabilities and add none but NET_BIND_SERVICE.",
    MANDATORY,
    WORKLOAD,
    pod_check(_drop_all),
    "Set securityContext.capabilities={'drop': ['ALL']} on every container.",
    "PSS restricted: Capabilities; CIS AKS 4.2.7-4.2.9",
)


def _seccomp(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        profile = str(dig(_effective(spec, container, "seccompProfile"), "type") or "")
        if profile not in ("RuntimeDefault", "Localhost"):
            yield (
                f"{label}: seccompProfile.type must be RuntimeDefault (pod or container), got "
                f"{profile or 'none'}"
            )


k8s_seccomp_runtime_default = resource_policy(
    "k8s-seccomp-runtime-default",
    "Pods run with the RuntimeDefault (or a Localhost) seccomp profile.",
    MANDATORY,
    WORKLOAD,
    pod_check(_seccomp),
    "Set the pod's securityContext.seccompProfile={'type': 'RuntimeDefault'}.",
    "PSS restricted: Seccomp",
)


def _read_only_root(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        if dig(container, "securityContext", "readOnlyRootFilesystem") is not True:
            yield f"{label}: securityContext.readOnlyRootFilesystem is not true"


k8s_read_only_root_filesystem = resource_policy(
    "k8s-read-only-root-filesystem",
    "Containers run with a read-only root filesystem (writable paths are emptyDir volumes).",
    ADVISORY,
    WORKLOAD,
    pod_check(_read_only_root),
    "Set securityContext.readOnlyRootFilesystem=true and mount an emptyDir at /tmp.",
    "AP: Kubernetes cluster containers should run with a read only root file system",
)


def _host_namespaces(spec: Mapping[str, Any]) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            yield f"{field} must not be true"
    for label, container in containers(spec):
        for port in as_list(container.get("ports")):
            if number(dig(port, "hostPort")):
                yield f"{label}: hostPort {dig(port, 'hostPort')} is not allowed"


k8s_no_host_namespaces = resource_policy(
    "k8s-no-host-namespaces",
    "Pods share no host namespace (network, PID, IPC) and use no host ports.",
    MANDATORY,
    WORKLOAD,
    pod_check(_host_namespaces),
    "Remove hostNetwork/hostPID/hostIPC and hostPort.",
    "PSS baseline: Host Namespaces, Host Ports; CIS AKS 4.2.2-4.2.4",
)


def _host_path(spec: Mapping[str, Any]) -> Iterator[str]:
    for volume in as_list(spec.get("volumes")):
        if dig(volume, "hostPath") is not None:
            yield f"volume {dig(volume, 'name')!s}: hostPath volumes are not allowed"


k8s_no_host_path_volumes = resource_policy(
    "k8s-no-host-path-volumes",
    "Pods mount no hostPath volumes.",
    MANDATORY,
    WORKLOAD,
    pod_check(_host_path),
    "Use emptyDir, configMap, projected or csi volumes instead.",
    "PSS baseline: HostPath Volumes; AP: hostPath volumes should only use allowed host paths",
)


def _privileged(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        if dig(container, "securityContext", "privileged") is True:
            yield f"{label}: securityContext.privileged must not be true"


k8s_no_privileged_containers = resource_policy(
    "k8s-no-privileged-containers",
    "No container runs privileged.",
    MANDATORY,
    WORKLOAD,
    pod_check(_privileged),
    "Remove securityContext.privileged.",
    "PSS baseline: Privileged Containers; CIS AKS 4.2.1",
)


def _secrets_as_files(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        for env in as_list(container.get("env")):
            if dig(env, "valueFrom", "secretKeyRef") is not None:
                yield (
                    f"{label}: env {dig(env, 'name')!s} reads a Kubernetes Secret; mount secrets as CSI files"
                )
        for source in as_list(container.get("envFrom")):
            if dig(source, "secretRef") is not None:
                yield f"{label}: envFrom secretRef exposes a Secret as env vars; mount secrets as CSI files"


k8s_secrets_as_files = resource_policy(
    "k8s-secrets-as-files",
    "Containers get secrets as files (Key Vault CSI), never as environment variables from Secrets.",
    MANDATORY,
    WORKLOAD,
    pod_check(_secrets_as_files),
    "Mount a SecretProviderClass csi volume at /mnt/secrets and point the app at the file (*_FILE env vars).",
    "CIS AKS 4.4.1 Prefer using secrets as files over secrets as environment variables",
)


def _requests_limits(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        resources = as_map(container.get("resources"))
        for field in ("cpu", "memory"):
            if dig(resources, "requests", field) in (None, "", 0):
                yield f"{label}: resources.requests.{field} must be set"
        if dig(resources, "limits", "memory") in (None, "", 0):
            yield f"{label}: resources.limits.memory must be set"


k8s_resource_requests_limits = resource_policy(
    "k8s-resource-requests-limits",
    "Containers request CPU and memory and limit memory.",
    MANDATORY,
    WORKLOAD,
    pod_check(_requests_limits),
    "Set resources.requests.{cpu,memory} and resources.limits.memory on every container.",
    "AP: Kubernetes cluster containers CPU and memory resource limits; reliability",
)


def _probes(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec, init=False):
        for probe in ("readinessProbe", "livenessProbe"):
            if not as_map(container.get(probe)):
                yield f"{label}: {probe} must be set"
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            port = dig(container, probe, "grpc", "port")
            if isinstance(port, str):
                yield (
                    f"{label}: {probe}.grpc.port must be a number (named ports are not allowed "
                    "for gRPC probes)"
                )


k8s_probes = resource_policy(
    "k8s-probes",
    "Containers have readiness and liveness probes (gRPC probes on numbered ports).",
    MANDATORY,
    of_kinds("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"),
    pod_check(_probes),
    "Add readinessProbe/livenessProbe (grpc: {port: 50051, service: readiness|liveness} for the "
    "gRPC service).",
    "reliability (Kubernetes docs: configure probes)",
)


def image_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None when it is (`repo:tag` not latest, or a digest)."""
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image} has no tag (means latest)"
    if last.rsplit(":", 1)[1].lower() == "latest":
        return f"image {image} uses the latest tag"
    return None


def _images(spec: Mapping[str, Any]) -> Iterator[str]:
    for label, container in containers(spec):
        problem = image_problem(container.get("image"))
        if problem:
            yield f"{label}: {problem}"


k8s_image_pinned = resource_policy(
    "k8s-image-pinned",
    "Container images are pinned to a tag other than latest, or to a digest.",
    MANDATORY,
    WORKLOAD,
    pod_check(_images),
    "Use repo:<version> or repo@sha256:<digest>.",
    "AP: Kubernetes cluster containers should only use allowed images; reliability",
)


# ---------------------------------------------------------------------------------------------------
# Kubernetes: disruption, autoscaling, services, Istio (single objects)
# ---------------------------------------------------------------------------------------------------


def _percent(value: Any) -> float | None:
    if isinstance(value, str) and value.strip().endswith("%"):
        return number(value.strip()[:-1])
    return None


def _pdb(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    spec = as_map(props.get("spec"))
    max_unavailable, min_available = spec.get("maxUnavailable"), spec.get("minAvailable")
    if max_unavailable is None and min_available is None:
        yield "set spec.maxUnavailable (1 or more) so node drains can evict a pod"
    if max_unavailable is not None and (number(max_unavailable) == 0 or _percent(max_unavailable) == 0):
        yield f"spec.maxUnavailable {max_unavailable} blocks every drain and upgrade"
    if min_available is not None and (_percent(min_available) or 0) >= 100:
        yield f"spec.minAvailable {min_available} blocks every drain and upgrade"


k8s_pdb_allows_drain = resource_policy(
    "k8s-pdb-allows-drain",
    "PodDisruptionBudgets never forbid every eviction (maxUnavailable 0 or minAvailable 100%).",
    MANDATORY,
    of_kinds("PodDisruptionBudget"),
    _pdb,
    "Use spec.maxUnavailable: 1.",
    "AKS docs: upgrades stall on PDBs allowing zero disruptions; reliability",
)

MIN_AUTOSCALED_REPLICAS = 2


def _min_replicas(resource_type: str, props: Mapping[str, Any]) -> Iterator[str]:
    kind = (k8s_kind(resource_type) or ("", ""))[1]
    field, default = ("minReplicaCount", 0) if kind == "ScaledObject" else ("minReplicas", 1)
    value = number(dig(props, "spec", field))
    value = default if value is None else value
    if value < MIN_AUTOSCALED_REPLICAS:
        yield (
            f"spec.{field} is {value:g}: at least {MIN_AUTOSCALED_REPLICAS} so a drain or crash "
            "never takes the service down"
        )


k8s_autoscaler_min_replicas = resource_policy(
    "k8s-autoscaler-min-replicas",
    f"HorizontalPodAutoscalers and KEDA ScaledObjects keep at least {MIN_AUTOSCALED_REPLICAS} replicas.",
    MANDATORY,
    lambda t: (
        of_kinds("HorizontalPodAutoscaler", group="autoscaling")(t)
        or of_kinds("ScaledObject", group="keda.sh")(t)
    ),
    _min_replicas,
    f"Set spec.minReplicas (HPA) / spec.minReplicaCount (KEDA) to {MIN_AUTOSCALED_REPLICAS} or more.",
    "reliability (AKS best practices: high availability)",
)


def _is_grpc_name(name: str) -> bool:
    return name == "grpc" or name.startswith("grpc-")


def _grpc_ports(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    for port in as_list(dig(props, "spec", "ports")):
        name = str(dig(port, "name") or "")
        app_protocol = dig(port, "appProtocol")
        if _is_grpc_name(name) and app_protocol != "grpc":
            yield f"port {name}: appProtocol must be grpc (Istio then balances per request)"
        if app_protocol == "grpc" and not _is_grpc_name(name):
            yield f"port {name or dig(port, 'port')}: a gRPC port must be named grpc or grpc-<suffix>"


k8s_grpc_service_ports = resource_policy(
    "k8s-grpc-service-ports",
    "gRPC Service ports are named grpc-* and declare appProtocol grpc.",
    MANDATORY,
    of_kinds("Service", group="core"),
    _grpc_ports,
    "Name the port grpc (or grpc-<suffix>) and set app_protocol='grpc'.",
    "Istio docs: protocol selection; platform (per-request gRPC balancing)",
)


def _peer_authentication(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    mode = dig(props, "spec", "mtls", "mode")
    if mode != "STRICT":
        yield f"spec.mtls.mode must be STRICT, got {mode or 'unset'}"
    for port, settings in as_map(dig(props, "spec", "portLevelMtls")).items():
        if dig(settings, "mode") != "STRICT":
            yield f"spec.portLevelMtls[{port}].mode must be STRICT"


istio_peer_authentication_strict = resource_policy(
    "istio-peer-authentication-strict",
    "Istio PeerAuthentications require STRICT mutual TLS (no PERMISSIVE or DISABLE, also per port).",
    MANDATORY,
    of_kinds("PeerAuthentication", group="security.istio.io"),
    _peer_authentication,
    "Set spec.mtls.mode=STRICT and drop permissive portLevelMtls.",
    "Istio security best practices; NIST SP 800-204A (service mesh mTLS)",
)


def _revision_label(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    labels = as_map(dig(props, "metadata", "labels"))
    if "istio-injection" in labels:
        yield (
            "label istio-injection is ignored by the AKS Istio add-on: label the namespace "
            "istio.io/rev=<revision>"
        )


istio_revision_label = resource_policy(
    "istio-revision-label",
    "Meshed namespaces opt in with istio.io/rev=<revision>, never istio-injection (ignored by "
    "the AKS add-on).",
    MANDATORY,
    of_kinds("Namespace", group="core"),
    _revision_label,
    "Replace the istio-injection label with istio.io/rev=<cluster.istio_revision>.",
    "AKS docs: Istio add-on sidecar injection; platform",
)


# ---------------------------------------------------------------------------------------------------
# Stack policies (rules that span resources)
# ---------------------------------------------------------------------------------------------------


def _known(
    resources: Iterable[PolicyResource], read: Callable[[PolicyResource], Any]
) -> Iterator[tuple[PolicyResource, Any]]:
    """(resource, read(resource)) for every resource whose read needs no value unknown during preview."""
    for resource in resources:
        try:
            yield resource, read(resource)
        except UnknownValueError:
            continue


def manifest(resource: PolicyResource) -> Mapping[str, Any]:
    """A Kubernetes object as declared. Stack policies see outputs, which for pulumi-kubernetes are the live
    object (server defaults such as spec.replicas filled in) plus the declared inputs under `__inputs`."""
    props = as_map(resource.props)
    declared = props.get("__inputs")
    return declared if isinstance(declared, Mapping) else props


def _objects(
    resources: Iterable[PolicyResource], *kinds: str
) -> list[tuple[PolicyResource, Mapping[str, Any]]]:
    wanted = set(kinds)
    selected = [r for r in resources if (k8s_kind(r.resource_type) or ("", ""))[1] in wanted]
    return list(_known(selected, manifest))


def _namespace(obj: Mapping[str, Any]) -> str:
    return str(dig(obj, "metadata", "namespace") or "default")


def _name(obj: Mapping[str, Any], resource: PolicyResource) -> str:
    return str(dig(obj, "metadata", "name") or resource.name)


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A LabelSelector against labels; an empty or missing selector matches nothing (as in a PDB)."""
    selector = as_map(selector)
    match_labels = as_map(selector.get("matchLabels"))
    expressions = as_list(selector.get("matchExpressions"))
    if not match_labels and not expressions:
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    for expression in expressions:
        key, operator = dig(expression, "key"), dig(expression, "operator")
        values = [str(v) for v in as_list(dig(expression, "values"))]
        present = key in labels
        if (
            (operator == "In" and not (present and str(labels[key]) in values))
            or (operator == "NotIn" and present and str(labels[key]) in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


SCALED_KINDS = ("Deployment", "StatefulSet")


def _scaler_targets(
    resources: list[PolicyResource],
) -> dict[tuple[str, str, str], tuple[float, PolicyResource]]:
    """(namespace, kind, name) of each autoscaled workload -> (minimum replicas, the autoscaler)."""
    targets: dict[tuple[str, str, str], tuple[float, PolicyResource]] = {}
    for resource, obj in _objects(resources, "HorizontalPodAutoscaler", "ScaledObject"):
        is_keda = (k8s_kind(resource.resource_type) or ("", ""))[1] == "ScaledObject"
        ref = as_map(dig(obj, "spec", "scaleTargetRef"))
        kind = str(ref.get("kind") or ("Deployment" if is_keda else ""))
        minimum = number(dig(obj, "spec", "minReplicaCount" if is_keda else "minReplicas"))
        minimum = (0.0 if is_keda else 1.0) if minimum is None else minimum
        targets[(_namespace(obj), kind, str(ref.get("name") or ""))] = (minimum, resource)
    return targets


def _check_pdb_coverage(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    pdbs = _objects(resources, "PodDisruptionBudget")
    scalers = _scaler_targets(resources)
    for resource, obj in _objects(resources, *SCALED_KINDS):
        kind = (k8s_kind(resource.resource_type) or ("", ""))[1]
        namespace, name = _namespace(obj), _name(obj, resource)
        labels = as_map(dig(obj, "spec", "template", "metadata", "labels"))
        matching = [
            p
            for _, p in pdbs
            if _namespace(p) == namespace and selector_matches(dig(p, "spec", "selector"), labels)
        ]
        if not matching:
            yield f"{kind} {namespace}/{name} has no PodDisruptionBudget selecting its pods", resource.urn
            continue
        scaler = scalers.get((namespace, kind, name))
        replicas = scaler[0] if scaler else (number(dig(obj, "spec", "replicas")) or 1.0)
        for pdb in matching:
            min_available = dig(pdb, "spec", "minAvailable")
            if min_available is None:
                continue
            percent = _percent(min_available)
            required = math.ceil(percent * replicas / 100) if percent is not None else number(min_available)
            if required is not None and required >= replicas:
                yield (
                    f"PodDisruptionBudget {namespace}/{_name(pdb, resource)} needs minAvailable "
                    f"{min_available} of "
                    f"{replicas:g} replicas of {kind} {name}: no pod can ever be evicted, drains "
                    "and upgrades stall",
                    resource.urn,
                )


k8s_workload_has_drainable_pdb = stack_policy(
    "k8s-workload-has-drainable-pdb",
    "Every Deployment/StatefulSet has a PodDisruptionBudget selecting its pods that still allows "
    "one eviction.",
    MANDATORY,
    _check_pdb_coverage,
    "Add a PodDisruptionBudget (policy/v1) with the pod labels as selector and maxUnavailable: 1.",
    "reliability (AKS docs: plan for availability using PDBs)",
)


def _check_scaler_targets(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    existing = {
        (_namespace(obj), (k8s_kind(r.resource_type) or ("", ""))[1], _name(obj, r))
        for r, obj in _objects(resources, *SCALED_KINDS)
    }
    for (namespace, kind, name), (_, scaler) in _scaler_targets(resources).items():
        if (namespace, kind, name) not in existing:
            yield (
                f"{scaler.name}: scaleTargetRef {kind} {namespace}/{name} is not part of the stack",
                scaler.urn,
            )


k8s_autoscaler_target_exists = stack_policy(
    "k8s-autoscaler-target-exists",
    "Every HPA / KEDA ScaledObject targets a Deployment or StatefulSet that the stack creates.",
    MANDATORY,
    _check_scaler_targets,
    "Point scaleTargetRef at the workload's kind and metadata.name in the same namespace.",
    "reliability (an autoscaler with a missing target silently does nothing)",
)


def _check_replicas_with_scaler(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    scalers = _scaler_targets(resources)
    for resource, obj in _objects(resources, *SCALED_KINDS):
        kind = (k8s_kind(resource.resource_type) or ("", ""))[1]
        key = (_namespace(obj), kind, _name(obj, resource))
        if key in scalers and dig(obj, "spec", "replicas") is not None:
            yield (
                f"{kind} {key[0]}/{key[2]} sets spec.replicas but {scalers[key][1].name} owns the "
                "replica count: "
                "every deploy would reset it",
                resource.urn,
            )


k8s_no_replicas_with_autoscaler = stack_policy(
    "k8s-no-replicas-with-autoscaler",
    "A Deployment/StatefulSet owned by an HPA or KEDA ScaledObject does not set spec.replicas.",
    MANDATORY,
    _check_replicas_with_scaler,
    "Omit spec.replicas on autoscaled workloads.",
    "Kubernetes docs: HPA, migrating Deployments to horizontal autoscaling",
)

MESH_ROOT_NAMESPACES = ("aks-istio-system", "istio-system")


def _is_strict_namespace_wide(obj: Mapping[str, Any]) -> bool:
    return dig(obj, "spec", "mtls", "mode") == "STRICT" and not as_map(dig(obj, "spec", "selector"))


def _check_meshed_namespaces(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    strict = {
        _namespace(obj)
        for _, obj in _objects(resources, "PeerAuthentication")
        if _is_strict_namespace_wide(obj)
    }
    mesh_wide = any(ns in strict for ns in MESH_ROOT_NAMESPACES)
    for resource, obj in _objects(resources, "Namespace"):
        labels = as_map(dig(obj, "metadata", "labels"))
        meshed = "istio.io/rev" in labels or labels.get("istio-injection") == "enabled"
        name = _name(obj, resource)
        if meshed and not mesh_wide and name not in strict:
            yield f"meshed namespace {name} has no namespace-wide STRICT PeerAuthentication", resource.urn


istio_meshed_namespace_strict_mtls = stack_policy(
    "istio-meshed-namespace-strict-mtls",
    "Every meshed namespace is covered by a namespace-wide (or mesh-wide) STRICT PeerAuthentication.",
    MANDATORY,
    _check_meshed_namespaces,
    "Add a PeerAuthentication (security.istio.io/v1) named default in the namespace with mtls.mode STRICT.",
    "Istio security best practices; NIST SP 800-204A",
)

DIAGNOSTIC_REQUIREMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # azure type -> (log categories that must be enabled, category groups that cover them)
    "containerservice:ManagedCluster": (("kube-audit-admin", "guard"), ("allLogs", "audit")),
    "keyvault:Vault": (("AuditEvent",), ("allLogs", "audit")),
    "apimanagement:ApiManagementService": (("GatewayLogs",), ("allLogs",)),
}


def _get_known(mapping: Any, key: str, unknown: Any) -> Any:
    """`mapping[key]`, or `unknown` when the value is not known during preview."""
    try:
        return as_map(mapping).get(key)
    except UnknownValueError:
        return unknown


def _diagnostics_target(diagnostic: PolicyResource, target: PolicyResource) -> bool:
    """Whether a DiagnosticSetting is attached to `target`: its resourceUri is the target's id, or (ids
    are unknown before creation) its resourceUri input depends on the target."""
    uri, target_id = _get_known(diagnostic.props, "resourceUri", None), _get_known(target.props, "id", None)
    if isinstance(uri, str) and isinstance(target_id, str) and uri.lower() == target_id.lower():
        return True
    depends = diagnostic.property_dependencies.get("resourceUri") or diagnostic.dependencies
    return any(d.urn == target.urn for d in depends)


def _categories_missing(
    diagnostic: Mapping[str, Any], required: Sequence[str], groups: Sequence[str]
) -> list[str]:
    """The required categories the setting does not send to a Log Analytics workspace."""
    if not _get_known(diagnostic, "workspaceId", "(known after apply)"):
        return list(required)
    logs = _get_known(diagnostic, "logs", [])
    enabled = [as_map(log) for log in as_list(logs) if _get_known(log, "enabled", True) is True]
    group_names = {g.lower() for g in groups}
    if any(str(_get_known(log, "categoryGroup", "") or "").lower() in group_names for log in enabled):
        return []
    categories = {str(_get_known(log, "category", "") or "").lower() for log in enabled}
    return [c for c in required if c.lower() not in categories]


def diagnostics_policy(name: str, azure: str, source: str) -> StackValidationPolicy:
    required, groups = DIAGNOSTIC_REQUIREMENTS[azure]

    def check(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
        settings = [r for r in resources if azure_type(r.resource_type) == "monitor:DiagnosticSetting"]
        for target in resources:
            if azure_type(target.resource_type) != azure:
                continue
            attached = [as_map(s.props) for s in settings if _diagnostics_target(s, target)]
            gaps = [_categories_missing(props, required, groups) for props in attached]
            # Several settings may split the categories between them: missing means sent by none.
            missing = [c for c in required if all(c in gap for gap in gaps)]
            if missing:
                yield (
                    f"{target.name}: no diagnostic setting sends {', '.join(missing)} to Log Analytics",
                    target.urn,
                )

    return stack_policy(
        name,
        f"Every {azure.split(':')[1]} sends {', '.join(required)} to Log Analytics (diagnostic setting).",
        MANDATORY,
        check,
        "Create a monitor.DiagnosticSetting (components.common.diagnostic_setting) with "
        f"{', '.join(required)}.",
        source,
    )


aks_diagnostic_audit_logs = diagnostics_policy(
    "aks-diagnostic-audit-logs",
    "containerservice:ManagedCluster",
    "CIS AKS 2.1.1 Enable audit logs; AP: Resource logs in AKS should be enabled",
)
keyvault_diagnostic_audit_events = diagnostics_policy(
    "keyvault-diagnostic-audit-events",
    "keyvault:Vault",
    "AP: Resource logs in Key Vault should be enabled",
)
apim_diagnostic_gateway_logs = diagnostics_policy(
    "apim-diagnostic-gateway-logs",
    "apimanagement:ApiManagementService",
    "MCSB LT-3 (enable logging for security investigation); platform",
)


# --- the cluster's path to the vault --------------------------------------------------------------

SECRET_PROVIDER_CLASS = "SecretProviderClass"


def _read(value: Any, *path: str | int) -> Any:
    """`dig`, with a value unknown during preview read as None."""
    try:
        return dig(value, *path)
    except UnknownValueError:
        return None


def _resource_name(resource: PolicyResource, name_input: str) -> str:
    """A resource's Azure name: its name input (preview), or the `name` output (after creation)."""
    return str(_read(resource.props, name_input) or _read(resource.props, "name") or "")


def _depends_on(resource: PolicyResource, target: PolicyResource) -> bool:
    deps = [*resource.dependencies, *(d for ds in resource.property_dependencies.values() for d in ds)]
    return any(d.urn == target.urn for d in deps)


def _admits(rules: Any, address: str) -> bool:
    """Whether a vault's `ipRules` admit one IPv4 address (rules are addresses or CIDR ranges)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for rule in as_list(rules):
        value = _read(rule, "value")
        try:
            if isinstance(value, str) and ip in ipaddress.ip_network(value, strict=False):
                return True
        except ValueError:
            continue
    return False


def _cluster_egress_ips(
    cluster: PolicyResource, resources: list[PolicyResource]
) -> list[PolicyResource] | None:
    """The stack's public IPs a cluster egresses from (`loadBalancerProfile.outboundIPs`); None when its
    egress is AKS-managed (no outbound IPs given), so its address is unknown to any firewall."""
    ips = [r for r in resources if azure_type(r.resource_type) == "network:PublicIPAddress"]
    try:
        refs = as_list(
            dig(cluster.props, "networkProfile", "loadBalancerProfile", "outboundIPs", "publicIPs")
        )
    except UnknownValueError:
        # Ids unknown during preview: the cluster still depends on the IPs it references.
        return [ip for ip in ips if _depends_on(cluster, ip)] or None
    if not refs:
        return None
    found = []
    for ref in refs:
        ref_id = str(_read(ref, "id") or "").lower()
        matched = [
            ip
            for ip in ips
            if str(_read(ip.props, "id") or "").lower() == ref_id
            or ref_id.endswith(f"/publicipaddresses/{_resource_name(ip, 'publicIpAddressName').lower()}")
        ]
        if not matched and not ref_id:
            matched = [ip for ip in ips if _depends_on(cluster, ip)]
        found.extend(matched)
    return found or None


def _has_private_endpoint(vault: PolicyResource, resources: list[PolicyResource]) -> bool:
    vault_name = _resource_name(vault, "vaultName").lower()
    vault_id = str(_read(vault.props, "id") or "").lower()
    for endpoint in resources:
        if azure_type(endpoint.resource_type) != "network:PrivateEndpoint":
            continue
        for connection in as_list(_read(endpoint.props, "privateLinkServiceConnections")):
            target = str(_read(connection, "privateLinkServiceId") or "").lower()
            groups = [str(g).lower() for g in as_list(_read(connection, "groupIds"))]
            names_vault = bool(target) and (
                target == vault_id or (bool(vault_name) and target.endswith(f"/vaults/{vault_name}"))
            )
            if "vault" in groups and (names_vault or (not target and _depends_on(endpoint, vault))):
                return True
    return False


def _egress_problems(vault: PolicyResource, ips: list[PolicyResource]) -> Iterator[str]:
    props = vault.props
    if str(_read(props, "properties", "publicNetworkAccess") or "").lower() == "disabled":
        yield "public network access is disabled and no private endpoint serves the vault"
        return
    try:
        rules = dig(props, "properties", "networkAcls", "ipRules")
    except UnknownValueError:
        rules = None  # a rule derived from an IP not created yet: the dependency below must exist
    for ip in ips:
        address = _read(ip.props, "ipAddress")
        ip_name = _resource_name(ip, "publicIpAddressName") or ip.name
        if isinstance(address, str) and address:
            if rules is not None and not _admits(rules, address):
                yield f"its firewall does not admit the cluster's egress IP {address} ({ip_name})"
            elif rules is None and not _depends_on(vault, ip):
                yield f"its firewall rules are not derived from the cluster's egress IP {ip_name}"
        elif not _depends_on(vault, ip) or (rules is not None and not as_list(rules)):
            # Address unknown until the IP exists (preview): the vault's rules must come from it.
            yield f"its firewall rules are not derived from the cluster's egress IP {ip_name}"


def _check_vault_reachable(resources: list[PolicyResource]) -> Iterator[tuple[str, str | None]]:
    read_vaults = {
        str(_read(obj, "spec", "parameters", "keyvaultName") or "").lower()
        for _, obj in _objects(resources, SECRET_PROVIDER_CLASS)
        if _read(obj, "spec", "provider") in (None, "azure")
    } - {""}
    vaults = [
        r
        for r in resources
        if azure_type(r.resource_type) == "keyvault:Vault"
        and _resource_name(r, "vaultName").lower() in read_vaults
    ]
    clusters = [r for r in resources if azure_type(r.resource_type) == "containerservice:ManagedCluster"]
    for vault in vaults:
        if _has_private_endpoint(vault, resources):
            continue
        for cluster in clusters:
            ips = _cluster_egress_ips(cluster, resources)
            prefix = f"vault {_resource_name(vault, 'vaultName')} is read by a SecretProviderClass but"
            if ips is None:
                yield (
                    f"{prefix} cluster {cluster.name} egresses from AKS-managed IPs its firewall cannot admit, "
                    "and no private endpoint serves it",
                    vault.urn,
                )
                continue
            for problem in _egress_problems(vault, ips):
                yield f"{prefix} {problem}", vault.urn


keyvault_admits_cluster_egress = stack_policy(
    "keyvault-admits-cluster-egress",
    "A Key Vault that a SecretProviderClass reads admits the cluster's egress IP in its firewall, or is "
    "served by a private endpoint (the CSI driver reads it from the nodes; AKS is no trusted service).",
    MANDATORY,
    _check_vault_reachable,
    "Give the cluster a stack-owned outbound public IP (networkProfile.loadBalancerProfile.outboundIPs) and "
    "put its address in the vault's networkAcls.ipRules (components.aks.ClusterEgress), or add a private "
    "endpoint for the vault with the privatelink.vaultcore.azure.net zone.",
    "platform (Azure/secrets-store-csi-driver-provider-azure#873, #1226: pods stay in ContainerCreating)",
)


ALL_POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    # AKS
    aks_local_accounts_disabled,
    aks_entra_id_azure_rbac,
    aks_api_server_access_restricted,
    aks_network_policy_enabled,
    aks_workload_identity_enabled,
    aks_defender_enabled,
    aks_auto_upgrade_channels,
    aks_azure_policy_addon,
    aks_keyvault_csi_secret_rotation,
    aks_no_ssh_keys,
    aks_node_ssh_disabled,
    aks_image_cleaner_enabled,
    aks_managed_prometheus_enabled,
    aks_container_insights_entra_auth,
    aks_system_pool_isolated,
    aks_diagnostic_audit_logs,
    # Key Vault
    keyvault_rbac_authorization,
    keyvault_purge_protection,
    keyvault_soft_delete_retention,
    keyvault_firewall_default_deny,
    keyvault_secret_expiration,
    keyvault_diagnostic_audit_events,
    keyvault_admits_cluster_egress,
    # API Management
    apim_no_legacy_tls,
    apim_no_weak_ciphers,
    apim_system_assigned_identity,
    apim_self_hosted_gateway_tier,
    apim_api_https_only,
    apim_grpc_api_empty_path,
    apim_diagnostic_gateway_logs,
    # Azure identity, registry, tags
    azure_role_assignment_deterministic_name,
    azure_required_tags,
    acr_no_admin_or_anonymous_pull,
    workload_identity_federated_credential,
    # Kubernetes Pod Security Standards (restricted)
    k8s_run_as_non_root,
    k8s_no_privilege_escalation,
    k8s_drop_all_capabilities,
    k8s_seccomp_runtime_default,
    k8s_read_only_root_filesystem,
    k8s_no_host_namespaces,
    k8s_no_host_path_volumes,
    k8s_no_privileged_containers,
    k8s_secrets_as_files,
    # Workload reliability
    k8s_resource_requests_limits,
    k8s_probes,
    k8s_image_pinned,
    k8s_pdb_allows_drain,
    k8s_workload_has_drainable_pdb,
    k8s_autoscaler_min_replicas,
    k8s_autoscaler_target_exists,
    k8s_no_replicas_with_autoscaler,
    k8s_grpc_service_ports,
    # Istio
    istio_peer_authentication_strict,
    istio_meshed_namespace_strict_mtls,
    istio_revision_label,
]
