"""AksCluster: a secure-by-default AKS cluster with Istio, Key Vault CSI, workload identity, managed
Prometheus wiring, a container registry and a Kubernetes provider that authenticates through Entra ID.

What it creates (children of the component):
- the control-plane identity (user-assigned) and the `ManagedCluster` with only the system pool inline
  (pulumi-azure-native#2719: keep the inline list to the system pool);
- the workload pool as a `NodePool` child component (components/node_pool.py);
- with given outbound public IPs (`ClusterEgress`, created before the vault so the vault firewall can
  admit it), those IPs on the cluster's load balancer, and Network Contributor on them for the
  control-plane identity;
- the maintenance configurations `aksManagedAutoUpgradeSchedule` and `aksManagedNodeOSUpgradeSchedule`;
- the data collection rule associations (Prometheus DCR, Container Insights DCR, and the DCE association
  named exactly `configurationAccessEndpoint`) and the cluster's diagnostic setting, when their ids are given;
- a container registry with AcrPull for the kubelet identity;
- cluster access: "Azure Kubernetes Service RBAC Cluster Admin" for the deploying principal, the wait for
  it to propagate, and the `pulumi_kubernetes` Provider built from a kubelogin kubeconfig
  (components/kubeconfig.py).

The constructor is a page of wiring; each concern is one builder function below it. Azure-validity rules
are the plain functions of components/aks_rules.py, called first thing (`validate_aks_cluster_args`).
"""

import datetime
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import (
    containerregistry,
    containerservice,
    kubernetesconfiguration,
    managedidentity,
    monitor,
    network,
)

from . import azure_ids
from .aks_rules import (
    fields_under,
    validate_active_revision,
    validate_api_server_access,
    validate_istio_revisions,
    validate_kubernetes_version,
    validate_lock,
    validate_login,
    validate_network,
    validate_outbound_public_ips,
    validate_zones,
)
from .common import (
    DiagnosticsArgs,
    LockLevel,
    PrincipalType,
    RoleAssignmentArgs,
    diagnostic_settings,
    management_lock,
    role_assignment,
    role_assignments,
)
from .istio_revisions import DEFAULT_ISTIO_REVISIONS, newest_revision
from .kubeconfig import KubeloginMode, cluster_endpoint, decode_credential, kubelogin_kubeconfig
from .kubernetes_versions import DEFAULT_KUBERNETES_VERSION, today
from .naming import RULES
from .node_pool import (
    ENCRYPTION_AT_HOST,
    NODE_OS_SKU,
    SYSTEM_POOL_TAINT,
    NodeOsDiskType,
    NodePool,
    NodePoolArgs,
    NodePoolComponentArgs,
    default_system_pool,
    hashed_pool_name,
    os_disk_type,
    pool_create_only_settings,
    sdk_kwargs,
    system_pool_profile,
    validate_node_pool_args,
)
from .propagation import AKS_RBAC_PROPAGATION, propagation_wait

__all__ = [
    "CLUSTER_LOG_CATEGORIES",
    "ENCRYPTION_AT_HOST",
    "NODE_OS_SKU",
    "SYSTEM_POOL_TAINT",
    "AksCluster",
    "AksClusterArgs",
    "ClusterEgress",
    "ClusterEgressArgs",
    "ClusterMaintenanceWindowArgs",
    "ClusterNetworkArgs",
    "ClusterOutboundType",
    "ClusterRegistryArgs",
    "ClusterSkuTier",
    "ClusterSupportPlan",
    "ClusterUpgradeChannel",
    "DaprExtensionArgs",
    "IstioMeshArgs",
    "KubeloginMode",
    "MaintenanceDay",
    "NodeOsDiskType",
    "NodeOsUpgradeChannel",
    "NodePool",
    "NodePoolArgs",
    "NodePoolComponentArgs",
    "RegistrySku",
    "hashed_pool_name",
    "os_disk_type",
    "pool_create_only_settings",
    "sdk_kwargs",
    "validate_aks_cluster_args",
]

CLUSTER_LOG_CATEGORIES = (
    "kube-audit-admin",
    "guard",
    "kube-apiserver",
    "kube-controller-manager",
    "cluster-autoscaler",
)
"""AKS resource log categories sent to Log Analytics (kube-audit-admin: audit without get/list noise)."""


# --- choices ---------------------------------------------------------------------------------------


class ClusterSkuTier(enum.Enum):
    """Control plane tier. Standard has the uptime SLA; Free is for dev/test only."""

    FREE = "Free"
    STANDARD = "Standard"
    PREMIUM = "Premium"


class ClusterSupportPlan(enum.Enum):
    """`AKS_LONG_TERM_SUPPORT` (Premium tier only) supports a minor for a second year."""

    KUBERNETES_OFFICIAL = "KubernetesOfficial"
    AKS_LONG_TERM_SUPPORT = "AKSLongTermSupport"


class ClusterOutboundType(enum.Enum):
    """How nodes reach the internet. The two user-subnet types are refused (components/aks_rules.py):
    the cluster runs in an AKS-managed VNet."""

    LOAD_BALANCER = "loadBalancer"
    MANAGED_NAT_GATEWAY = "managedNATGateway"
    USER_ASSIGNED_NAT_GATEWAY = "userAssignedNATGateway"
    USER_DEFINED_ROUTING = "userDefinedRouting"


class ClusterUpgradeChannel(enum.Enum):
    """Cluster auto-upgrade channel. `PATCH` keeps the configured minor, so the Istio revision check holds."""

    PATCH = "patch"
    STABLE = "stable"
    RAPID = "rapid"
    NODE_IMAGE = "node-image"
    NONE = "none"


