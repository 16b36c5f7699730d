"""Node pools of an AKS cluster: one `NodePoolArgs` shape for the inline system pool and for workload
pools, and `NodePool`, the workload pool as its own `AgentPool` resource.

pulumi-azure-native#2719: keep the cluster's inline `agentPoolProfiles` to the system pool; every other
pool is a separate `AgentPool`. A workload pool is autoscaled (`count` ignored after creation so Pulumi
never fights the autoscaler) and named with a hash of its create-only settings, so a change of one of
them is a new pool, created before the old one is deleted.
"""

import enum
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi_azure_native import containerservice

from .aks_rules import fields_under, validate_node_pool
from .naming import RULES
from .vm_sizes import EPHEMERAL_OS_DISK_MAX_GB

NODE_OS_SKU = containerservice.OSSKU.AZURE_LINUX
ENCRYPTION_AT_HOST = True
"""Host-based encryption of OS and temp disks and caches on every pool (AKS docs: "Host-based encryption
on AKS"; needs the subscription feature Microsoft.Compute/EncryptionAtHost, tools/bootstrap-subscription.sh,
and a VM size that supports it)."""

SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"
"""Keeps application pods off the system pool (AKS docs: "Manage system node pools")."""

AGENT_POOL_NAME_MAX = 12
POOL_HASH_LENGTH = 6


class NodeOsDiskType(enum.Enum):
    """The node OS disk: `AUTO` picks Ephemeral when the VM size's local storage holds the disk."""

    AUTO = "auto"
    EPHEMERAL = "Ephemeral"
    MANAGED = "Managed"


@dataclass
class NodePoolArgs:
    """One autoscaled node pool (the system pool and workload pools share this shape)."""

    vm_size: str = "Standard_D4ds_v5"
    """Azure VM size (create-only). Sizes with a local temp disk (`...ds_v5`) allow an ephemeral OS disk."""
    min_count: int = 2
    """Cluster autoscaler lower bound (also the initial node count); two, so one node can drain."""
    max_count: int = 10
    """Cluster autoscaler upper bound."""
    max_pods: int = 110
    """Pods per node (create-only; Azure CNI overlay allows up to 250)."""
    os_disk_type: NodeOsDiskType = NodeOsDiskType.AUTO
    """Ephemeral (faster, no storage cost) where the VM size holds it, else Managed (create-only)."""
    os_disk_size_gb: int = 128
    """OS disk size in GiB (create-only)."""
    max_surge: str = "33%"
    """Extra nodes during an upgrade: a count (`1`) or a percentage (`33%`, AKS's advice for production)."""


def default_system_pool() -> NodePoolArgs:
    """The system pool runs only system pods (CoreDNS, istiod, metrics agents): three nodes at most and a
    small OS disk (few images), two at least so an upgrade or a zone outage leaves one."""
    return NodePoolArgs(min_count=2, max_count=3, os_disk_size_gb=64)


def validate_node_pool_args(pool: NodePoolArgs, field_name: str = "pool") -> None:
    """`validate_node_pool` (components/aks_rules.py) for one `NodePoolArgs`; fields under `field_name`."""
    with fields_under(field_name):
        validate_node_pool(
            vm_size=pool.vm_size,
            min_count=pool.min_count,
            max_count=pool.max_count,
            max_pods=pool.max_pods,
            os_disk_type=str(getattr(pool.os_disk_type, "value", pool.os_disk_type)),
            os_disk_size_gb=pool.os_disk_size_gb,
            max_surge=pool.max_surge,
        )


def os_disk_type(pool: NodePoolArgs) -> str:
    """`Ephemeral` or `Managed`: `auto` picks Ephemeral when the VM size's local storage holds the disk."""
    chosen = NodeOsDiskType(pool.os_disk_type)
    if chosen is not NodeOsDiskType.AUTO:
        return chosen.value
    capacity = EPHEMERAL_OS_DISK_MAX_GB.get(pool.vm_size, 0)
    return "Ephemeral" if pool.os_disk_size_gb <= capacity else "Managed"


def pool_create_only_settings(pool: NodePoolArgs, zones: list[str]) -> dict[str, Any]:
    """The pool settings Azure fixes at creation, as sent to Azure.

    An agent pool cannot change these in place; AKS docs ("Resize node pools": create a new pool and
    drain the old) and the azurerm node pool's list of properties that cycle the pool (vmSize, osDiskType,
    osDiskSizeGb, zones, maxPods, hostEncryptionEnabled, ...). osType and osSKU are fixed here but listed so
    a future change to them renames the pool too.
    """
    return {
        "vmSize": pool.vm_size,
        "osDiskType": os_disk_type(pool),
        "osDiskSizeGB": pool.os_disk_size_gb,
        "availabilityZones": sorted(zones),
        "maxPods": pool.max_pods,
        "osType": "Linux",
        "osSKU": str(NODE_OS_SKU.value),
        "enableEncryptionAtHost": ENCRYPTION_AT_HOST,
    }


