"""Settings: cluster."""

import re
import typing
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import aks_rules
from components.istio_revisions import DEFAULT_ISTIO_REVISIONS, newest_revision
from components.kubernetes_versions import DEFAULT_KUBERNETES_VERSION, LONG_TERM_SUPPORT_PLAN

from .base import (
    CREATE_ONLY,
    Cidr,
    DayOfWeek,
    Guid,
    HourMinute,
    _Model,
    _raise_problems,
    _validation_date,
    create_only,
    nested,
)

if typing.TYPE_CHECKING:
    from .stack import StackSettings

# ---------------------------------------------------------------------------------------------------
# Cluster (`aks-grpc:cluster`)
# ---------------------------------------------------------------------------------------------------


def _rule_problems(check: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[tuple[str, str]]]:
    """Run one `validate_*` of components/aks_rules.py (the component runs the same): its result and its
    problems, each field turned into the config key under this model (`min_count` -> `minCount`)."""
    try:
        return check(*args, **kwargs), []
    except aks_rules.ArgsProblems as error:
        return None, [(_args_field_key(name), message) for name, message in error.problems]


def _args_field_key(name: str) -> str:
    """`istio.revisions[0]` -> `istio.revisions[0]`, `os_disk_size_gb` -> `osDiskSizeGb`."""
    parts = []
    for part in name.split("."):
        head, bracket, rest = part.partition("[")
        parts.append(to_camel(head) + bracket + rest)
    return ".".join(parts)


class IstioSettings(_Model):
    """The AKS Istio add-on (service mesh profile)."""

    revisions: list[Annotated[str, Field(pattern=r"^asm-1-\d+$")]] = Field(
        default_factory=lambda: list(DEFAULT_ISTIO_REVISIONS), min_length=1
    )
    """Istio control plane revisions; two only during a canary upgrade, and then consecutive. Each must
    support the cluster's Kubernetes minor (components/istio_revisions.py)."""
    active_revision: str = ""
    """The revision workload namespaces are labelled with (`istio.io/rev`); default: the newest of
    `revisions`. During a canary, set it to the old revision until the new one is proven."""
    external_ingress_gateway: bool = True
    """Run the add-on's external (public load balancer) ingress gateway."""
    internal_ingress_gateway: bool = False
    """Run the add-on's internal (private load balancer) ingress gateway."""

    @model_validator(mode="before")
    @classmethod
    def _default_active_revision(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("activeRevision") or data.get("active_revision"):
            return data
        revisions = data.get("revisions", DEFAULT_ISTIO_REVISIONS)
        if (
            isinstance(revisions, list | tuple)
            and revisions
            and all(isinstance(r, str) and re.fullmatch(r"asm-1-\d+", r) for r in revisions)
        ):
            data = {k: v for k, v in data.items() if k != "active_revision"}
            data["activeRevision"] = newest_revision(list(revisions))
        return data

    @model_validator(mode="after")
    def _istio_rules(self) -> "IstioSettings":
        _, problems = _rule_problems(
            aks_rules.validate_active_revision, list(self.revisions), self.active_revision
        )
        _raise_problems(problems, self)
        return self


class NodePoolSettings(_Model):
    """One node pool: VM size, autoscaler bounds, OS disk and upgrade surge."""

    vm_size: Annotated[str, Field(pattern=r"^Standard_[A-Za-z0-9_]+$")] = create_only("Standard_D4ds_v5")
    """Azure VM size. Sizes with a local temp disk (`...ds_v5`) allow an ephemeral OS disk."""
    min_count: Annotated[int, Field(ge=1, le=1000)] = 2
    """Cluster autoscaler lower bound (also the initial node count)."""
    max_count: Annotated[int, Field(ge=1, le=1000)] = 10
    """Cluster autoscaler upper bound."""
    max_pods: Annotated[int, Field(ge=10, le=250)] = create_only(110)
    """Pods per node (Azure CNI overlay allows up to 250)."""
    os_disk_type: Literal["auto", "Ephemeral", "Managed"] = create_only("auto")
    """`auto`: Ephemeral when the VM size's local storage holds `osDiskSizeGb` (table in components/aks.py),
    else Managed. `Ephemeral`/`Managed` force the choice."""
    os_disk_size_gb: Annotated[int, Field(ge=30, le=2048)] = create_only(128)
    """OS disk size in GiB."""
    max_surge: Annotated[str, Field(pattern=r"^([1-9]\d*|[1-9]\d?%|100%)$")] = "33%"
    """Extra nodes during an upgrade: a count (`1`) or a percentage (`33%`, AKS's advice for production)."""

    @model_validator(mode="after")
    def _node_pool_rules(self) -> "NodePoolSettings":
        _, problems = _rule_problems(
            aks_rules.validate_node_pool,
            vm_size=self.vm_size,
            min_count=self.min_count,
            max_count=self.max_count,
            max_pods=self.max_pods,
            os_disk_type=self.os_disk_type,
            os_disk_size_gb=self.os_disk_size_gb,
            max_surge=self.max_surge,
        )
        _raise_problems(problems, self)
        return self


class SystemNodePoolSettings(NodePoolSettings):
    """The system pool: smaller defaults than a workload pool (only system pods run there)."""

    min_count: Annotated[int, Field(ge=1, le=1000)] = 2
    """Cluster autoscaler lower bound (also the initial node count)."""
    max_count: Annotated[int, Field(ge=1, le=1000)] = 3
    """Cluster autoscaler upper bound."""
    os_disk_size_gb: Annotated[int, Field(ge=30, le=2048)] = create_only(64)
    """OS disk size in GiB (system pods pull few images)."""


Zone = Literal["1", "2", "3"]
OutboundType = Literal["loadBalancer", "managedNATGateway", "userAssignedNATGateway", "userDefinedRouting"]

UNSUPPORTED_OUTBOUND_TYPES = aks_rules.UNSUPPORTED_OUTBOUND_TYPES
"""Outbound types the cluster cannot run, with the reason (components/aks_rules.py)."""


class NetworkSettings(_Model):
    """Azure CNI overlay with the Cilium dataplane: pods get addresses from a private overlay range."""

    pod_cidr: Cidr = create_only("10.244.0.0/16")
    """Overlay range for pod addresses (not routable outside the cluster)."""
    service_cidr: Cidr = create_only("10.0.0.0/16")
    """Range for Kubernetes Service cluster IPs; must not overlap the pod range."""
    dns_service_ip: str = create_only("10.0.0.10")
    """Cluster IP of CoreDNS; must lie inside `serviceCidr` and not be its first address."""
    outbound_type: OutboundType = create_only("loadBalancer")
    """How nodes reach the internet (egress). `loadBalancer`: through the stack's own static public IP
    (stack output `egressIpAddress`, admitted by the Key Vault firewall). `managedNATGateway`: AKS-owned
    IPs the vault cannot know, so only with `keyVault.privateEndpoint`. `userDefinedRouting` and
    `userAssignedNATGateway` need a subnet of your own and are refused."""

    @model_validator(mode="after")
    def _network_rules(self) -> "NetworkSettings":
        _, problems = _rule_problems(
            aks_rules.validate_network,
            pod_cidr=self.pod_cidr,
            service_cidr=self.service_cidr,
            dns_service_ip=self.dns_service_ip,
            outbound_type=self.outbound_type,
        )
        _raise_problems(problems, self)
        return self


class MaintenanceWindowSettings(_Model):
    """A weekly planned-maintenance window (AKS requires at least 4 hours)."""

    day_of_week: DayOfWeek = "Sunday"
    """Day the window opens."""
    start_time: HourMinute = "02:00"
    """Start time (HH:MM) in `utcOffset`."""
    duration_hours: Annotated[int, Field(ge=4, le=24)] = 4
    """Length of the window in hours (4-24)."""
    utc_offset: Annotated[str, Field(pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")] = "+00:00"
    """Time zone of `startTime` as an offset, e.g. `+01:00`."""
    interval_weeks: Annotated[int, Field(ge=1, le=4)] = 1
    """Every how many weeks the window recurs."""


class NodeOsMaintenanceWindowSettings(MaintenanceWindowSettings):
    """The node OS (node image) window: Saturdays by default, a day apart from cluster upgrades."""

    day_of_week: DayOfWeek = "Saturday"
    """Day the window opens."""


class RegistrySettings(_Model):
    """The Azure Container Registry that holds the workload image."""

    sku: Literal["Basic", "Standard", "Premium"] = "Standard"
    """Registry tier; production must use Premium (zone redundancy, geo-replication, private link)."""
    pull_registry_ids: list[
        Annotated[
            str,
            Field(
                pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerRegistry/registries/[A-Za-z0-9]+$"
            ),
        ]
    ] = Field(default_factory=list)
    """Resource ids of further registries the kubelet may pull from (AcrPull), e.g. the shared
    registry the deploy pipeline pushes release images to (`ACR_NAME`, docs/ci-cd.md)."""


class ClusterSettings(_Model):
    """The AKS cluster, its node pools, add-ons, registry and access (`aks-grpc:cluster`)."""

    kubernetes_version: Annotated[str, Field(pattern=r"^1\.\d{2}(\.\d+)?$")] = DEFAULT_KUBERNETES_VERSION
    """Kubernetes version: a minor (`1.36`, AKS picks the latest patch) or an exact patch. A minor past its
    AKS end of life is refused (unless the cluster has long-term support), one within 60 days of it
    warns (table: components/kubernetes_versions.py)."""
    sku_tier: Literal["Free", "Standard", "Premium"] = "Standard"
    """Control plane tier: Standard has the uptime SLA; Free is for dev/test only (refused in prod)."""
    support_plan: Literal["KubernetesOfficial", "AKSLongTermSupport"] = "KubernetesOfficial"
    """`AKSLongTermSupport` (Premium tier only) supports a minor for a second year after its end of life."""
    zones: list[Zone] = Field(
        default_factory=lambda: list[Zone](["1", "2", "3"]), json_schema_extra=CREATE_ONLY
    )
    """Availability zones of both node pools and the egress IP; empty for regions (or dev stacks) without
    zones."""
    istio: IstioSettings = nested()
    """The Istio add-on."""
    kubelogin_mode: Literal["azurecli", "workloadidentity", "spn"] = "azurecli"
    """How the Kubernetes provider authenticates (kubelogin exec plugin). The environment variable
    AKS_GRPC_KUBELOGIN_MODE overrides it (CI uses `workloadidentity`)."""
    deployer_principal_type: Literal["auto", "User", "ServicePrincipal"] = "auto"
    """Principal type of the deploying identity in the role assignment it gets (AKS RBAC Cluster Admin).
    `auto`: `AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE` if set, else `ServicePrincipal` when `ARM_CLIENT_ID` is set
    (CI), else `User`."""
    admin_group_object_ids: list[Guid] = Field(default_factory=list)
    """Entra ID groups that get cluster-admin through the AAD integration."""
    sandbox_local_accounts: bool = False
    """Sandbox only: keep local accounts and give the provider the admin kubeconfig. Refused in prod."""
    authorized_ip_ranges: list[Cidr] = Field(default_factory=list)
    """CIDRs allowed to reach the public API server; empty: any address (Entra ID still required)."""
    private_cluster: bool = False
    """Private API server (no public endpoint); the deployer then needs network line of sight."""
    disable_run_command: bool = False
    """Turn off `az aks command invoke`."""
    upgrade_channel: Literal["patch", "stable", "rapid", "node-image", "none"] = "patch"
    """Cluster auto-upgrade channel. `patch` keeps the configured minor, so the Istio revision check holds."""
    node_os_upgrade_channel: Literal["NodeImage", "SecurityPatch", "Unmanaged", "None"] = "NodeImage"
    """Node OS upgrade channel."""
    auto_upgrade_window: MaintenanceWindowSettings = nested()
    """Window of `aksManagedAutoUpgradeSchedule` (cluster version upgrades)."""
    node_os_upgrade_window: NodeOsMaintenanceWindowSettings = nested()
    """Window of `aksManagedNodeOSUpgradeSchedule` (node image upgrades)."""
    network: NetworkSettings = nested()
    """Pod and service address ranges, egress."""
    system_pool: SystemNodePoolSettings = nested()
    """The inline system pool (tainted CriticalAddonsOnly): CoreDNS, istiod, metrics agents."""
    user_pool: NodePoolSettings = nested()
    """The workload pool (a separate AgentPool resource)."""
    secret_rotation_poll_interval: Annotated[str, Field(pattern=r"^[1-9]\d*[smh]$")] = "2m"
    """How often the Key Vault CSI driver polls for rotated secrets (`2m`, `1h`)."""
    image_cleaner_interval_hours: Annotated[int, Field(ge=24, le=2160)] = 168
    """How often Image Cleaner removes unused vulnerable images from nodes."""
    defender: bool = True
    """Microsoft Defender for Containers, when a Log Analytics workspace is given."""
    registry: RegistrySettings = nested()
    """The container registry."""

    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def kubernetes_minor(self) -> str:
        return ".".join(self.kubernetes_version.split(".")[:2])

    @property
    def long_term_support(self) -> bool:
        return self.sku_tier == "Premium" and self.support_plan == LONG_TERM_SUPPORT_PLAN

    @property
    def warnings(self) -> list[str]:
        """Non-blocking findings (a minor near its end of life, a revision newer than the table or past
        its expected end of life), as of the validation date. The program does not log these: AksCluster
        runs the same checks (components/aks_rules.py) and logs them with `pulumi.log.warn`."""
        return list(self._warnings)

    @model_validator(mode="after")
    def _cluster_model_rules(self, info: ValidationInfo) -> "ClusterSettings":
        on = _validation_date(info)
        version_warnings, problems = _rule_problems(
            aks_rules.validate_kubernetes_version,
            self.kubernetes_version,
            sku_tier=self.sku_tier,
            support_plan=self.support_plan,
            upgrade_channel=self.upgrade_channel,
            on=on,
        )
        revision_warnings, revision_problems = _rule_problems(
            aks_rules.validate_istio_revisions,
            list(self.istio.revisions),
            kubernetes_version=self.kubernetes_version,
            on=on,
        )
        problems += revision_problems
        self._warnings = [*(version_warnings or []), *(revision_warnings or [])]
        problems += _rule_problems(
            aks_rules.validate_api_server_access,
            private_cluster=self.private_cluster,
            authorized_ip_ranges=list(self.authorized_ip_ranges),
        )[1]
        problems += _rule_problems(aks_rules.validate_zones, list(self.zones))[1]
        _raise_problems(problems, self)
        return self


def _cluster_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    """Cluster rules that need the rest of the stack (e.g. production-only rules). Keys: full path."""
    problems: list[tuple[str, str]] = []
    cluster = stack.cluster
    if stack.is_production:
        if len(cluster.zones) < 2:
            problems.append(("cluster.zones", "prod must spread node pools across availability zones (1-3)"))
        if cluster.sandbox_local_accounts:
            problems.append(
                ("cluster.sandboxLocalAccounts", "prod must keep local accounts disabled (Entra ID only)")
            )
        if cluster.sku_tier == "Free":
            problems.append(("cluster.skuTier", "prod needs the uptime SLA: Standard or Premium, not Free"))
        if cluster.registry.sku != "Premium":
            problems.append(("cluster.registry.sku", f"prod must use Premium, got {cluster.registry.sku}"))
    if cluster.network.outbound_type == "managedNATGateway" and not stack.key_vault.private_endpoint.enabled:
        # The CSI driver reads the vault over the cluster's egress, and AKS is not a trusted service for
        # the firewall bypass (Azure/secrets-store-csi-driver-provider-azure#873, #1226).
        problems.append(
            (
                "cluster.network.outboundType",
                "managedNATGateway egresses from IPs AKS owns, which the Key Vault firewall cannot admit: "
                "use loadBalancer (the stack's static egress IP) or enable keyVault.privateEndpoint",
            )
        )
    return problems