class NodeOsUpgradeChannel(enum.Enum):
    """Node OS upgrade channel."""

    NODE_IMAGE = "NodeImage"
    SECURITY_PATCH = "SecurityPatch"
    UNMANAGED = "Unmanaged"
    NONE = "None"


class RegistrySku(enum.Enum):
    """Container registry tier; Premium adds zone redundancy, geo-replication and private link."""

    BASIC = "Basic"
    STANDARD = "Standard"
    PREMIUM = "Premium"


class MaintenanceDay(enum.Enum):
    """Day a weekly maintenance window opens."""

    MONDAY = "Monday"
    TUESDAY = "Tuesday"
    WEDNESDAY = "Wednesday"
    THURSDAY = "Thursday"
    FRIDAY = "Friday"
    SATURDAY = "Saturday"
    SUNDAY = "Sunday"


def _value(choice: Any) -> Any:
    """An enum member's value (a plain string passes as it is)."""
    return choice.value if isinstance(choice, enum.Enum) else choice


@dataclass
class ClusterEgressArgs:
    """Inputs of `ClusterEgress`."""

    public_ip_name: str
    """Azure name of the public IP."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the public IP (the cluster's, not the node resource group AKS owns)."""
    location: pulumi.Input[str]
    """Azure region (the cluster's)."""
    zones: list[str] = field(default_factory=list)
    """Availability zones: all of the cluster's, so the IP survives a zone outage (zone-redundant)."""
    tags: dict[str, pulumi.Input[str]] | None = None
    """Extra tags (the stack transformation already adds the standard ones)."""