def hashed_pool_name(base: str, create_only: dict[str, Any]) -> str:
    """`<base><6 hex digits of the create-only settings>`: a changed create-only setting gives a new name, so
    Pulumi replaces the pool create-before-delete (the new pool exists before the old one drains) instead
    of failing on an in-place update. Linux agent pool names: 1-12 lower-case letters and digits, starting
    with a letter (AKS docs: "Create node pools", naming)."""
    digest = hashlib.sha256(json.dumps(create_only, sort_keys=True).encode()).hexdigest()
    name = f"{base[: AGENT_POOL_NAME_MAX - POOL_HASH_LENGTH]}{digest[:POOL_HASH_LENGTH]}"
    if not RULES["agent_pool"].check(name):
        raise ValueError(f"agent pool name {name!r} breaks AKS's rule (1-12 lower-case alphanumerics)")
    return name


def pool_profile_fields(
    pool: NodePoolArgs, zones: list[str], kubernetes_version: pulumi.Input[str] | None
) -> dict[str, Any]:
    """The fields an inline pool profile and an `AgentPool` share, for one pool (autoscaled, AzureLinux,
    host encryption, the cluster's zones and version)."""
    return {
        "type": containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
        "vm_size": pool.vm_size,
        "enable_auto_scaling": True,
        "count": pool.min_count,
        "min_count": pool.min_count,
        "max_count": pool.max_count,
        "max_pods": pool.max_pods,
        "availability_zones": list(zones) or None,
        "os_type": containerservice.OSType.LINUX,
        "os_sku": NODE_OS_SKU,
        "os_disk_type": os_disk_type(pool),
        "os_disk_size_gb": pool.os_disk_size_gb,
        "enable_encryption_at_host": ENCRYPTION_AT_HOST,
        "orchestrator_version": kubernetes_version,
        "upgrade_settings": containerservice.AgentPoolUpgradeSettingsArgs(max_surge=pool.max_surge),
    }


def system_pool_profile(
    name: str, pool: NodePoolArgs, zones: list[str], kubernetes_version: pulumi.Input[str] | None
) -> containerservice.ManagedClusterAgentPoolProfileArgs:
    """The cluster's inline system pool, tainted `CriticalAddonsOnly`."""
    return containerservice.ManagedClusterAgentPoolProfileArgs(
        name=name,
        mode=containerservice.AgentPoolMode.SYSTEM,
        node_taints=[SYSTEM_POOL_TAINT],
        **pool_profile_fields(pool, zones, kubernetes_version),
    )


def sdk_kwargs(resource_args: Any) -> dict[str, Any]:
    """Keyword arguments for a resource from its typed `*Args` object.

    pulumi-azure-native 3.29 stores `resource_name` in `*Args` but its `_internal_init` expects
    `resource_name_` (it clashes with Pulumi's logical name), so `Resource(name, SomeArgs(resource_name=...))`
    raises "got multiple values for argument 'resource_name'". Building the typed Args first keeps the
    misspelling protection; this renames that one key.
    """
    return {
        ("resource_name_" if key == "resource_name" else key): value
        for key, value in vars(resource_args).items()
    }


@dataclass
class NodePoolComponentArgs:
    """Inputs of `NodePool`."""

    cluster_name: pulumi.Input[str]
    """Name of the managed cluster the pool joins."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the cluster."""
    pool: NodePoolArgs = field(default_factory=NodePoolArgs)
    """VM size, autoscaler bounds, OS disk and surge."""
    name_prefix: str = "user"
    """Start of the agent pool name (at most 6 characters are kept; 6 hex digits of the create-only
    settings follow)."""
    zones: list[str] = field(default_factory=list)
    """Availability zones (the cluster's); empty: no zones."""
    kubernetes_version: pulumi.Input[str] | None = None
    """Kubernetes version of the pool's nodes (the cluster's); None: the control plane's."""


class NodePool(pulumi.ComponentResource):
    """A workload (User mode) node pool as its own `AgentPool`, replaced create-before-delete under a new
    name when a create-only setting changes."""

    pool_name: str

    def __init__(
        self, name: str, args: NodePoolComponentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:index:NodePool", name, None, opts)
        validate_node_pool_args(args.pool)
        self.pool_name = hashed_pool_name(args.name_prefix, pool_create_only_settings(args.pool, args.zones))
        self.agent_pool = containerservice.AgentPool(
            f"{name}-pool",
            **sdk_kwargs(
                containerservice.AgentPoolArgs(
                    resource_group_name=args.resource_group_name,
                    resource_name=args.cluster_name,
                    agent_pool_name=self.pool_name,
                    mode=containerservice.AgentPoolMode.USER,
                    **pool_profile_fields(args.pool, args.zones, args.kubernetes_version),
                )
            ),
            # A new name (create-only settings changed) is a replacement: the new pool is created before
            # the old one is deleted, so workloads always have nodes.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"], delete_before_replace=False),
        )
        self.register_outputs({"poolName": self.pool_name})
