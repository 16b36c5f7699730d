"""Typed, validated settings for one stack, read from the namespaced `aks-grpc:*` config objects.

Every area of the stack has one model (`ClusterSettings`, `MonitoringSettings`, ...); defaults live
here and nowhere else. Unknown keys are rejected so a typo never falls back to a default, and every
problem is reported at once, each naming its full config key, the bad value and what is allowed.

Cross-field rules are written as `@rule` problems: a validator collects `Problem`s relative to its
model and raises them together; `load_settings` turns them into full config keys.
"""

import datetime
import ipaddress
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonDict

from . import aks_rules
from .apim_rules import (
    APIM_SKUS,
    GATEWAY_DEFAULT_IMAGE,
    proto_services,
    validate_api_host,
    validate_apim_capacity,
    validate_apim_sku,
    validate_gateway_cpu,
    validate_gateway_image,
    validate_gateway_memory,
    validate_gateway_replicas,
    validate_grpc_api_path,
)
from .istio_revisions import DEFAULT_ISTIO_REVISIONS, newest_revision
from .keyvault_rules import APP_INSIGHTS_SECRET, SECRET_NAME_PATTERN
from .kubernetes_versions import DEFAULT_KUBERNETES_VERSION, LONG_TERM_SUPPORT_PLAN
from .kubernetes_versions import today as current_date
from .monitoring_rules import ALERT_SEVERITIES, CONTAINER_INSIGHTS_INTERVAL_PATTERN, LOG_RETENTION_DAYS
from .naming import DERIVED_NAMES, SERVICE_KEY, DerivedName, backend_tls_secret_name

NAMESPACE = "aks-grpc"
TODAY_CONTEXT_KEY = "today"
"""Validation context key of the date the support checks compare with (`load_settings(..., today=)`)."""


def _validation_date(info: ValidationInfo) -> datetime.date:
    context = info.context if isinstance(info.context, Mapping) else {}
    value = context.get(TODAY_CONTEXT_KEY)
    return value if isinstance(value, datetime.date) else current_date()


# ---------------------------------------------------------------------------------------------------
# Problem reporting
# ---------------------------------------------------------------------------------------------------

_PROBLEM_MARK = "@@"


class SettingsError(Exception):
    """Raised with every settings problem found; `problems` are ready-to-print lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid stack settings:\n" + "\n".join(f"  - {p}" for p in problems))


def problems_error(problems: Iterable[tuple[str, str]]) -> ValueError:
    """Build the error a model validator raises for cross-field problems.

    Each problem is ``(key relative to the model, message)``; the key is turned into the full config
    key by `load_settings`, so the message names exactly what to fix.
    """
    return ValueError("".join(f"{_PROBLEM_MARK}{key}\t{message}" for key, message in problems))


_COLLECTED: ContextVar[list[tuple[BaseModel, list[tuple[str, str]]]] | None] = ContextVar(
    "aks_grpc_settings_problems", default=None
)
"""Set by `load_settings`: rule problems are collected here with the model they belong to instead of
raised, so the rules of the enclosing models (and the stack's environment rules) still run; the models'
locations are found afterwards by walking the validated tree."""


def _raise_problems(problems: list[tuple[str, str]], owner: BaseModel | None = None) -> None:
    if not problems:
        return
    collected = _COLLECTED.get()
    if collected is not None and owner is not None:
        collected.append((owner, problems))
        return
    raise problems_error(problems)


class _Model(BaseModel):
    """Base of every settings model: camelCase keys in YAML, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        # Python code may build models by field name; stack config is read by alias only (see
        # load_settings), so a snake_case key there is an unknown key, not a silent alias.
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
        use_attribute_docstrings=True,
    )


def nested() -> Any:
    """Default for a nested settings model: `{}`, validated into the model at its own key.

    (A `default_factory=Model` would build the default outside validation, and a rule it breaks
    would be reported without its config key.)
    """
    return Field(default_factory=dict)


def service_key(service: str, relative: str = "") -> str:
    """`services.<name>[.relative]`: a service's config key relative to the namespace."""
    return f"services.{service}.{relative}" if relative else f"services.{service}"


def _field_named(model: type[BaseModel], part: Any) -> Any:
    return next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)


# ---------------------------------------------------------------------------------------------------
# Reusable field types
# ---------------------------------------------------------------------------------------------------


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"must be an IPv4/IPv6 network in CIDR form such as 203.0.113.0/24 ({exc})"
        ) from None
    return value


def _ip_or_cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError("must be an IP address or a network in CIDR form such as 203.0.113.0/24") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
IpRule = Annotated[str, AfterValidator(_ip_or_cidr)]
Guid = Annotated[
    str,
    Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")]
HourMinute = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
DayOfWeek = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

CREATE_ONLY: JsonDict = {"createOnly": True}
"""`json_schema_extra` of a field Azure fixes at creation: changing it replaces the resource (a node pool
is replaced create-before-delete under a new name; the cluster itself would be deleted and created
again, which `protect` blocks). The configuration reference marks these fields (tools/config_reference.py)."""


def create_only(default: Any = ..., **kwargs: Any) -> Any:
    """A `Field` marked create-only (see `CREATE_ONLY`)."""
    return Field(default, json_schema_extra=CREATE_ONLY, **kwargs)


KubernetesName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]

CLUSTER_OWNED_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "gatekeeper-system")
"""Namespaces every AKS cluster has (or its Azure Policy add-on creates): the program must not create them."""
CLUSTER_OWNED_NAMESPACE_PREFIXES = ("kube-", "aks-")
"""Prefixes of namespaces Kubernetes and AKS add-ons own (`aks-istio-system`, `aks-istio-ingress`, ...)."""


def _namespace_problems(key: str, namespace: str) -> list[tuple[str, str]]:
    """A namespace the program creates must not be one the cluster already owns."""
    if namespace in CLUSTER_OWNED_NAMESPACES or namespace.startswith(CLUSTER_OWNED_NAMESPACE_PREFIXES):
        return [
            (
                key,
                f"{namespace} belongs to the cluster (Kubernetes or an AKS add-on), and the program creates "
                f"and labels its namespace; choose another name (not {', '.join(CLUSTER_OWNED_NAMESPACES)} "
                f"nor {'*, '.join(CLUSTER_OWNED_NAMESPACE_PREFIXES)}*)",
            )
        ]
    return []


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
        """Non-blocking findings, logged with `pulumi.log.warn` (a minor near its end of life, a
        revision newer than the table or past its expected end of life), as of the validation date."""
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


# ---------------------------------------------------------------------------------------------------
# Monitoring (`aks-grpc:monitoring`)
# ---------------------------------------------------------------------------------------------------


# The Azure rules and their constants live with the components (components/monitoring_rules.py,
# components/keyvault_rules.py: no SDK imports); the fields below take their bounds from there.


class ContainerInsightsSettings(_Model):
    """What the Container Insights agent collects (the `MSCI-` data collection rule's settings)."""

    interval: Annotated[str, Field(pattern=f"^{CONTAINER_INSIGHTS_INTERVAL_PATTERN}$")] = "1m"
    """How often inventory and performance data are collected: `1m` to `30m` (Azure's allowed range)."""
    namespace_filtering_mode: Literal["Off", "Include", "Exclude"] = "Off"
    """`Off` collects every namespace; `Include`/`Exclude` collect only / all but `namespaces`."""
    namespaces: list[KubernetesName] = Field(default_factory=list)
    """Namespaces that `namespaceFilteringMode` includes or excludes."""

    @model_validator(mode="after")
    def _filtering_needs_namespaces(self) -> "ContainerInsightsSettings":
        problems: list[tuple[str, str]] = []
        if self.namespace_filtering_mode == "Off" and self.namespaces:
            problems.append(
                ("namespaces", "is ignored while namespaceFilteringMode is Off; set Include or Exclude")
            )
        if self.namespace_filtering_mode != "Off" and not self.namespaces:
            problems.append(
                (
                    "namespaces",
                    f"must name at least one namespace when namespaceFilteringMode is "
                    f"{self.namespace_filtering_mode}",
                )
            )
        _raise_problems(problems, self)
        return self