class ClusterEgress(pulumi.ComponentResource):
    """The cluster's outbound public IP, owned by the stack.

    The Key Vault CSI driver reads the vault from the nodes over the cluster's egress, and AKS is not a
    trusted service for the vault firewall's `AzureServices` bypass (Azure/secrets-store-csi-driver-
    provider-azure#873, #1226). An AKS-managed outbound IP is unknown until the cluster exists and may
    change; a stack-owned static IP is known before the vault is written, so its address goes into the
    vault's `ipRules` by construction. It is also the address partners allow-list (stack output
    `egressIpAddress`). Standard SKU and static allocation: the Standard Load Balancer takes only those
    (AKS docs: "Use a public standard load balancer", provide your own outbound public IPs).
    """

    public_ip_id: pulumi.Output[str]
    ip_address: pulumi.Output[str]

    def __init__(
        self, name: str, args: ClusterEgressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:index:ClusterEgress", name, None, opts)
        validate_zones(list(args.zones))
        self.public_ip = network.PublicIPAddress(
            f"{name}-ip",
            # PublicIPAddressInitArgs: `network.PublicIPAddressArgs` is the nested (NIC) type of the same name.
            network.PublicIPAddressInitArgs(
                public_ip_address_name=args.public_ip_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                sku=network.PublicIPAddressSkuArgs(
                    name=network.PublicIPAddressSkuName.STANDARD,
                    tier=network.PublicIPAddressSkuTier.REGIONAL,
                ),
                public_ip_allocation_method=network.IPAllocationMethod.STATIC,
                public_ip_address_version=network.IPVersion.I_PV4,
                zones=list(args.zones) or None,
                tags=args.tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.public_ip_id = self.public_ip.id
        self.ip_address = self.public_ip.ip_address.apply(_known_address)
        self.register_outputs({"publicIpId": self.public_ip_id, "ipAddress": self.ip_address})


def _known_address(address: str | None) -> str:
    if not address:
        raise ValueError(
            "the egress public IP returned no ipAddress (static allocation assigns one at creation)"
        )
    return address


# --- arguments -------------------------------------------------------------------------------------


@dataclass
class IstioMeshArgs:
    """The AKS Istio add-on (service mesh profile)."""

    revisions: list[str] = field(default_factory=lambda: list(DEFAULT_ISTIO_REVISIONS))
    """Istio control plane revisions (`asm-1-NN`); two only during a canary upgrade, and then consecutive.
    Each must support the cluster's Kubernetes minor (components/istio_revisions.py)."""
    active_revision: str = ""
    """The revision workload namespaces are labelled with (`istio.io/rev`); empty: the newest of
    `revisions`. During a canary, the old revision until the new one is proven."""
    external_ingress_gateway: bool = True
    """Run the add-on's external (public load balancer) ingress gateway."""
    internal_ingress_gateway: bool = False
    """Run the add-on's internal (private load balancer) ingress gateway."""


@dataclass
class ClusterMaintenanceWindowArgs:
    """A weekly planned-maintenance window (AKS requires at least 4 hours)."""

    day_of_week: MaintenanceDay = MaintenanceDay.SUNDAY
    """Day the window opens."""
    start_time: str = "02:00"
    """Start time (HH:MM) in `utc_offset`."""
    duration_hours: int = 4
    """Length of the window in hours (4-24)."""
    utc_offset: str = "+00:00"
    """Time zone of `start_time` as an offset, e.g. `+01:00`."""
    interval_weeks: int = 1
    """Every how many weeks the window recurs."""


def default_node_os_upgrade_window() -> ClusterMaintenanceWindowArgs:
    """Node image upgrades on Saturdays: a day apart from cluster upgrades (Sundays), so a bad night has
    one cause."""
    return ClusterMaintenanceWindowArgs(day_of_week=MaintenanceDay.SATURDAY)


@dataclass
class ClusterNetworkArgs:
    """Azure CNI overlay with the Cilium dataplane and network policy: pods get addresses from a private
    overlay range."""

    pod_cidr: str = "10.244.0.0/16"
    """Overlay range for pod addresses (create-only; not routable outside the cluster)."""
    service_cidr: str = "10.0.0.0/16"
    """Range for Kubernetes Service cluster IPs (create-only); must not overlap the pod range."""
    dns_service_ip: str = "10.0.0.10"
    """Cluster IP of CoreDNS (create-only); inside `service_cidr`, not its first address."""
    outbound_type: ClusterOutboundType = ClusterOutboundType.LOAD_BALANCER
    """How nodes reach the internet (create-only)."""


@dataclass
class ClusterRegistryArgs:
    """The container registry beside the cluster (the kubelet pulls from it with AcrPull)."""

    name: str
    """Azure name of the registry (5-50 alphanumerics, globally unique)."""
    sku: RegistrySku = RegistrySku.STANDARD
    """Registry tier; zone redundant when Premium and the cluster has zones."""
    pull_registry_ids: list[str] = field(default_factory=list)
    """Resource ids of further registries the kubelet may pull from (AcrPull)."""


@dataclass
class DaprExtensionArgs:
    """The Dapr cluster extension (`microsoft.dapr`)."""

    release_train: str = "stable"
    """Extension release train (`stable` or `dev`)."""
    high_availability: bool = False
    """Run Dapr's control plane highly available (`global.ha.enabled`)."""


@dataclass
class AksClusterArgs:
    """Inputs of `AksCluster`: Azure names, where, who deploys, and the cluster's knobs with secure
    defaults (Entra ID + Azure RBAC with local accounts off, OIDC + workload identity, Standard tier,
    AzureLinux, three zones, a tainted system pool and an autoscaled workload pool). Optional monitoring
    ids switch their integrations on when given."""

    cluster_name: str
    """Azure name of the managed cluster."""
    registry: ClusterRegistryArgs
    """The container registry (its name has no safe default: registry names are globally unique)."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the cluster and registry."""
    location: pulumi.Input[str]
    """Azure region."""
    subscription_id: pulumi.Input[str]
    """Subscription id (role definition ids are built from it)."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of the cluster's AAD integration and of kubelogin."""
    deployer_object_id: pulumi.Input[str]
    """Object id of the deploying principal (`getClientConfig().object_id`): gets RBAC Cluster Admin."""
    deployer_client_id: pulumi.Input[str] | None = None
    """Client (application) id of the deploying principal; required for the `spn` kubelogin mode."""
    deployer_principal_type: PrincipalType = PrincipalType.USER
    """Principal type of the deployer in its role assignment (a service principal in CI)."""
    login_mode: KubeloginMode = KubeloginMode.AZURE_CLI
    """How the Kubernetes provider authenticates (kubelogin exec plugin)."""
    dns_prefix: str = ""
    """DNS prefix of the API server's FQDN; empty: the cluster name."""
    node_resource_group_name: str | None = None
    """Resource group AKS creates for the nodes; None: Azure's `MC_<group>_<cluster>_<region>`."""
    identity_name: str = ""
    """Name of the control-plane identity; empty: `id-<cluster_name>`."""
    system_pool_name: str = "system"
    """Agent pool name of the inline system pool (1-12 lower-case alphanumerics)."""
    user_pool_name_prefix: str = "user"
    """Start of the workload pool's name (a hash of its create-only settings follows)."""
    prometheus_rule_association_name: str = ""
    """Name of the Prometheus DCR association; empty: `MSProm-<cluster_name>` (the onboarding templates'
    shape is `MSProm-<region>-<cluster>`)."""
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
    """A minor (`1.36`, AKS picks the latest patch) or an exact patch (then `upgrade_channel` NONE)."""
    sku_tier: ClusterSkuTier = ClusterSkuTier.STANDARD
    """Control plane tier: Standard has the uptime SLA."""
    support_plan: ClusterSupportPlan = ClusterSupportPlan.KUBERNETES_OFFICIAL
    """Long-term support needs the Premium tier."""
    zones: list[str] = field(default_factory=lambda: ["1", "2", "3"])
    """Availability zones of both pools (create-only); empty for regions without zones."""
    istio: IstioMeshArgs = field(default_factory=IstioMeshArgs)
    """The Istio add-on."""
    admin_group_object_ids: list[str] = field(default_factory=list)
    """Entra ID groups that get cluster-admin through the AAD integration."""
    local_accounts: bool = False
    """Sandbox only: keep local accounts and give the provider the admin kubeconfig."""
    authorized_ip_ranges: list[str] = field(default_factory=list)
    """CIDRs allowed to reach the public API server; empty: any address (Entra ID still required)."""
    private_cluster: bool = False
    """Private API server (no public endpoint); the deployer then needs network line of sight."""
    disable_run_command: bool = False
    """Turn off `az aks command invoke`."""
    upgrade_channel: ClusterUpgradeChannel = ClusterUpgradeChannel.PATCH
    """Cluster auto-upgrade channel."""
    node_os_upgrade_channel: NodeOsUpgradeChannel = NodeOsUpgradeChannel.NODE_IMAGE
    """Node OS upgrade channel (weekly node images)."""
    auto_upgrade_window: ClusterMaintenanceWindowArgs = field(default_factory=ClusterMaintenanceWindowArgs)
    """Window of `aksManagedAutoUpgradeSchedule` (cluster version upgrades)."""
    node_os_upgrade_window: ClusterMaintenanceWindowArgs = field(
        default_factory=default_node_os_upgrade_window
    )
    """Window of `aksManagedNodeOSUpgradeSchedule` (node image upgrades)."""
    network: ClusterNetworkArgs = field(default_factory=ClusterNetworkArgs)
    """Pod and service address ranges, egress."""
    system_pool: NodePoolArgs = field(default_factory=default_system_pool)
    """The inline system pool (tainted CriticalAddonsOnly): CoreDNS, istiod, metrics agents."""
    user_pool: NodePoolArgs = field(default_factory=NodePoolArgs)
    """The workload pool (a `NodePool` child)."""
    secret_rotation_poll_interval: str = "2m"
    """How often the Key Vault CSI driver polls for rotated secrets (`2m`, `1h`)."""
    image_cleaner_interval_hours: int = 168
    """How often Image Cleaner removes unused vulnerable images from nodes."""
    defender: bool = True
    """Microsoft Defender for Containers, when `log_analytics_workspace_id` is given."""
    outbound_public_ip_ids: list[pulumi.Input[str]] = field(default_factory=list)
    """Public IPs (`ClusterEgress.public_ip_id`) the `loadBalancer` outbound type egresses from; empty:
    AKS creates and owns one (its address is then unknown to the vault firewall)."""
    log_analytics_workspace_id: pulumi.Input[str] | None = None
    """Log Analytics workspace for Container Insights (omsagent add-on) and Defender."""
    prometheus_rule_id: pulumi.Input[str] | None = None
    """The managed Prometheus DCR: associated with the cluster when given."""
    container_insights_rule_id: pulumi.Input[str] | None = None
    """The MSCI- Container Insights DCR: associated with the cluster when given."""
    data_collection_endpoint_id: pulumi.Input[str] | None = None
    """The DCE: associated with the cluster as `configurationAccessEndpoint` when given."""
    keda_enabled: bool = False
    """Turn on the KEDA add-on (workloads scale on Prometheus metrics)."""
    dapr: DaprExtensionArgs | None = None
    """Install the Dapr cluster extension when given."""
    diagnostics: DiagnosticsArgs | None = None
    """Where the cluster's resource logs go (uniform knob; no categories: `CLUSTER_LOG_CATEGORIES`)."""
    role_assignments: list[RoleAssignmentArgs] = field(default_factory=list)
    """Extra role assignments scoped to the cluster (uniform knob)."""
    lock: LockLevel | None = None
    """`CanNotDelete` or `ReadOnly` lock on the cluster (uniform knob)."""
    tags: dict[str, pulumi.Input[str]] | None = None
    """Extra tags (the stack transformation already adds the standard ones)."""


def validate_aks_cluster_args(args: AksClusterArgs, on: datetime.date | None = None) -> list[str]:
    """Every Azure-validity rule of components/aks_rules.py over the Args (on a date, default today),
    raising a `ValueError` that names the fields; returns the non-blocking warnings."""
    date = on or today()
    validate_lock(args.lock)
    validate_login(_value(args.login_mode), args.deployer_client_id is not None)
    validate_zones(list(args.zones))
    validate_api_server_access(
        private_cluster=args.private_cluster, authorized_ip_ranges=list(args.authorized_ip_ranges)
    )
    outbound = _value(args.network.outbound_type)
    validate_outbound_public_ips(outbound, len(args.outbound_public_ip_ids))
    with fields_under("network"):
        validate_network(
            pod_cidr=args.network.pod_cidr,
            service_cidr=args.network.service_cidr,
            dns_service_ip=args.network.dns_service_ip,
            outbound_type=outbound,
        )
    with fields_under("istio"):
        validate_active_revision(list(args.istio.revisions), args.istio.active_revision)
    validate_node_pool_args(args.system_pool, "system_pool")
    validate_node_pool_args(args.user_pool, "user_pool")
    warnings = validate_kubernetes_version(
        args.kubernetes_version,
        sku_tier=_value(args.sku_tier),
        support_plan=_value(args.support_plan),
        upgrade_channel=_value(args.upgrade_channel),
        on=date,
    )
    return warnings + validate_istio_revisions(
        list(args.istio.revisions), kubernetes_version=args.kubernetes_version, on=date
    )


def _identity_field(profile: Mapping[str, Any] | None, key: str, attribute: str) -> str:
    """`identityProfile[key].<attribute>` of a cluster, failing loudly when Azure did not return it."""
    identity = (profile or {}).get(key)
    value = getattr(identity, attribute, None)
    if not value:
        raise ValueError(f"the cluster returned no {key} identity {attribute}")
    return str(value)


def _addon_identity_field(profiles: Mapping[str, Any] | None, addon: str, attribute: str) -> str:
    """`addonProfiles[addon].identity.<attribute>`: the identity AKS created for an add-on."""
    identity = getattr((profiles or {}).get(addon), "identity", None)
    value = getattr(identity, attribute, None)
    if not value:
        raise ValueError(f"the cluster returned no identity {attribute} for the {addon} add-on")
    return str(value)


def _provider_kubeconfig(
    credentials: Any,
    cluster_name: str,
    login_mode: str,
    tenant_id: str | None,
    client_id: str | None,
    *,
    admin: bool,
) -> str:
    """Kubeconfig text from an AKS credentials result (derivation only; runs inside `apply`)."""
    text = decode_credential(credentials.kubeconfigs[0].value)
    if admin:
        return text
    endpoint = cluster_endpoint(text)
    return kubelogin_kubeconfig(
        cluster_name=cluster_name,
        server=endpoint.server,
        certificate_authority_data=endpoint.certificate_authority_data,
        login_mode=login_mode,
        tenant_id=tenant_id,
        client_id=client_id,
    )


class AksCluster(pulumi.ComponentResource):
    """The AKS cluster of one stack and everything needed to deploy into it."""

    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    node_resource_group: pulumi.Output[str]
    registry_login_server: pulumi.Output[str]
    kubelet_identity_object_id: pulumi.Output[str]
    kubelet_identity_client_id: pulumi.Output[str]
    key_vault_secrets_provider_client_id: pulumi.Output[str]
    key_vault_secrets_provider_object_id: pulumi.Output[str]
    istio_revision: str
    kubelogin_mode: str

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:index:AksCluster", name, None, opts)
        for warning in validate_aks_cluster_args(args) or []:
            pulumi.log.warn(warning, resource=self)
        child = pulumi.ResourceOptions(parent=self)

        self.control_plane_identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            **sdk_kwargs(
                managedidentity.UserAssignedIdentityArgs(
                    resource_group_name=args.resource_group_name,
                    location=args.location,
                    resource_name=args.identity_name or f"id-{args.cluster_name}",
                    tags=args.tags,
                )
            ),
            opts=child,
        )
        # The control plane joins the given egress IPs to its load balancer: it needs join/action on them
        # before the cluster is created (AKS docs: "AKS service permissions").
        self.egress_ip_roles = _egress_ip_roles(name, args, self.control_plane_identity.principal_id, child)
        self.cluster = containerservice.ManagedCluster(
            f"{name}-aks",
            **sdk_kwargs(_managed_cluster_args(args, self.control_plane_identity.id)),
            # The autoscaler owns the system pool's node count after creation.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["agentPoolProfiles[0].count"],
                depends_on=list(self.egress_ip_roles),
            ),
        )
        cluster = self.cluster

        self.user_node_pool = NodePool(
            f"{name}-user",
            NodePoolComponentArgs(
                cluster_name=cluster.name,
                resource_group_name=args.resource_group_name,
                pool=args.user_pool,
                name_prefix=args.user_pool_name_prefix,
                zones=list(args.zones),
                kubernetes_version=args.kubernetes_version,
            ),
            opts=child,
        )
        self.user_pool = self.user_node_pool.agent_pool
        self.user_pool_name = self.user_node_pool.pool_name

        self.maintenance_configurations = _maintenance_configurations(name, args, cluster.name, child)
        # Monitoring associations, scoped to the cluster (the rules and endpoint live in Observability).
        self.data_collection_associations = _monitoring_associations(name, args, cluster.id, child)
        self.diagnostic_setting = diagnostic_settings(
            f"{name}-diagnostics",
            resource_id=cluster.id,
            diagnostics=args.diagnostics,
            default_categories=CLUSTER_LOG_CATEGORIES,
            opts=child,
        )
        if args.dapr is not None:
            self.dapr = _dapr_extension(
                name, args.dapr, args.resource_group_name, cluster.name, self, after=self.user_pool
            )

        # Identities AKS creates: the kubelet identity pulls images; the CSI add-on identity is optional
        # for the driver (workloads use workload identity) but exported for callers that want it.
        self.kubelet_identity_object_id = cluster.identity_profile.apply(
            lambda profile: _identity_field(profile, "kubeletidentity", "object_id")
        )
        self.kubelet_identity_client_id = cluster.identity_profile.apply(
            lambda profile: _identity_field(profile, "kubeletidentity", "client_id")
        )
        addon = azure_ids.ADDON_KEY_VAULT_SECRETS_PROVIDER
        self.key_vault_secrets_provider_client_id = cluster.addon_profiles.apply(
            lambda profiles: _addon_identity_field(profiles, addon, "client_id")
        )
        self.key_vault_secrets_provider_object_id = cluster.addon_profiles.apply(
            lambda profiles: _addon_identity_field(profiles, addon, "object_id")
        )

        registry = _container_registry(name, args, self.kubelet_identity_object_id, child)
        self.registry, self.acr_pull, self.extra_acr_pulls = (
            registry.registry,
            registry.acr_pull,
            registry.extra,
        )

        access = _cluster_access(name, args, cluster, self, user_pool=self.user_pool)
        self.deployer_cluster_admin = access.deployer_cluster_admin
        self.rbac_propagated = access.rbac_propagated
        # What every Kubernetes object waits for: the deployer's RBAC, propagated, and a pool for pods.
        self.kubernetes_ready: list[pulumi.Resource] = access.kubernetes_ready
        self.provider = access.provider

        self.extra_role_assignments = role_assignments(
            name,
            scope=cluster.id,
            assignments=list(args.role_assignments),
            subscription_id=args.subscription_id,
            opts=child,
        )
        self.lock = management_lock(f"{name}-lock", scope=cluster.id, level=args.lock, opts=child)

        self.cluster_name = cluster.name
        self.cluster_id = cluster.id
        self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(
            lambda profile: profile.issuer_url  # type: ignore[union-attr]
        )
        self.node_resource_group = cluster.node_resource_group  # type: ignore[assignment]
        self.registry_login_server = self.registry.login_server
        self.istio_revision = active_istio_revision(args.istio)
        self.kubelogin_mode = _value(args.login_mode)

        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterId": self.cluster_id,
                "oidcIssuerUrl": self.oidc_issuer_url,
                "kubeletIdentityObjectId": self.kubelet_identity_object_id,
                "keyVaultSecretsProviderClientId": self.key_vault_secrets_provider_client_id,
                "nodeResourceGroup": self.node_resource_group,
                "registryLoginServer": self.registry_login_server,
                "istioRevision": self.istio_revision,
            }
        )


# --- builders: one concern each --------------------------------------------------------------------


def active_istio_revision(istio: IstioMeshArgs) -> str:
    """The revision namespaces are labelled with: the configured one, else the newest running."""
    return istio.active_revision or newest_revision(list(istio.revisions))


def _addon_profiles(args: AksClusterArgs) -> dict[str, containerservice.ManagedClusterAddonProfileArgs]:
    """Key Vault CSI (with rotation), Azure Policy, and Container Insights when a workspace is given."""
    addons: dict[str, containerservice.ManagedClusterAddonProfileArgs] = {
        azure_ids.ADDON_KEY_VAULT_SECRETS_PROVIDER: containerservice.ManagedClusterAddonProfileArgs(
            enabled=True,
            # Add-on config values are strings, "true" included (AKS docs: "Azure Key Vault provider
            # for Secrets Store CSI Driver", enable autorotation).
            config={
                "enableSecretRotation": "true",
                "rotationPollInterval": args.secret_rotation_poll_interval,
            },
        ),
        azure_ids.ADDON_AZURE_POLICY: containerservice.ManagedClusterAddonProfileArgs(enabled=True),
    }
    if args.log_analytics_workspace_id is not None:
        addons[azure_ids.ADDON_MONITORING] = containerservice.ManagedClusterAddonProfileArgs(
            enabled=True,
            config={"logAnalyticsWorkspaceResourceID": args.log_analytics_workspace_id, "useAADAuth": "true"},
        )
    return addons


def _service_mesh_profile(istio: IstioMeshArgs) -> containerservice.ServiceMeshProfileArgs:
    gateways = [
        containerservice.IstioIngressGatewayArgs(
            enabled=istio.external_ingress_gateway, mode=containerservice.IstioIngressGatewayMode.EXTERNAL
        ),
        containerservice.IstioIngressGatewayArgs(
            enabled=istio.internal_ingress_gateway, mode=containerservice.IstioIngressGatewayMode.INTERNAL
        ),
    ]
    return containerservice.ServiceMeshProfileArgs(
        mode=containerservice.ServiceMeshMode.ISTIO,
        istio=containerservice.IstioServiceMeshArgs(
            revisions=list(istio.revisions),
            components=containerservice.IstioComponentsArgs(ingress_gateways=gateways),
        ),
    )


def _security_profile(args: AksClusterArgs) -> containerservice.ManagedClusterSecurityProfileArgs:
    """Workload identity and Image Cleaner always; Defender when asked for and a workspace is given."""
    defender = None
    if args.log_analytics_workspace_id is not None and args.defender:
        defender = containerservice.ManagedClusterSecurityProfileDefenderArgs(
            log_analytics_workspace_resource_id=args.log_analytics_workspace_id,
            security_monitoring=containerservice.ManagedClusterSecurityProfileDefenderSecurityMonitoringArgs(
                enabled=True
            ),
        )
    return containerservice.ManagedClusterSecurityProfileArgs(
        workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
        image_cleaner=containerservice.ManagedClusterSecurityProfileImageCleanerArgs(
            enabled=True, interval_hours=args.image_cleaner_interval_hours
        ),
        defender=defender,
    )


def _network_profile(args: AksClusterArgs) -> containerservice.ContainerServiceNetworkProfileArgs:
    load_balancer_profile = None
    if args.outbound_public_ip_ids:
        # outboundIPs only: managedOutboundIPs stays unset, or AKS would add an IP of its own.
        load_balancer_profile = containerservice.ManagedClusterLoadBalancerProfileArgs(
            outbound_ips=containerservice.ManagedClusterLoadBalancerProfileOutboundIPsArgs(
                public_ips=[
                    containerservice.ResourceReferenceArgs(id=ip_id) for ip_id in args.outbound_public_ip_ids
                ]
            )
        )
    return containerservice.ContainerServiceNetworkProfileArgs(
        network_plugin=containerservice.NetworkPlugin.AZURE,
        network_plugin_mode=containerservice.NetworkPluginMode.OVERLAY,
        network_dataplane=containerservice.NetworkDataplane.CILIUM,
        network_policy=containerservice.NetworkPolicy.CILIUM,
        pod_cidr=args.network.pod_cidr,
        service_cidr=args.network.service_cidr,
        dns_service_ip=args.network.dns_service_ip,
        outbound_type=_value(args.network.outbound_type),
        load_balancer_sku=containerservice.LoadBalancerSku.STANDARD,
        load_balancer_profile=load_balancer_profile,
    )


def _managed_cluster_args(
    args: AksClusterArgs, identity_id: pulumi.Input[str]
) -> containerservice.ManagedClusterArgs:
    """The cluster: Entra ID + Azure RBAC with local accounts off, OIDC + workload identity, overlay
    networking, upgrade channels, add-ons, managed Prometheus, KEDA and Istio; only the system pool inline."""
    return containerservice.ManagedClusterArgs(
        resource_group_name=args.resource_group_name,
        resource_name=args.cluster_name,
        location=args.location,
        dns_prefix=args.dns_prefix or args.cluster_name,
        node_resource_group=args.node_resource_group_name,
        kubernetes_version=args.kubernetes_version,
        support_plan=_value(args.support_plan),
        sku=containerservice.ManagedClusterSKUArgs(
            name=containerservice.ManagedClusterSKUName.BASE, tier=_value(args.sku_tier)
        ),
        identity=containerservice.ManagedClusterIdentityArgs(
            type=containerservice.ResourceIdentityType.USER_ASSIGNED,
            user_assigned_identities=[identity_id],
        ),
        enable_rbac=True,
        disable_local_accounts=not args.local_accounts,
        aad_profile=containerservice.ManagedClusterAADProfileArgs(
            managed=True,
            enable_azure_rbac=True,
            admin_group_object_ids=list(args.admin_group_object_ids),
            tenant_id=args.tenant_id,
        ),
        oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
        security_profile=_security_profile(args),
        api_server_access_profile=containerservice.ManagedClusterAPIServerAccessProfileArgs(
            enable_private_cluster=args.private_cluster,
            authorized_ip_ranges=None if args.private_cluster else list(args.authorized_ip_ranges),
            disable_run_command=args.disable_run_command,
        ),
        network_profile=_network_profile(args),
        auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
            upgrade_channel=_value(args.upgrade_channel),
            node_os_upgrade_channel=_value(args.node_os_upgrade_channel),
        ),
        agent_pool_profiles=[
            system_pool_profile(
                args.system_pool_name, args.system_pool, list(args.zones), args.kubernetes_version
            )
        ],
        addon_profiles=_addon_profiles(args),
        azure_monitor_profile=containerservice.ManagedClusterAzureMonitorProfileArgs(
            metrics=containerservice.ManagedClusterAzureMonitorProfileMetricsArgs(enabled=True)
        ),
        workload_auto_scaler_profile=containerservice.ManagedClusterWorkloadAutoScalerProfileArgs(
            keda=containerservice.ManagedClusterWorkloadAutoScalerProfileKedaArgs(enabled=args.keda_enabled)
        ),
        service_mesh_profile=_service_mesh_profile(args.istio),
        tags=args.tags,
    )


