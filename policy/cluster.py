"""AKS: azure-native:containerservice:ManagedCluster (and AgentPool).

Sources: CIS Azure Kubernetes Service Benchmark (CIS AKS), Azure Policy built-in definitions (AP), AKS docs.
"""

from collections.abc import Iterator, Mapping
from typing import Any

from .helpers import (
    ADVISORY,
    MANDATORY,
    as_list,
    as_map,
    azure_type,
    dig,
    get_ci,
    is_true,
    of_azure,
    resource_policy,
)

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


SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"
"""The taint that keeps workloads off the system pool (AKS docs: system node pools); the pool may carry it
with another value or effect, so the check matches its key. Restated from components/aks.py (the pack
does not import components; tests/policy/test_pack_constants.py keeps the two equal)."""
SYSTEM_POOL_TAINT_KEY = SYSTEM_POOL_TAINT.split("=", 1)[0]


def _system_pool_tainted(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    for pool in as_list(props.get("agentPoolProfiles")):
        if str(dig(pool, "mode") or "").lower() != "system":
            continue
        taints = [str(t) for t in as_list(dig(pool, "nodeTaints"))]
        if not any(t.startswith(SYSTEM_POOL_TAINT_KEY) for t in taints):
            yield (f"system pool {dig(pool, 'name') or ''!s}: nodeTaints lacks {SYSTEM_POOL_TAINT}")


aks_system_pool_isolated = resource_policy(
    "aks-system-pool-isolated",
    f"The AKS system pool is tainted {SYSTEM_POOL_TAINT_KEY} so workloads run on user pools.",
    ADVISORY,
    MANAGED_CLUSTER,
    _system_pool_tainted,
    f"Add node_taints=['{SYSTEM_POOL_TAINT}'] to the system pool; add a User AgentPool.",
    "AKS docs: system and user node pools (reliability best practice)",
)