class GrafanaSettings(_Model):
    """Optional Azure Managed Grafana wired to the Azure Monitor workspace."""

    enabled: bool = False
    """Create an Azure Managed Grafana instance with the workspace as its Prometheus data source."""
    sku: Literal["Standard", "Essential"] = "Standard"
    """Grafana SKU (`Essential` lacks zone redundancy and some enterprise features)."""
    major_version: Annotated[str, Field(pattern=r"^\d{2}$")] = "11"
    """Grafana major version, e.g. `11`."""
    viewer_group_object_ids: list[Guid] = Field(default_factory=list)
    """Entra group object ids that get Grafana Viewer on Grafana and Monitoring Data Reader on the workspace."""
    admin_group_object_ids: list[Guid] = Field(default_factory=list)
    """Entra group object ids that get Grafana Admin on the Grafana instance."""


class AlertSettings(_Model):
    """Thresholds of the gRPC alert rules (Prometheus alert rules on the Azure Monitor workspace)."""

    pod_restarts: Annotated[int, Field(ge=1, le=100)] = 3
    """Container restarts within 15 minutes that fire the pod-restart alert."""
    grpc_error_ratio: Annotated[float, Field(gt=0, lt=1)] = 0.05
    """Share of gRPC calls failing with a server-side status (UNKNOWN, DEADLINE_EXCEEDED, INTERNAL,
    UNAVAILABLE, ...) over 5 minutes that fires the error-ratio alert."""
    grpc_p99_latency_ms: Annotated[int, Field(ge=1, le=60000)] = 500
    """p99 server-side gRPC latency in milliseconds (5 minutes) that fires the latency alert."""
    hpa_max_replicas_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    """Minutes an HPA may sit at its maximum replica count before the alert fires."""
    severity: Annotated[int, Field(ge=ALERT_SEVERITIES[0], le=ALERT_SEVERITIES[1])] = 2
    """Azure alert severity of the gRPC alerts (0 critical ... 4 verbose)."""


class MonitoringSettings(_Model):
    """Azure Monitor: logs, managed Prometheus, traces, alerts and Grafana (`aks-grpc:monitoring`)."""

    log_retention_days: Annotated[int, Field(ge=LOG_RETENTION_DAYS[0], le=LOG_RETENTION_DAYS[1])] = 30
    """Log Analytics retention (30-730 days)."""
    alert_emails: list[Email] = Field(default_factory=list)
    """Email addresses of the action group every alert is routed to."""
    container_insights: ContainerInsightsSettings = nested()
    grafana: GrafanaSettings = nested()
    alerts: AlertSettings = nested()

    @model_validator(mode="after")
    def _unique_emails(self) -> "MonitoringSettings":
        seen: set[str] = set()
        problems: list[tuple[str, str]] = []
        for index, email in enumerate(self.alert_emails):
            if email.lower() in seen:
                problems.append((f"alertEmails[{index}]", f"{email} is listed twice"))
            seen.add(email.lower())
        _raise_problems(problems, self)
        return self


def _monitoring_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if stack.is_production and not stack.monitoring.alert_emails:
        problems.append(("monitoring.alertEmails", "prod must route alerts to at least one email address"))
    grafana = stack.monitoring.grafana
    if stack.is_production and grafana.enabled and not grafana.admin_group_object_ids:
        # ARM gives nobody Grafana Admin on a created instance: without a group nobody can administer it.
        problems.append(
            (
                "monitoring.grafana.adminGroupObjectIds",
                "prod Grafana needs at least one Entra group object id that gets Grafana Admin",
            )
        )
    return problems


# ---------------------------------------------------------------------------------------------------
# Key Vault (`aks-grpc:keyVault`)
# ---------------------------------------------------------------------------------------------------