def _egress_ip_roles(
    name: str, args: AksClusterArgs, principal_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> list[Any]:
    """Network Contributor on each given egress IP for the control-plane identity."""
    return [
        role_assignment(
            f"{name}-egress-ip-network-contributor-{index}",
            scope=ip_id,
            assignment=RoleAssignmentArgs(
                principal_id=principal_id,
                role_definition_id=azure_ids.NETWORK_CONTRIBUTOR,
                principal_type="ServicePrincipal",
                description="The AKS control plane attaches the stack's egress IP to its load balancer.",
            ),
            subscription_id=args.subscription_id,
            opts=opts,
        )
        for index, ip_id in enumerate(args.outbound_public_ip_ids)
    ]


def _maintenance_window(window: ClusterMaintenanceWindowArgs) -> containerservice.MaintenanceWindowArgs:
    return containerservice.MaintenanceWindowArgs(
        schedule=containerservice.ScheduleArgs(
            weekly=containerservice.WeeklyScheduleArgs(
                day_of_week=_value(window.day_of_week), interval_weeks=window.interval_weeks
            )
        ),
        duration_hours=window.duration_hours,
        start_time=window.start_time,
        utc_offset=window.utc_offset,
    )


def _maintenance_configurations(
    name: str, args: AksClusterArgs, cluster_name: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> list[containerservice.MaintenanceConfiguration]:
    """The two AKS-managed schedules: cluster version upgrades and node image upgrades."""
    return [
        containerservice.MaintenanceConfiguration(
            f"{name}-{suffix}",
            **sdk_kwargs(
                containerservice.MaintenanceConfigurationArgs(
                    resource_group_name=args.resource_group_name,
                    resource_name=cluster_name,
                    config_name=config_name,
                    maintenance_window=_maintenance_window(window),
                )
            ),
            opts=opts,
        )
        for suffix, config_name, window in (
            ("auto-upgrade-window", azure_ids.AKS_AUTO_UPGRADE_SCHEDULE, args.auto_upgrade_window),
            ("node-os-upgrade-window", azure_ids.AKS_NODE_OS_UPGRADE_SCHEDULE, args.node_os_upgrade_window),
        )
    ]


def _prometheus_association_name(args: AksClusterArgs) -> str:
    if args.prometheus_rule_association_name:
        return args.prometheus_rule_association_name
    rule = RULES["data_collection_rule_association"]
    return f"MSProm-{args.cluster_name}"[: rule.max_length].rstrip("-_.")


def _monitoring_associations(
    name: str, args: AksClusterArgs, cluster_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> list[monitor.DataCollectionRuleAssociation]:
    """The DCR/DCE associations whose ids are given, scoped to the cluster."""
    associations: list[monitor.DataCollectionRuleAssociation] = []
    if args.prometheus_rule_id is not None:
        associations.append(
            monitor.DataCollectionRuleAssociation(
                f"{name}-prometheus-dcra",
                monitor.DataCollectionRuleAssociationArgs(
                    resource_uri=cluster_id,
                    association_name=_prometheus_association_name(args),
                    data_collection_rule_id=args.prometheus_rule_id,
                    description="Managed Prometheus: deleting this association stops metric collection.",
                ),
                opts=opts,
            )
        )
    if args.container_insights_rule_id is not None:
        associations.append(
            monitor.DataCollectionRuleAssociation(
                f"{name}-container-insights-dcra",
                monitor.DataCollectionRuleAssociationArgs(
                    resource_uri=cluster_id,
                    association_name=azure_ids.CONTAINER_INSIGHTS_ASSOCIATION,
                    data_collection_rule_id=args.container_insights_rule_id,
                    description="Container Insights: deleting this association stops log collection.",
                ),
                opts=opts,
            )
        )
    if args.data_collection_endpoint_id is not None:
        associations.append(
            monitor.DataCollectionRuleAssociation(
                f"{name}-dce-association",
                monitor.DataCollectionRuleAssociationArgs(
                    resource_uri=cluster_id,
                    association_name=azure_ids.CONFIGURATION_ACCESS_ENDPOINT,
                    data_collection_endpoint_id=args.data_collection_endpoint_id,
                ),
                opts=opts,
            )
        )
    return associations


def _dapr_extension(
    name: str,
    dapr: DaprExtensionArgs,
    resource_group_name: pulumi.Input[str],
    cluster_name: pulumi.Input[str],
    parent: pulumi.Resource,
    *,
    after: pulumi.Resource,
) -> kubernetesconfiguration.Extension:
    """The `microsoft.dapr` cluster extension, installed once a pool exists for its pods."""
    return kubernetesconfiguration.Extension(
        f"{name}-dapr",
        kubernetesconfiguration.ExtensionArgs(
            resource_group_name=resource_group_name,
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            cluster_name=cluster_name,
            extension_name="dapr",
            extension_type="Microsoft.Dapr",
            auto_upgrade_minor_version=True,
            release_train=dapr.release_train,
            # Istio already gives mTLS between pods; Dapr's own would encrypt twice.
            configuration_settings={
                "global.ha.enabled": "true" if dapr.high_availability else "false",
                "global.mtls.enabled": "false",
            },
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[after]),
    )


@dataclass
class _RegistryParts:
    registry: containerregistry.Registry
    acr_pull: Any
    extra: list[Any]


def _container_registry(
    name: str, args: AksClusterArgs, kubelet_object_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> _RegistryParts:
    """The workload image's home, and AcrPull on it (and on any shared registry) for the kubelet. Admin
    user and anonymous pull off: pulls use AcrPull."""
    sku = _value(args.registry.sku)
    registry = containerregistry.Registry(
        f"{name}-registry",
        containerregistry.RegistryArgs(
            resource_group_name=args.resource_group_name,
            registry_name=args.registry.name,
            location=args.location,
            sku=containerregistry.SkuArgs(name=sku),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            zone_redundancy=(
                containerregistry.ZoneRedundancy.ENABLED
                if sku == "Premium" and args.zones
                else containerregistry.ZoneRedundancy.DISABLED
            ),
            tags=args.tags,
        ),
        opts=opts,
    )

    def acr_pull(resource_name: str, scope: pulumi.Input[str], description: str) -> Any:
        return role_assignment(
            resource_name,
            scope=scope,
            assignment=RoleAssignmentArgs(
                principal_id=kubelet_object_id,
                role_definition_id=azure_ids.ACR_PULL,
                principal_type="ServicePrincipal",
                description=description,
            ),
            subscription_id=args.subscription_id,
            opts=opts,
        )

    return _RegistryParts(
        registry=registry,
        acr_pull=acr_pull(f"{name}-acr-pull", registry.id, "AKS kubelet pulls workload images."),
        extra=[
            acr_pull(
                f"{name}-acr-pull-{index}",
                registry_id,
                "AKS kubelet pulls release images from a shared registry.",
            )
            for index, registry_id in enumerate(args.registry.pull_registry_ids)
        ],
    )


@dataclass
class _ClusterAccess:
    deployer_cluster_admin: Any
    rbac_propagated: pulumi.Resource
    kubernetes_ready: list[pulumi.Resource]
    provider: k8s.Provider


def _cluster_access(
    name: str,
    args: AksClusterArgs,
    cluster: containerservice.ManagedCluster,
    parent: pulumi.Resource,
    *,
    user_pool: pulumi.Resource,
) -> _ClusterAccess:
    """Access for the pipeline: Entra ID + Azure RBAC, so the deployer needs a Kubernetes role in Azure;
    the wait for it to reach the authorization server (else 403 on the first object,
    components/propagation.py); and the Kubernetes provider, which waits for both and for a pool."""
    child = pulumi.ResourceOptions(parent=parent)
    deployer_cluster_admin = role_assignment(
        f"{name}-deployer-admin",
        scope=cluster.id,
        assignment=RoleAssignmentArgs(
            principal_id=args.deployer_object_id,
            role_definition_id=azure_ids.AKS_RBAC_CLUSTER_ADMIN,
            principal_type=_value(args.deployer_principal_type),
            description="The deploying principal manages Kubernetes objects through Pulumi.",
        ),
        subscription_id=args.subscription_id,
        opts=child,
    )
    rbac_propagated = propagation_wait(
        f"{name}-rbac-propagation",
        duration=AKS_RBAC_PROPAGATION,
        after=[deployer_cluster_admin],
        triggers={"deployerClusterAdmin": deployer_cluster_admin.id},
        parent=parent,
    )
    kubernetes_ready: list[pulumi.Resource] = [rbac_propagated, user_pool]
    admin = args.local_accounts
    if admin:
        credentials: pulumi.Output[Any] = containerservice.list_managed_cluster_admin_credentials_output(
            resource_group_name=args.resource_group_name, resource_name=cluster.name
        )
    else:
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=args.resource_group_name, resource_name=cluster.name
        )
    login_mode = _value(args.login_mode)
    kubeconfig = pulumi.Output.all(credentials, cluster.name, args.tenant_id, args.deployer_client_id).apply(
        lambda values: _provider_kubeconfig(
            values[0], values[1], login_mode, values[2], values[3], admin=admin
        )
    )
    provider = k8s.Provider(
        f"{name}-k8s",
        k8s.ProviderArgs(
            kubeconfig=pulumi.Output.secret(kubeconfig),
            # A credential or login-mode change must not replace every Kubernetes object.
            cluster_identifier=cluster.id,
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=kubernetes_ready),
    )
    return _ClusterAccess(deployer_cluster_admin, rbac_propagated, kubernetes_ready, provider)