SecretName = Annotated[str, Field(pattern=f"^{SECRET_NAME_PATTERN}$")]
"""A Key Vault secret name: 1-127 letters, digits and hyphens (also the file name under /mnt/secrets)."""
ArmId = Annotated[str, Field(pattern=r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/.+$")]

PLATFORM_SECRET_NAMES = (APP_INSIGHTS_SECRET, "apim-grpc-subscription-key")
"""Secrets the stack writes itself whatever its services (SecretStore's App Insights connection string,
GrpcApiGateway's subscription key)."""


def reserved_secret_names(services: Iterable[str]) -> tuple[str, ...]:
    """Secrets the stack writes itself: the platform's and each service's backend TLS PEM
    (`BackendCertificate`); config cannot declare them."""
    return (
        PLATFORM_SECRET_NAMES[0],
        *(backend_tls_secret_name(s) for s in services),
        *PLATFORM_SECRET_NAMES[1:],
    )


RESERVED_SECRET_NAMES = reserved_secret_names(["greeter"])
"""The reserved secrets of a stack that declares no services (the greeter alone). A test compares this
list with the secrets a plan writes (tests/program/test_settings_properties.py)."""


class PrivateEndpointSettings(_Model):
    """An optional private endpoint for the vault with its `privatelink.vaultcore.azure.net` DNS zone."""

    enabled: bool = False
    """Create a private endpoint (and its private DNS zone linked to `virtualNetworkId`)."""
    subnet_id: ArmId | None = None
    """Resource id of the subnet the endpoint's NIC goes into."""
    virtual_network_id: ArmId | None = None
    """Resource id of the virtual network the private DNS zone is linked to."""

    @model_validator(mode="after")
    def _ids_when_enabled(self) -> "PrivateEndpointSettings":
        problems: list[tuple[str, str]] = []
        if self.enabled:
            if not self.subnet_id:
                problems.append(("subnetId", "is required when the private endpoint is enabled"))
            if not self.virtual_network_id:
                problems.append(("virtualNetworkId", "is required when the private endpoint is enabled"))
        _raise_problems(problems, self)
        return self


class KeyVaultSettings(_Model):
    """The stack's Key Vault and the secrets it holds for the workload (`aks-grpc:keyVault`)."""

    ip_rules: list[IpRule] = Field(default_factory=list)
    """Addresses allowed through the vault firewall (default action Deny)."""
    sku: Literal["standard", "premium"] = "standard"
    """Vault SKU (`premium` adds HSM-backed keys)."""
    private_endpoint: PrivateEndpointSettings = nested()
    secrets: list[SecretName] = Field(default_factory=list)
    """Names of further secrets the workload mounts. Only names live here: each value is set encrypted
    with `pulumi config set --secret --path 'aks-grpc:secrets.<name>' <value>`."""
    secret_validity_days: Annotated[int, Field(ge=30, le=3650)] = 365
    """Expiry of the secrets the stack writes, counted from the first day of the deploying month."""
    create_mode: Literal["default", "recover"] = "default"
    """`recover`: bring back the soft-deleted vault of this name (after a `pulumi destroy`, purge protection
    keeps the name taken for 90 days). Set it back to `default` once recovered (docs/operations.md)."""
    name_generation: Annotated[int, Field(ge=0, le=99)] = create_only(0)
    """Folded into the vault name's suffix: raise it to create a vault under a new name while the old one
    sits soft-deleted (0 keeps the original name)."""

    @model_validator(mode="after")
    def _secret_names(self) -> "KeyVaultSettings":
        problems: list[tuple[str, str]] = []
        seen: set[str] = set()
        for index, name in enumerate(self.secrets):
            # Key Vault secret names are case-insensitive.
            if name.lower() in PLATFORM_SECRET_NAMES:
                problems.append(
                    (
                        f"secrets[{index}]",
                        f"{name} is written by the platform itself (reserved: {', '.join(PLATFORM_SECRET_NAMES)})",
                    )
                )
            elif name.lower() in seen:
                problems.append((f"secrets[{index}]", f"{name} is declared twice"))
            seen.add(name.lower())
        _raise_problems(problems, self)
        return self


def _key_vault_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    tls_secrets = {backend_tls_secret_name(name): name for name in stack.services}
    for index, name in enumerate(stack.key_vault.secrets):
        if name.lower() in tls_secrets:
            problems.append(
                (
                    f"keyVault.secrets[{index}]",
                    f"{name} is written by the platform itself (the backend TLS PEM of "
                    f"{service_key(tls_secrets[name.lower()])})",
                )
            )
        for service_name, service in stack.services.items():
            ingress = service.ingress
            # Key Vault keeps a certificate's key and chain in a secret of the certificate's name.
            if ingress.host and name.lower() == ingress.certificate_name.lower():
                problems.append(
                    (
                        f"keyVault.secrets[{index}]",
                        f"{name} is the secret behind the ingress certificate "
                        f"{service_key(service_name, 'ingress.certificateName')}",
                    )
                )
    return problems


# ---------------------------------------------------------------------------------------------------
# API Management (`aks-grpc:apim`)
# ---------------------------------------------------------------------------------------------------


# The Azure rules and their constants live with the APIM components (components/apim_rules.py, no SDK
# imports); the models below call them and report each refusal under its config key.
CpuQuantity = Annotated[str, Field(pattern=r"^([1-9]\d*m|\d+(\.\d+)?)$")]
MemoryQuantity = Annotated[str, Field(pattern=r"^[1-9]\d*(Mi|Gi)$")]
DnsName = Annotated[str, Field(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$", max_length=253)]


class ApimRateLimitSettings(_Model):
    """Per-subscription rate limit of a service's gRPC API (`aks-grpc:services.<name>.apim.rateLimit`)."""

    calls: Annotated[int, Field(ge=1, le=1_000_000)] = 600
    """Calls one subscription may make per `renewalPeriodSeconds`, across all gateway replicas. Rate-limit
    counters of self-hosted gateway replicas are kept per node here, so each node enforces
    `ceil(calls / replicas)` and the total never exceeds this number."""
    renewal_period_seconds: Annotated[int, Field(ge=1, le=300)] = 60
    """Length of the rate-limit window in seconds (the policy allows 1-300)."""


class ApimJwtSettings(_Model):
    """Optional `validate-jwt` in front of the API (`aks-grpc:apim.jwt`)."""

    openid_config_url: Annotated[str, Field(pattern=r"^https://\S+$")]
    """OpenID Connect metadata URL, e.g. `https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration`."""
    audiences: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    """Accepted `aud` claims."""
    issuers: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Accepted `iss` claims (empty: the issuer from the OpenID configuration)."""


class ApimGatewaySettings(_Model):
    """The self-hosted gateway running in AKS (`aks-grpc:apim.gateway`)."""

    image: str = GATEWAY_DEFAULT_IMAGE
    """Gateway image pinned to an exact version >= 2.11.0 (never the rolling `v2`/`latest` tags)."""
    replicas: Annotated[int, Field(ge=1, le=20)] = 1
    """Gateway pods. Developer allows one gateway node; Premium needs at least 2 (PDB + zone spread)."""
    namespace: KubernetesName = "apim-gateway"
    """Kubernetes namespace of the gateway (meshed)."""
    name: KubernetesName = "apim-gateway"
    """Name of the gateway Deployment, Service and ServiceAccount, and of the APIM `Gateway` resource."""
    cpu_request: CpuQuantity = "500m"
    """CPU request of the gateway container."""
    memory_request: MemoryQuantity = "512Mi"
    """Memory request of the gateway container."""
    cpu_limit: CpuQuantity = "2"
    """CPU limit of the gateway container (Microsoft's sample uses 2 cores)."""
    memory_limit: MemoryQuantity = "2Gi"
    """Memory limit of the gateway container."""

    @property
    def image_version(self) -> str:
        return self.image.rpartition(":")[2]

    @model_validator(mode="after")
    def _gateway_rules(self) -> "ApimGatewaySettings":
        problems = [
            *_refusal("image", lambda: validate_gateway_image(self.image)),
            *_refusal("cpuLimit", lambda: validate_gateway_cpu(self.cpu_request, self.cpu_limit)),
            *_refusal("memoryLimit", lambda: validate_gateway_memory(self.memory_request, self.memory_limit)),
            *_namespace_problems("namespace", self.namespace),
        ]
        _raise_problems(problems, self)
        return self


def _refusal(key: str, check: Callable[[], None]) -> list[tuple[str, str]]:
    """A component rule's refusal as a settings problem under `key` (the rule's own field prefix dropped)."""
    try:
        check()
    except ValueError as error:
        return [(key, str(error).partition(": ")[2] or str(error))]
    return []


class ApimSettings(_Model):
    """API Management fronting the gRPC API through a self-hosted gateway (`aks-grpc:apim`)."""

    enabled: bool = True
    """Create API Management and the in-cluster gateway (the services and their TLS ports exist either way)."""
    sku: str = "Developer"
    """Tier: `Developer` (one gateway node, no SLA) or `Premium`; other tiers have no self-hosted gateway."""
    capacity: Annotated[int, Field(ge=1, le=12)] = 1
    """Scale units of the APIM service (Developer: exactly 1)."""
    publisher_name: Annotated[str, Field(min_length=1, max_length=100)] = "aks-grpc platform team"
    """Publisher name shown in the developer portal and notification emails."""
    publisher_email: Email = "platform@example.com"
    """Publisher email: receives APIM system notifications."""
    api_host: DnsName | None = None
    """Public host name of the gRPC API. When set, the Istio ingress gateway passes TLS for it through
    to the self-hosted gateway (VirtualService) and the gateway's hostname configuration uses it."""
    api_host_certificate_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,80}$")] | None = None
    """Id of an APIM certificate (uploaded out of band) the gateway serves for `apiHost`."""
    gateway: ApimGatewaySettings = nested()
    """The self-hosted gateway in AKS."""
    jwt: ApimJwtSettings | None = None
    """Validate a bearer JWT on every call (off when absent)."""
    app_insights_sampling_percentage: Annotated[float, Field(ge=0, le=100)] = 100.0
    """Share of gateway requests traced to Application Insights."""

    @model_validator(mode="after")
    def _apim_model_rules(self) -> "ApimSettings":
        problems = _refusal("sku", lambda: validate_apim_sku(self.sku))
        if self.sku in APIM_SKUS:
            problems += _refusal("capacity", lambda: validate_apim_capacity(self.sku, self.capacity))
            problems += _refusal(
                "gateway.replicas", lambda: validate_gateway_replicas(self.sku, self.gateway.replicas)
            )
        problems += _refusal(
            "apiHostCertificateId", lambda: validate_api_host(self.api_host, self.api_host_certificate_id)
        )
        _raise_problems(problems, self)
        return self


def _apim_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    """Production runs the Premium tier (SLA, multi-node gateway); `apiHost` enters through the
    external Istio ingress gateway. Keys are full paths."""
    problems: list[tuple[str, str]] = []
    if not stack.apim.enabled:
        return problems
    if stack.is_production and stack.apim.sku != "Premium":
        problems.append(("apim.sku", f"prod must use Premium (got {stack.apim.sku})"))
    for service_name, service in stack.services.items():
        if stack.apim.gateway.namespace == service.namespace:
            problems.append(
                (
                    "apim.gateway.namespace",
                    f"{stack.apim.gateway.namespace} is also {service_key(service_name, 'namespace')}: each owns "
                    "(creates, labels, deletes) its namespace, so they must differ",
                )
            )
        host = stack.apim.api_host
        if host and service.ingress.host and host.lower() == service.ingress.host.lower():
            problems.append(
                (
                    "apim.apiHost",
                    f"{host} is also {service_key(service_name, 'ingress.host')}: one host cannot be served by "
                    "two Istio Gateways (TLS passthrough to APIM and TLS termination for the service); use two "
                    "host names",
                )
            )
    if stack.apim.api_host and not stack.cluster.istio.external_ingress_gateway:
        problems.append(
            (
                "apim.apiHost",
                f"{stack.apim.api_host} is routed through the external Istio ingress gateway: "
                "set cluster.istio.externalIngressGateway: true or remove apim.apiHost",
            )
        )
    return problems


# ---------------------------------------------------------------------------------------------------
# gRPC services (`aks-grpc:services`) and the cluster-wide platform knobs (`aks-grpc:platform`)
# ---------------------------------------------------------------------------------------------------


class AutoscalingSettings(_Model):
    """How a service scales (`aks-grpc:services.<name>.autoscaling`). The autoscaler owns the replica count:
    the Deployment never sets `spec.replicas`."""

    mode: Literal["cpu", "keda"] = "cpu"
    """`cpu`: HPA on the app container's CPU. `keda`: KEDA on gRPC request rate from managed Prometheus
    (turns on the cluster's KEDA add-on)."""
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 2
    """Fewest pods; 2 or more keeps the service up through a node drain (the PDB allows one pod down)."""
    max_replicas: Annotated[int, Field(ge=1, le=500)] = 10
    """Most pods."""
    target_cpu_utilization: Annotated[int, Field(ge=10, le=95)] = 70
    """Target average CPU of the app container, in % of its CPU request (both modes)."""
    target_requests_per_second: Annotated[int, Field(ge=1, le=100_000)] = 1000
    """`keda` only: gRPC requests per second one pod should serve (one CPython process serves ~5-10k
    trivial unary RPC/s on one core, so 1000 leaves room for real handlers)."""
    scale_down_stabilization_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    """How long the autoscaler waits for lower recommendations before removing pods (no flapping)."""

    @model_validator(mode="after")
    def _autoscaling_rules(self) -> "AutoscalingSettings":
        problems: list[tuple[str, str]] = []
        if self.min_replicas > self.max_replicas:
            problems.append(
                ("minReplicas", f"{self.min_replicas} is above maxReplicas ({self.max_replicas})")
            )
        _raise_problems(problems, self)
        return self


class ContainerResourceSettings(_Model):
    """Requests and limits of one container (`aks-grpc:services.<name>.resources` / `.proxyResources`)."""

    cpu_request: CpuQuantity = "250m"
    """CPU the scheduler reserves; the HPA's utilization is measured against it."""
    memory_request: MemoryQuantity = "256Mi"
    """Memory the scheduler reserves."""
    cpu_limit: CpuQuantity = "1"
    """CPU ceiling (throttled above it)."""
    memory_limit: MemoryQuantity = "512Mi"
    """Memory ceiling (OOM-killed above it)."""

    @model_validator(mode="after")
    def _resource_rules(self) -> "ContainerResourceSettings":
        _raise_problems(_request_limit_problems(self), self)
        return self


def _request_limit_problems(
    container: "ContainerResourceSettings | ApimGatewaySettings",
) -> list[tuple[str, str]]:
    """Kubernetes refuses a container whose request is above its limit (keys relative to the container)."""
    problems: list[tuple[str, str]] = []
    if _cpu_millis(container.cpu_limit) < _cpu_millis(container.cpu_request):
        problems.append(("cpuLimit", f"{container.cpu_limit} is below cpuRequest ({container.cpu_request})"))
    if _memory_mebibytes(container.memory_limit) < _memory_mebibytes(container.memory_request):
        problems.append(
            ("memoryLimit", f"{container.memory_limit} is below memoryRequest ({container.memory_request})")
        )
    return problems


class ProxyResourceSettings(ContainerResourceSettings):
    """Requests and limits of the injected istio-proxy sidecar (`aks-grpc:services.<name>.proxyResources`)."""

    cpu_request: CpuQuantity = "100m"
    """CPU the scheduler reserves for Envoy."""
    memory_request: MemoryQuantity = "128Mi"
    """Memory the scheduler reserves for Envoy."""
    cpu_limit: CpuQuantity = "1"
    """Envoy's CPU ceiling."""
    memory_limit: MemoryQuantity = "256Mi"
    """Envoy's memory ceiling."""


def _cpu_millis(quantity: str) -> float:
    return float(quantity[:-1]) if quantity.endswith("m") else float(quantity) * 1000


def _memory_mebibytes(quantity: str) -> int:
    return int(quantity[:-2]) * (1024 if quantity.endswith("Gi") else 1)


class ShutdownSettings(_Model):
    """Graceful shutdown of a pod (`aks-grpc:services.<name>.shutdown`). terminationGracePeriodSeconds, the
    preStop sleep, the service's DRAIN_DELAY_SECONDS/SHUTDOWN_GRACE_SECONDS and the Istio proxy's drain
    duration are all derived from these (components/manifests.py `shutdown_timing`)."""

    pre_stop_seconds: Annotated[int, Field(ge=0, le=120)] = 5
    """preStop sleep before the app sees SIGTERM: time for kube-proxy and Istio to drop the pod from
    their endpoints while it still serves normally."""
    drain_delay_seconds: Annotated[int, Field(ge=0, le=120)] = 5
    """After SIGTERM the app reports NOT_SERVING on `readiness` but keeps serving this long
    (DRAIN_DELAY_SECONDS), for health-checking clients to move away."""
    shutdown_grace_seconds: Annotated[int, Field(ge=1, le=600)] = 20
    """`server.stop(grace)`: how long in-flight RPCs may finish (SHUTDOWN_GRACE_SECONDS)."""
    margin_seconds: Annotated[int, Field(ge=2, le=120)] = 5
    """Slack between the end of the app's shutdown and the kubelet's SIGKILL."""


class TrafficSettings(_Model):
    """Istio traffic policy for the service (`aks-grpc:services.<name>.traffic`)."""

    request_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    """VirtualService timeout of a whole call (streams included)."""
    retry_attempts: Annotated[int, Field(ge=0, le=10)] = 2
    """Retries of a failed call (only for `retryOn` conditions)."""
    per_try_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    """Timeout of each attempt."""
    retry_on: Annotated[str, Field(pattern=r"^[a-z0-9-]+(,[a-z0-9-]+)*$")] = (
        "unavailable,connect-failure,refused-stream"
    )
    """Envoy/gRPC retry conditions: only ones where the server did not process the call."""
    outlier_consecutive_errors: Annotated[int, Field(ge=1, le=100)] = 5
    """Consecutive gateway errors (502/503/504, gRPC UNAVAILABLE) before a pod is ejected."""
    outlier_ejection_seconds: Annotated[int, Field(ge=1, le=3600)] = 30
    """Base ejection time of an unhealthy pod."""
    max_ejection_percent: Annotated[int, Field(ge=0, le=100)] = 50
    """Most pods ejected at once (keeps capacity when many fail)."""

    @model_validator(mode="after")
    def _traffic_rules(self) -> "TrafficSettings":
        problems: list[tuple[str, str]] = []
        if self.retry_attempts and self.per_try_timeout_seconds > self.request_timeout_seconds:
            problems.append(
                (
                    "perTryTimeoutSeconds",
                    f"{self.per_try_timeout_seconds}s is above requestTimeoutSeconds ({self.request_timeout_seconds}s)",
                )
            )
        _raise_problems(problems, self)
        return self


class ServiceIngressSettings(_Model):
    """Optional direct ingress for the service through the Istio add-on's gateway (`aks-grpc:services.<name>.ingress`)."""

    host: DnsName | None = None
    """Public (or internal) host name; when set, an Istio Gateway terminates TLS for it on 443."""
    gateway: Literal["external", "internal"] = "external"
    """Which add-on ingress gateway serves the host (the cluster must run it)."""
    certificate_name: Annotated[str, Field(pattern=r"^[0-9a-zA-Z-]{1,127}$")] = "ingress-tls"
    """Key Vault certificate (imported out of band, PEM or PFX) served for `host`."""
    syncer_image: str = "mcr.microsoft.com/oss/kubernetes/pause:3.9"
    """Image of the one-pod Deployment that mounts the CSI volume so the driver syncs the TLS Secret."""


class ServiceDaprSettings(_Model):
    """Optional Dapr sidecar of one service (`aks-grpc:services.<name>.dapr`); the AKS `microsoft.dapr`
    extension is installed once, when any service enables it (`aks-grpc:platform.dapr`)."""

    enabled: bool = False
    """Annotate the pods for a Dapr sidecar; Dapr's own mTLS and tracing stay off (Istio does them)."""


API_PATH_PATTERN = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(/[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$"


class ServiceApimSettings(_Model):
    """How API Management exposes one service (`aks-grpc:services.<name>.apim`): one gRPC API per
    exposed service, imported from its `proto`, on the one self-hosted gateway."""

    exposed: bool = True
    """Publish the service as a gRPC API of API Management (with `apim.enabled`)."""
    path: Annotated[str, Field(pattern=API_PATH_PATTERN, max_length=400)] = ""
    """API path (URL suffix). Stays empty: gRPC clients call `/<package>.<Service>/<Method>` and cannot
    add a prefix, and the gateway tells the APIs apart by their gRPC service names
    (components/apim_rules.py `validate_grpc_api_path`)."""
    product: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,79}$")] = "grpc"
    """API Management product the API belongs to (subscriptions to it grant access)."""
    rate_limit: ApimRateLimitSettings = nested()
    """Per-subscription rate limit of the service's gRPC API."""

    @model_validator(mode="after")
    def _service_apim_rules(self) -> "ServiceApimSettings":
        problems: list[tuple[str, str]] = []
        try:
            validate_grpc_api_path(self.path)
        except ValueError as error:
            problems.append(("path", str(error).removeprefix("path: ")))
        _raise_problems(problems, self)
        return self


class PlatformDaprSettings(_Model):
    """The AKS `microsoft.dapr` extension, installed once when a service enables Dapr (`aks-grpc:platform.dapr`)."""

    release_train: Literal["stable", "dev"] = "stable"
    """Extension release train."""
    high_availability: bool = False
    """Run Dapr's control plane with 3 replicas (`global.ha.enabled`)."""


class PlatformSettings(_Model):
    """Cluster-wide knobs of the service platform, shared by every service (`aks-grpc:platform`)."""

    access_logging: bool = True
    """Mesh-wide Envoy access logs (one `Telemetry` in aks-istio-system)."""
    dapr: PlatformDaprSettings = nested()
    """The Dapr extension (only installed when a service sets `dapr.enabled`)."""


DEFAULT_SERVICE = "greeter"
"""The service a stack runs when it declares none (`aks-grpc:services` absent): the reference greeter."""
DEFAULT_PROTO = "service/protos/helloworld.proto"
DEFAULT_BUILD_CONTEXT = "service"


def default_namespace(service: str) -> str:
    """A service's namespace unless configured: `grpc-<name>` (`greeter` -> `grpc-greeter`)."""
    return f"grpc-{service}"


class GrpcServiceSettings(_Model):
    """One gRPC service on the cluster (`aks-grpc:services.<name>`); its name is the map key."""

    namespace: KubernetesName = ""
    """Kubernetes namespace (meshed with the active Istio revision), owned by this service alone.
    Default: `grpc-<name>`."""
    image: str | None = None
    """Container image: `repo@sha256:<64 hex>` or `repo:<tag other than latest>`, used as is (CI sets
    the digest it pushed). Unset: the program builds `buildContext` and pushes it to the stack's registry
    (components/image.py)."""
    build_context: str = DEFAULT_BUILD_CONTEXT
    """Folder (relative to the repository) the program builds when `image` is unset."""
    proto: Annotated[str, Field(pattern=r"^[^/\s][^\s]*\.proto$")] = DEFAULT_PROTO
    """The service's .proto file, relative to the repository: its `package.Service` names scope the KEDA
    query, and API Management imports it as the service's gRPC API."""
    apim: ServiceApimSettings = nested()
    """API Management exposure (API path, product, rate limit)."""
    autoscaling: AutoscalingSettings = nested()
    """HPA or KEDA."""
    resources: ContainerResourceSettings = nested()
    """Requests and limits of the app container."""
    proxy_resources: ProxyResourceSettings = nested()
    """Requests and limits of the injected istio-proxy sidecar (`sidecar.istio.io/proxy*` annotations)."""
    shutdown: ShutdownSettings = nested()
    """Graceful shutdown timing."""
    max_connection_age_seconds: Annotated[int, Field(ge=10, le=86400)] = 120
    """Server closes client connections after this (MAX_CONNECTION_AGE_SECONDS) so per-connection
    balanced clients (APIM's TLS passthrough) spread over new pods."""
    max_connection_age_grace_seconds: Annotated[int, Field(ge=0, le=3600)] = 30
    """Time in-flight calls get on a connection past its max age (MAX_CONNECTION_AGE_GRACE_SECONDS)."""
    max_connection_idle_seconds: Annotated[int, Field(ge=0, le=86400)] = 120
    """Server closes a connection that has had no call for this long (MAX_CONNECTION_IDLE_SECONDS;
    0 = never): idle clients do not hold ~30 KiB of server memory each forever."""
    keepalive_time_seconds: Annotated[int, Field(ge=10, le=239)] = 60
    """Server keepalive ping interval (KEEPALIVE_TIME_SECONDS): below the Azure load balancer's
    4-minute idle timeout so quiet long-lived connections are not dropped silently."""
    keepalive_timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 20
    """Connection closed when a keepalive ping is not answered within this (KEEPALIVE_TIMEOUT_SECONDS)."""
    keepalive_min_client_interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 10
    """Client pings without data closer together than this count as strikes
    (KEEPALIVE_MIN_CLIENT_INTERVAL_SECONDS); clients must keep their keepalive time above it."""
    keepalive_max_ping_strikes: Annotated[int, Field(ge=0, le=100)] = 2
    """Strikes after which the server closes the connection with GOAWAY `too_many_pings`
    (KEEPALIVE_MAX_PING_STRIKES; 0 = unlimited)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    """LOG_LEVEL of the service."""
    max_name_length: Annotated[int, Field(ge=1, le=1_000_000)] = 256
    """MAX_NAME_LENGTH of the service (longest accepted `HelloRequest.name`)."""
    secrets: list[Annotated[str, Field(pattern=r"^[0-9a-zA-Z-]{1,127}$")]] = Field(default_factory=list)
    """Extra Key Vault secrets mounted as files under /mnt/secrets (the App Insights connection string
    and the backend TLS PEM are always mounted)."""
    run_as_user: Annotated[int, Field(ge=1000, le=2_147_483_647)] = 10001
    """Non-root UID (and GID) the containers run as."""
    pod_security_enforce: Literal["privileged", "baseline", "restricted"] = "privileged"
    """Pod Security Admission `enforce` level of the namespace (`warn` and `audit` are always
    `restricted`). The injected istio-init container needs NET_ADMIN/NET_RAW, which baseline and
    restricted refuse: keep `privileged` unless the mesh uses the Istio CNI."""
    zone_spread: Literal["ScheduleAnyway", "DoNotSchedule"] = "ScheduleAnyway"
    """Topology spread over zones: soft (`ScheduleAnyway`) or hard."""
    traffic: TrafficSettings = nested()
    """Istio timeouts, retries, outlier detection."""
    ingress: ServiceIngressSettings = nested()
    """Optional direct ingress (off unless `host` is set)."""
    dapr: ServiceDaprSettings = nested()
    """Optional Dapr sidecar."""

    @property
    def image_reference(self) -> str:
        """The tag or digest of `image` (for the `app.kubernetes.io/version` label); empty when unset."""
        if self.image is None:
            return ""
        if "@" in self.image:
            return self.image.split("@", 1)[1]
        return self.image.rpartition(":")[2]

    @model_validator(mode="after")
    def _service_model_rules(self) -> "GrpcServiceSettings":
        problems: list[tuple[str, str]] = []
        if self.image is not None:
            problems.extend(("image", p) for p in image_problems(self.image))
        if self.namespace:
            problems.extend(_namespace_problems("namespace", self.namespace))
        duplicate = sorted({s for s in self.secrets if self.secrets.count(s) > 1})
        if duplicate:
            problems.append(("secrets", f"lists {', '.join(duplicate)} more than once"))
        _raise_problems(problems, self)
        return self


def image_problems(image: str) -> list[str]:
    """Why an image reference is not pinned (empty when it is): a tag other than `latest`, or a digest."""
    if re.search(r"\s", image) or not image:
        return [f"{image!r} is not an image reference"]
    repository, at, digest = image.partition("@")
    if at:
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            return [f"{image} has a malformed digest: expected @sha256:<64 hex digits>"]
        return []
    _, colon, tag = repository.rpartition(":")
    if not colon or "/" in tag:
        return [f"{image} has no tag: pin a version (repo:1.2.3) or a digest (repo@sha256:...)"]
    if tag == "latest":
        return [f"{image} uses `latest`: pin a version (repo:1.2.3) or a digest (repo@sha256:...)"]
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
        return [f"{image} has an invalid tag {tag!r}"]
    return []


def _services_with_defaults(value: Any) -> Any:
    """`aks-grpc:services` absent: the greeter alone; each service's namespace defaults to `grpc-<name>`."""
    if value is None:
        value = {DEFAULT_SERVICE: {}}
    if not isinstance(value, Mapping):
        return value
    filled: dict[Any, Any] = {}
    for name, service in value.items():
        if isinstance(service, Mapping) and not service.get("namespace") and isinstance(name, str):
            service = {**service, "namespace": default_namespace(name)}
        elif service is None and isinstance(name, str):
            service = {"namespace": default_namespace(name)}
        filled[name] = service
    return filled


ServiceName = Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
"""A service's name (its map key): an RFC 1035 label, since the Kubernetes Service is named after it."""


PLATFORM_IDENTITY_PURPOSES = ("keda-operator",)
"""Azure identity purposes of the platform itself (components/service_platform.py `KEDA_IDENTITY_PURPOSE`);
a service's identity is named from its own name, so no service may be called like one of these."""


def _service_name_problems(names: list[str]) -> list[tuple[str, str]]:
    """Names derived from two service names must not collide: the program names each service's
    resources `<name>-<part>` (`greeter-service-account`), so `greeter` and `greeter-service` would
    both own a `greeter-service-account`; and the platform's identities take some names."""
    problems: list[tuple[str, str]] = []
    for name in names:
        if name in PLATFORM_IDENTITY_PURPOSES:
            problems.append(
                (service_key(name), f"{name} names the platform's own Azure identity; rename the service")
            )
        clash = next((other for other in names if name.startswith(f"{other}-")), None)
        if clash is not None:
            problems.append(
                (
                    service_key(name),
                    f"{name} starts with {clash}-, the prefix of every resource name of {service_key(clash)}: "
                    "their derived names would collide; rename one of them",
                )
            )
    return problems


REPOSITORY = Path(__file__).resolve().parent.parent
"""The repository root: a service's `proto` (and `buildContext`) are relative to it."""


def _proto_services(proto: str) -> tuple[str, list[str]]:
    """(problem or "", the `package.Service`s) of a service's proto file."""
    path = REPOSITORY / proto
    if not path.is_file():
        return f"{proto} is not a file of the repository", []
    declared = proto_services(path.read_text(encoding="utf-8"))
    if not declared:
        return f"{proto} declares no gRPC service", []
    return "", declared


def _services_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    """Service rules that need the rest of the stack, and the uniqueness rules across services; keys are
    full paths (`services.orders.namespace`)."""
    problems: list[tuple[str, str]] = []
    namespaces: dict[str, str] = {}
    hosts: dict[str, str] = {}
    grpc_services: dict[str, str] = {}
    for name, service in stack.services.items():
        if stack.is_production and service.autoscaling.min_replicas < 2:
            problems.append(
                (
                    service_key(name, "autoscaling.minReplicas"),
                    "prod needs at least 2 pods to stay up through a node drain",
                )
            )
        ingress = service.ingress
        if ingress.host:
            runs_gateway = (
                stack.cluster.istio.external_ingress_gateway
                if ingress.gateway == "external"
                else stack.cluster.istio.internal_ingress_gateway
            )
            if not runs_gateway:
                problems.append(
                    (
                        service_key(name, "ingress.gateway"),
                        f"{ingress.gateway} needs cluster.istio.{ingress.gateway}IngressGateway: true",
                    )
                )
            host = ingress.host.lower()
            if host in hosts:
                problems.append(
                    (
                        service_key(name, "ingress.host"),
                        f"{ingress.host} is also {service_key(hosts[host], 'ingress.host')}: one host, one service",
                    )
                )
            hosts.setdefault(host, name)
        if service.namespace in namespaces:
            problems.append(
                (
                    service_key(name, "namespace"),
                    f"{service.namespace} is also {service_key(namespaces[service.namespace], 'namespace')}: "
                    "each service owns (creates, labels, deletes) its namespace",
                )
            )
        namespaces.setdefault(service.namespace, name)
        if stack.apim.enabled and service.apim.exposed:
            # Every gRPC API has the empty path (apim_rules.validate_grpc_api_path), so the gateway tells
            # the APIs apart by `/<package>.<Service>/`: a gRPC service may be in one exposed proto only.
            proto_problem, declared = _proto_services(service.proto)
            if proto_problem:
                problems.append((service_key(name, "proto"), proto_problem))
            for grpc_service in declared:
                if grpc_service in grpc_services:
                    problems.append(
                        (
                            service_key(name, "proto"),
                            f"{service.proto} declares {grpc_service}, which {service_key(grpc_services[grpc_service])} "
                            "also exposes: API Management routes a gRPC call by its service name to one API",
                        )
                    )
                grpc_services.setdefault(grpc_service, name)
    problems.extend(_service_name_problems(list(stack.services)))
    return problems


# ---------------------------------------------------------------------------------------------------
# The stack
# ---------------------------------------------------------------------------------------------------


class StackSettings(_Model):
    """All settings of one stack. Keys are the config keys without the `aks-grpc:` namespace."""

    environment: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,7}$")]
    """Environment name (2-8 lower-case letters/digits): part of every resource name."""
    location: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{2,30}$")]
    """Azure region, e.g. `westeurope`."""
    workload_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,9}$")] = "grpc"
    """Short product name used in every Azure resource name (2-10 lower-case letters/digits)."""
    tags: dict[Annotated[str, Field(min_length=1, max_length=512)], Annotated[str, Field(max_length=256)]] = (
        Field(default_factory=dict)
    )
    """Extra tags for every Azure resource (on top of environment, project and managed-by)."""
    protect_stateful_resources: bool | None = None
    """Pulumi `protect` on the resources holding state (AKS cluster, Key Vault, Log Analytics, Azure Monitor
    workspace, API Management, container registry): a plan that would delete one fails instead. Default:
    on in prod, off elsewhere. Set `false` before a deliberate `pulumi destroy` (docs/operations.md)."""
    cluster: ClusterSettings = nested()
    monitoring: MonitoringSettings = nested()
    key_vault: KeyVaultSettings = nested()
    apim: ApimSettings = nested()
    platform: PlatformSettings = nested()
    services: Annotated[
        dict[ServiceName, GrpcServiceSettings], BeforeValidator(_services_with_defaults), Field(min_length=1)
    ] = Field(default_factory=lambda: {DEFAULT_SERVICE: {}}, validate_default=True)
    """The gRPC services the platform runs, by name (the Kubernetes Service, ServiceAccount, Deployment,
    labels and the Azure identity derive from it). Default: the reference greeter alone."""

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def keda_enabled(self) -> bool:
        """Whether any service scales with KEDA (the cluster's KEDA add-on and the operator's identity)."""
        return any(s.autoscaling.mode == "keda" for s in self.services.values())

    @property
    def dapr_enabled(self) -> bool:
        """Whether any service runs a Dapr sidecar (the cluster's Dapr extension)."""
        return any(s.dapr.enabled for s in self.services.values())

    @property
    def protects_stateful_resources(self) -> bool:
        """Whether the stateful resources get `protect`: the setting, or on by default in prod."""
        if self.protect_stateful_resources is None:
            return self.is_production
        return self.protect_stateful_resources

    @property
    def standard_tags(self) -> dict[str, str]:
        """Tags every Azure resource carries: the configured ones plus the three the platform owns."""
        return {
            **self.tags,
            "environment": self.environment,
            "project": NAMESPACE,
            "managed-by": "pulumi",
        }

    @model_validator(mode="after")
    def _stack_rules(self) -> "StackSettings":
        problems: list[tuple[str, str]] = []
        reserved = {"environment", "project", "managed-by"} & set(self.tags)
        for key in sorted(reserved):
            problems.append((f"tags.{key}", "is set by the platform and cannot be overridden"))
        # Rules that span areas; each area keeps its own next to its model (keys are full paths).
        for area_rules in (
            _cluster_rules,
            _monitoring_rules,
            _key_vault_rules,
            _apim_rules,
            _services_rules,
            _derived_name_rules,
        ):
            problems.extend(area_rules(self))
        _raise_problems(problems, self)
        return self


def _config_value(stack: BaseModel, key: str) -> Any:
    """The value at a config key relative to the namespace (`services.greeter.ingress.host`); a key
    ending at a map entry (`services.greeter`) is the entry's name."""
    value: Any = stack
    parts = key.split(".")
    for index, part in enumerate(parts):
        if isinstance(value, Mapping):
            if part not in value:
                raise KeyError(key)
            value = value[part] if index < len(parts) - 1 else part
            continue
        field = _field_named(type(value), part) if isinstance(value, BaseModel) else None
        if field is None:
            raise KeyError(key)
        value = getattr(value, next(n for n, f in type(value).model_fields.items() if f is field))
    return value


def _derived_instances(
    stack: "StackSettings", derived: DerivedName
) -> list[tuple[DerivedName, dict[str, str]]]:
    """A derived name once per service when it is per service (`{services.*}`), else once: (the name with
    its keys made concrete, {concrete key: template key})."""
    if not any(key.startswith(SERVICE_KEY) for key in (*derived.keys, derived.when)):
        return [(derived, {key: key for key in derived.keys})]
    found = []
    for service in stack.services:
        concrete = SERVICE_KEY.replace("*", service)
        template = derived.template.replace(SERVICE_KEY, concrete)
        instance = DerivedName(
            template,
            derived.becomes,
            derived.rule,
            derived.rule_text,
            derived.when.replace(SERVICE_KEY, concrete),
        )
        found.append((instance, {key.replace(SERVICE_KEY, concrete): key for key in derived.keys}))
    return found


def _derived_name_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    """Every name derived from settings (components/naming.py `DERIVED_NAMES`) against its rule, once per
    service for the per-service ones.

    A broken name is reported at its first config key, once per key: the tightest rule it breaks (the
    one that leaves the configurable parts the fewest characters).
    """
    worst: dict[str, tuple[int, str]] = {}
    for template_name in DERIVED_NAMES:
        for derived, _ in _derived_instances(stack, template_name):
            if derived.when and not _config_value(stack, derived.when):
                continue
            parts = {key: str(_config_value(stack, key)) for key in derived.keys}
            name = derived.render(parts)
            if derived.rule.check(name):
                continue
            room = derived.rule.max_length - (len(name) - sum(len(v) for v in parts.values()))
            message = (
                f"{parts[derived.keys[0]]!r} becomes the {derived.becomes} {name!r} ({len(name)} characters), "
                f"which must be {derived.rule_text}"
            )
            if len(name) > derived.rule.max_length:
                message += f"; {' + '.join(derived.keys)} may have at most {room} characters here"
            key = derived.keys[0]
            if key not in worst or room < worst[key][0]:
                worst[key] = (room, message)
    return [(key, message) for key, (_, message) in worst.items()]


# ---------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------


def _map_model(annotation: Any) -> type[BaseModel] | None:
    """The value model of a map of settings models (`dict[str, Model]`, possibly `Annotated`)."""
    if typing.get_origin(annotation) is Annotated:
        return _map_model(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) is dict:
        value = typing.get_args(annotation)[1]
        return value if isinstance(value, type) and issubclass(value, BaseModel) else None
    return None


def _model_type(annotation: Any) -> type[BaseModel] | None:
    """The settings model of a field's annotation: `Model`, or `Model | None` (an optional object)."""
    if isinstance(annotation, type):
        return annotation if issubclass(annotation, BaseModel) else None
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        return models[0] if len(models) == 1 else None
    return None


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model that a (camelCase) error location points into, if any."""
    model: type[BaseModel] | None = StackSettings
    entry_of: type[BaseModel] | None = None
    for part in loc:
        if entry_of is not None:
            model, entry_of = entry_of, None  # `part` is a map key: the entry is a model
            continue
        if model is None:
            return None
        field = _field_named(model, part)
        if field is None:
            return None
        model = _model_type(field.annotation)
        entry_of = _map_model(field.annotation)
    return model


_DICT_KEY_MARK = "[key]"
"""What pydantic appends to the location of an error in a mapping's key (not its value)."""


def _key(loc: Iterable[Any]) -> str:
    """`("cluster", "istio", "revisions", 0)` -> `aks-grpc:cluster.istio.revisions[0]`.

    A map key that is not a plain word (empty, or with dots or spaces) is quoted in brackets, so an empty
    tag name reads `aks-grpc:tags[""]` rather than `aks-grpc:tags.`.
    """
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part == _DICT_KEY_MARK:
            continue
        elif not re.fullmatch(r"[A-Za-z0-9_-]+", str(part)):
            text += f"[{json.dumps(str(part))}]"
        else:
            text += f".{part}" if text else str(part)
    return f"{NAMESPACE}:{text}" if text else NAMESPACE


def _describe(error: Mapping[str, Any]) -> list[str]:
    loc = tuple(error["loc"])
    message = str(error["msg"])
    if _PROBLEM_MARK in message:
        lines = []
        for chunk in message.split(_PROBLEM_MARK)[1:]:
            relative, _, text = chunk.partition("\t")
            lines.append(f"{_key(loc + tuple(_split_key(relative)))}: {text.strip()}")
        return lines
    if error["type"] == "extra_forbidden":
        parent = _model_at(loc[:-1])
        allowed = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent else []
        hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
        return [f"{_key(loc)}: unknown key{hint}"]
    if error["type"] == "missing":
        return [f"{_key(loc)}: is required"]
    message = message.removeprefix("Value error, ")
    if _DICT_KEY_MARK in loc:
        message = f"the name (map key) {message[:1].lower()}{message[1:]}"
    return [f"{_key(loc)}: {message} (got {json.dumps(error.get('input'), default=str)})"]


def _split_key(relative: str) -> list[str | int]:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", relative):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return parts


SECRET_VALUES_KEY = "secrets"
"""`aks-grpc:secrets`: an encrypted object {secret name: value} holding the values of the secrets that
`keyVault.secrets` declares. The loaders below reduce it to its names, so no value ever reaches the
settings model; `components.keyvault.SecretStore` reads the values itself, as Pulumi secrets."""

ENCRYPTED_NAMES_UNKNOWN = "<encrypted object>"
"""Stands for `aks-grpc:secrets` when the whole object is one ciphertext, so its names cannot be read."""


def _secret_value_names(value: Any) -> dict[str, bool] | str:
    """`aks-grpc:secrets` of a stack file -> {name: stored encrypted?}, never the values.

    In a stack file an encrypted value is written `{secure: <ciphertext>}`; anything else is plain text.
    """
    if isinstance(value, Mapping) and set(value) == {"secure"}:
        return ENCRYPTED_NAMES_UNKNOWN
    if not isinstance(value, Mapping):
        return ENCRYPTED_NAMES_UNKNOWN if isinstance(value, str) else {}
    return {str(name): isinstance(item, Mapping) and set(item) == {"secure"} for name, item in value.items()}


def _secret_value_problems(settings: StackSettings, provided: Any) -> list[str]:
    """Every declared secret has a value in `aks-grpc:secrets`, every value is declared and encrypted."""
    if provided is None:
        provided = {}
    if not isinstance(provided, Mapping):
        return []  # one ciphertext: the names are checked when the program runs and can decrypt it
    problems: list[str] = []
    declared = settings.key_vault.secrets
    for index, name in enumerate(declared):
        if name not in provided:
            problems.append(
                f"{NAMESPACE}:keyVault.secrets[{index}]: {name} has no value; set it with "
                f"`pulumi config set --secret --path '{NAMESPACE}:{SECRET_VALUES_KEY}.{name}' <value>`"
            )
    for name, encrypted in provided.items():
        key = f"{NAMESPACE}:{SECRET_VALUES_KEY}.{name}"
        if name not in declared:
            problems.append(f"{key}: has a value but is not declared in {NAMESPACE}:keyVault.secrets")
        elif encrypted is False:
            problems.append(f"{key}: is stored in plain text; set it again with `pulumi config set --secret`")
    return problems


def load_settings(config: Mapping[str, Any], *, today: datetime.date | None = None) -> StackSettings:
    """Validate a stack's config (keys without the namespace, values already parsed).

    `secrets` (the names of `aks-grpc:secrets`, see `SECRET_VALUES_KEY`) is checked against
    `keyVault.secrets` and never enters the model. Support windows (Kubernetes minors, Istio revisions)
    are checked as of `today` (default: the current UTC date). Raises `SettingsError` listing every
    problem at once: the field problems, and the cross-field and environment rules over the fields that
    did parse (`_rule_problems_despite`).
    """
    values = dict(config)
    provided = values.pop(SECRET_VALUES_KEY, None)
    context = {TODAY_CONTEXT_KEY: today or current_date()}
    settings, errors, rule_problems = _validate_collecting(values, context)
    if settings is not None:
        problems = rule_problems + _secret_value_problems(settings, provided)
        if problems:
            raise SettingsError(problems)
        return settings
    field_problems = [line for error in errors for line in _describe(error)]
    more = _rule_problems_despite(values, errors, context, provided)
    raise SettingsError(field_problems + [p for p in more if p not in field_problems])


def _validate_collecting(
    values: Mapping[str, Any], context: Mapping[str, Any]
) -> tuple[StackSettings | None, list[Any], list[str]]:
    """Validate with the rules collecting their problems: (settings or None, field errors, rule problems)."""
    collected: list[tuple[BaseModel, list[tuple[str, str]]]] = []
    token = _COLLECTED.set(collected)
    try:
        settings = StackSettings.model_validate(values, by_alias=True, by_name=False, context=dict(context))
    except ValidationError as exc:
        return None, list(exc.errors()), []
    finally:
        _COLLECTED.reset(token)
    where = _locations(settings)
    problems = [
        f"{_key(where.get(id(owner), ()) + tuple(_split_key(relative)))}: {message}"
        for owner, owner_problems in collected
        for relative, message in owner_problems
    ]
    return settings, [], problems


def _locations(model: BaseModel, loc: tuple[Any, ...] = ()) -> dict[int, tuple[Any, ...]]:
    """id(model instance) -> its config location, for every model in a validated settings tree."""
    found = {id(model): loc}
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        key = field.alias or name
        if isinstance(value, BaseModel):
            found.update(_locations(value, (*loc, key)))
        elif isinstance(value, dict):
            for entry, item in value.items():
                if isinstance(item, BaseModel):
                    found.update(_locations(item, (*loc, key, entry)))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found.update(_locations(item, (*loc, key, index)))
    return found


# A required top-level field that failed is replaced by a placeholder so the other rules can run; `dev`
# is the most lenient environment (the production rules stay off when the environment itself is wrong).
_PLACEHOLDERS: dict[str, Any] = {"environment": "dev", "location": "westeurope"}


def _rule_problems_despite(
    values: Mapping[str, Any], errors: list[Any], context: Mapping[str, Any], provided: Any
) -> list[str]:
    """The rule problems of a config whose fields did not all parse.

    Pydantic runs no model rule once a field of the model fails, so one bad field would hide every
    cross-field and environment rule. Each failed field is set back to its default (or its enclosing
    optional object dropped) and the config validated again, a few times if needed; the rule problems of
    that run are reported, except those that name or sit under a field that was replaced (they would be
    about a value the user did not write).
    """
    data: Any = json.loads(json.dumps(values, default=str))
    replaced: list[tuple[Any, ...]] = []
    for _ in range(4):
        for error in errors:
            path = _replacement_path(tuple(error["loc"]))
            if path and path not in replaced:
                replaced.append(path)
                _replace(data, path)
        settings, errors, problems = _validate_collecting(data, context)
        if settings is not None:
            problems += _secret_value_problems(settings, provided)
            return [p for p in problems if not _mentions_replaced(p, replaced)]
    return []


def _replacement_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The config path to set back to its default for a field error at `loc`: the field itself, or the
    nearest enclosing field that has a default (an unknown key: the key itself)."""
    model: type[BaseModel] | None = StackSettings
    path: list[Any] = []
    has_default: list[bool] = []
    entry_of: type[BaseModel] | None = None
    for part in loc:
        if entry_of is not None:
            # A map entry: keep its name in the path; its fields have the defaults.
            path.append(part)
            has_default.append(False)
            model, entry_of = entry_of, None
            continue
        if model is None or isinstance(part, int):
            break
        field = _field_named(model, part)
        path.append(part)
        if field is None:
            has_default.append(True)  # an unknown key: dropping it is the fix
            break
        has_default.append(not field.is_required())
        model = _model_type(field.annotation)
        entry_of = _map_model(field.annotation)
    for length in range(len(path), 0, -1):
        if has_default[length - 1]:
            return tuple(path[:length])
    return tuple(path[:1])


def _replace(data: Any, path: tuple[Any, ...]) -> None:
    parent = data
    for part in path[:-1]:
        if not isinstance(parent, dict) or not isinstance(parent.get(part), dict):
            return
        parent = parent[part]
    if isinstance(parent, dict):
        if len(path) == 1 and path[0] in _PLACEHOLDERS:
            parent[path[0]] = _PLACEHOLDERS[path[0]]
        else:
            parent.pop(path[-1], None)


def _mentions_replaced(problem: str, replaced: list[tuple[Any, ...]]) -> bool:
    key, _, message = problem.partition(": ")
    for path in replaced:
        full = _key(path)
        if key == full or key.startswith((f"{full}.", f"{full}[")) or full.startswith((f"{key}.", f"{key}[")):
            return True
        leaf = str(path[-1])
        if re.search(rf"(?<![\w-]){re.escape(leaf)}(?![\w-])", message):
            return True
    return False


def config_from_stack_file(stack_config: Mapping[str, Any]) -> dict[str, Any]:
    """The `aks-grpc:*` entries of a stack file's `config:` block, namespace removed.

    Keys of other namespaces (`azure-native:location`, ...) are left to their providers.
    `aks-grpc:secrets` is reduced to its names (`_secret_value_names`).
    """
    prefix = f"{NAMESPACE}:"
    values = {k.removeprefix(prefix): v for k, v in stack_config.items() if k.startswith(prefix)}
    if SECRET_VALUES_KEY in values:
        values[SECRET_VALUES_KEY] = _secret_value_names(values[SECRET_VALUES_KEY])
    return values


def config_from_pulumi() -> dict[str, Any]:
    """The `aks-grpc:*` config of the running program (real engine or mocks), parsed from JSON.

    Pulumi hands object values over as JSON strings and has no API to list keys, so this reads the
    runtime's config map directly; unknown top-level keys are then rejected by the model.
    """
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    values: dict[str, Any] = {}
    for key, raw in merged.items():
        namespace, _, name = key.partition(":")
        if namespace != NAMESPACE or not name:
            continue
        if name == SECRET_VALUES_KEY:
            # Names only: the values stay in Pulumi's config, read as secrets by the component.
            encrypted = (
                runtime_config.is_config_secret(key) or key in runtime_config.get_config_secret_keys_env()
            )
            parsed = _parse_config_value(raw)
            names = parsed if isinstance(parsed, Mapping) else {}
            values[name] = {str(n): encrypted for n in names}
            continue
        values[name] = _parse_config_value(raw)
    return values


def _parse_config_value(raw: Any) -> Any:
    # Only objects and arrays arrive JSON-encoded; a scalar such as "1.30" must stay a string.
    if not isinstance(raw, str) or raw.lstrip()[:1] not in ("{", "["):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw
