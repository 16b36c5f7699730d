"""What Azure would refuse in an AKS cluster's arguments, as plain functions of plain values.

`AksCluster` calls these first thing (components/aks.py, `validate_aks_cluster_args`); the stack's
settings layer (program/settings/, cluster section) calls the same functions so a stack user sees
the problem under its config key. Each `validate_*` raises `ArgsProblems` (a `ValueError`) listing every
problem it found, each message starting with the Args field it concerns (`min_count: ...`,
`istio.revisions[0]: ...`); `problems` holds them as (field, message) pairs for the settings layer.
Checks that need the calendar (`validate_kubernetes_version`, `validate_istio_revisions`) return their
non-blocking warnings. Production-only rules are the stack's business and stay in settings.
"""

import contextlib
import datetime
import ipaddress
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .istio_revisions import check_revisions
from .kubernetes_versions import LONG_TERM_SUPPORT_PLAN, check_kubernetes_minor
from .vm_sizes import EPHEMERAL_OS_DISK_MAX_GB

if TYPE_CHECKING:  # the enum's module imports the Azure SDK, which the settings must not pay for
    from .common import LockLevel

Problems = list[tuple[str, str]]

AVAILABILITY_ZONES = ("1", "2", "3")
"""Zones an AKS node pool can be pinned to (regions with zones have exactly three)."""
NODE_COUNT_RANGE = (1, 1000)
"""Per-pool node count bounds of the cluster autoscaler on a VM scale set pool (AKS docs: "AKS quotas")."""
MAX_PODS_RANGE = (10, 250)
"""Pods per node with Azure CNI overlay (AKS docs: "Azure CNI Overlay", maximum pods per node)."""
OS_DISK_SIZE_RANGE_GB = (30, 2048)
"""OS disk sizes a node pool accepts (ARM `osDiskSizeGB`)."""
MAX_SURGE = re.compile(r"^([1-9]\d*|[1-9]\d?%|100%)$")
"""A node count (`1`) or a percentage (`33%`) of the pool (AKS docs: "Upgrade options", max surge)."""

UNSUPPORTED_OUTBOUND_TYPES: dict[str, str] = {
    "userDefinedRouting": "needs the cluster in your own subnet with a route table to a firewall",
    "userAssignedNATGateway": "needs the cluster in your own subnet with a NAT gateway attached",
}
"""Outbound types the cluster cannot run, with the reason (AKS docs: "Customize cluster egress with outbound
types"): both need the cluster in a subnet of the user's VNet, and `AksCluster` creates the cluster in an
AKS-managed VNet (it takes no subnet)."""

LOCK_LEVELS = ("CanNotDelete", "ReadOnly")


class ArgsProblems(ValueError):
    """Every problem one `validate_*` found; the message lists them, `problems` keeps them apart."""

    def __init__(self, problems: Problems) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.problems))


def _raise(problems: Problems) -> None:
    if problems:
        raise ArgsProblems(problems)


def _prefixed(prefix: str, problems: Problems) -> Problems:
    return [(f"{prefix}.{field}" if prefix else field, message) for field, message in problems]


# --- node pools ---------------------------------------------------------------------------------------


def validate_node_pool(
    *,
    vm_size: str,
    min_count: int,
    max_count: int,
    max_pods: int,
    os_disk_type: str,
    os_disk_size_gb: int,
    max_surge: str = "33%",
) -> None:
    """One autoscaled pool: counts, pods per node, OS disk (an Ephemeral disk must fit the VM's local
    storage, components/vm_sizes.py) and upgrade surge. `os_disk_type` is `auto`, `Ephemeral` or `Managed`."""
    problems: Problems = []
    low, high = NODE_COUNT_RANGE
    for field, count in (("min_count", min_count), ("max_count", max_count)):
        if not low <= count <= high:
            problems.append((field, f"must be between {low} and {high}, got {count}"))
    if min_count > max_count:
        problems.append(("min_count", f"must not exceed max_count ({min_count} > {max_count})"))
    if not MAX_PODS_RANGE[0] <= max_pods <= MAX_PODS_RANGE[1]:
        problems.append(
            ("max_pods", f"must be between {MAX_PODS_RANGE[0]} and {MAX_PODS_RANGE[1]}, got {max_pods}")
        )
    if not OS_DISK_SIZE_RANGE_GB[0] <= os_disk_size_gb <= OS_DISK_SIZE_RANGE_GB[1]:
        problems.append(
            (
                "os_disk_size_gb",
                f"must be between {OS_DISK_SIZE_RANGE_GB[0]} and {OS_DISK_SIZE_RANGE_GB[1]} GiB, "
                f"got {os_disk_size_gb}",
            )
        )
    if os_disk_type not in ("auto", "Ephemeral", "Managed"):
        problems.append(("os_disk_type", f"must be auto, Ephemeral or Managed, got {os_disk_type!r}"))
    capacity = EPHEMERAL_OS_DISK_MAX_GB.get(vm_size)
    if os_disk_type == "Ephemeral" and capacity is not None and os_disk_size_gb > capacity:
        problems.append(
            (
                "os_disk_size_gb",
                f"{os_disk_size_gb} GiB does not fit an Ephemeral OS disk on {vm_size} (at most "
                f"{capacity} GiB, components/vm_sizes.py): lower it, or use osDiskType Managed or auto",
            )
        )
    if not MAX_SURGE.fullmatch(max_surge):
        problems.append(("max_surge", f"must be a node count or a percentage (33%), got {max_surge!r}"))
    _raise(problems)


# --- versions -----------------------------------------------------------------------------------------


def kubernetes_minor(kubernetes_version: str) -> str:
    """`1.36.2` -> `1.36`."""
    return ".".join(kubernetes_version.split(".")[:2])


def validate_kubernetes_version(
    kubernetes_version: str,
    *,
    sku_tier: str = "Standard",
    support_plan: str = "KubernetesOfficial",
    upgrade_channel: str = "patch",
    on: datetime.date,
) -> list[str]:
    """The Kubernetes version against the AKS support calendar on a date (components/kubernetes_versions.py),
    long-term support only on Premium, and an exact patch only without a version-moving upgrade channel.
    Returns the warnings (a minor near its end of life, one newer than the table)."""
    problems: Problems = []
    if not re.fullmatch(r"1\.\d{2}(\.\d+)?", kubernetes_version):
        _raise(
            [
                (
                    "kubernetes_version",
                    f"must be a minor (1.36) or a patch (1.36.2), got {kubernetes_version!r}",
                )
            ]
        )
    minor = kubernetes_minor(kubernetes_version)
    long_term_support = sku_tier == "Premium" and support_plan == LONG_TERM_SUPPORT_PLAN
    version = check_kubernetes_minor(minor, on=on, long_term_support=long_term_support)
    problems.extend(("kubernetes_version", message) for message in version.errors)
    if support_plan == LONG_TERM_SUPPORT_PLAN and sku_tier != "Premium":
        problems.append(("support_plan", f"{LONG_TERM_SUPPORT_PLAN} needs skuTier Premium (got {sku_tier})"))
    if kubernetes_version.count(".") == 2 and upgrade_channel in ("patch", "stable", "rapid"):
        problems.append(
            (
                "kubernetes_version",
                f"an exact patch ({kubernetes_version}) fights upgradeChannel {upgrade_channel}: "
                f"configure the minor ({minor}) or set upgradeChannel none",
            )
        )
    _raise(problems)
    return version.warnings


def validate_istio_revisions(
    revisions: list[str], *, kubernetes_version: str, on: datetime.date
) -> list[str]:
    """Istio add-on revisions against the revision table for the cluster's Kubernetes minor
    (components/istio_revisions.py; at most two, and two only when consecutive). Fields:
    `istio.revisions[<i>]`, `istio.revisions`. Returns the warnings."""
    problems: Problems = []
    if not revisions:
        _raise([("istio.revisions", "needs at least one revision (asm-1-NN)")])
    malformed = [(i, r) for i, r in enumerate(revisions) if not re.fullmatch(r"asm-1-\d+", r)]
    if malformed:
        _raise(
            [
                (f"istio.revisions[{i}]", f"{r!r} is not an Istio add-on revision (asm-1-NN)")
                for i, r in malformed
            ]
        )
    check = check_revisions(list(revisions), kubernetes_minor(kubernetes_version), on=on)
    for index, message in check.errors:
        problems.append((f"istio.revisions[{index}]" if index >= 0 else "istio.revisions", message))
    _raise(problems)
    return check.warnings


def validate_active_revision(revisions: list[str], active_revision: str) -> None:
    """The revision namespaces are labelled with must be one the mesh runs (empty: the newest)."""
    if active_revision and active_revision not in revisions:
        _raise(
            [
                (
                    "active_revision",
                    f"must be one of revisions ({', '.join(revisions)}), got {active_revision!r}",
                )
            ]
        )


# --- placement, network and access ----------------------------------------------------------------------


def validate_zones(zones: list[str]) -> None:
    """Availability zones: each of 1, 2, 3, none twice (an empty list: a region or stack without zones)."""
    problems: Problems = []
    for index, zone in enumerate(zones):
        if zone not in AVAILABILITY_ZONES:
            problems.append(
                (f"zones[{index}]", f"must be one of {', '.join(AVAILABILITY_ZONES)}, got {zone!r}")
            )
    if len(set(zones)) != len(zones):
        problems.append(("zones", f"lists a zone twice ({', '.join(zones)})"))
    _raise(problems)


def validate_network(*, pod_cidr: str, service_cidr: str, dns_service_ip: str, outbound_type: str) -> None:
    """Azure CNI overlay ranges (CoreDNS inside the service range, not its reserved addresses; pods and
    services apart) and an outbound type the cluster can run without a subnet of its own."""
    problems: Problems = []
    try:
        services = ipaddress.ip_network(service_cidr)
    except ValueError:
        services = None
        problems.append(("service_cidr", f"must be a CIDR range, got {service_cidr!r}"))
    try:
        pods = ipaddress.ip_network(pod_cidr)
    except ValueError:
        pods = None
        problems.append(("pod_cidr", f"must be a CIDR range, got {pod_cidr!r}"))
    try:
        dns = ipaddress.ip_address(dns_service_ip)
    except ValueError:
        problems.append(("dns_service_ip", f"must be an IP address, got {dns_service_ip!r}"))
    else:
        if services is not None:
            if dns not in services:
                problems.append(("dns_service_ip", f"{dns} is not inside serviceCidr {services}"))
            elif dns in (services.network_address, services.network_address + 1, services.broadcast_address):
                problems.append(("dns_service_ip", f"{dns} is reserved in serviceCidr {services} (use .10)"))
    if (
        pods is not None
        and services is not None
        and pods.version == services.version
        and pods.overlaps(services)
    ):
        problems.append(("pod_cidr", f"{pods} overlaps serviceCidr {services}"))
    if outbound_type in UNSUPPORTED_OUTBOUND_TYPES:
        problems.append(
            (
                "outbound_type",
                f"{outbound_type} {UNSUPPORTED_OUTBOUND_TYPES[outbound_type]}, which this "
                "program does not take; use loadBalancer (the stack's static egress IP)",
            )
        )
    _raise(problems)


def validate_outbound_public_ips(outbound_type: str, public_ip_count: int) -> None:
    """Only the `loadBalancer` outbound type egresses from given public IPs."""
    if public_ip_count and outbound_type != "loadBalancer":
        _raise(
            [
                (
                    "outbound_public_ip_ids",
                    "only the loadBalancer outbound type egresses from given public IPs, not "
                    f"{outbound_type}",
                )
            ]
        )


def validate_api_server_access(*, private_cluster: bool, authorized_ip_ranges: list[str]) -> None:
    """A private API server has no public endpoint to restrict."""
    if private_cluster and authorized_ip_ranges:
        _raise([("authorized_ip_ranges", "must be empty with privateCluster (no public endpoint)")])


def validate_login(login_mode: str, deployer_client_id_known: bool) -> None:
    """kubelogin's `spn` mode needs the service principal's client id."""
    if login_mode == "spn" and not deployer_client_id_known:
        _raise([("deployer_client_id", "the spn kubelogin mode needs the service principal's client id")])


def validate_lock(lock: "LockLevel | str | None") -> None:
    """A management lock level Azure knows."""
    if lock not in (None, *LOCK_LEVELS):
        _raise([("lock", f"must be CanNotDelete or ReadOnly, got {lock!r}")])


def prefixed(prefix: str, error: ArgsProblems) -> ArgsProblems:
    """The same problems with their fields under `prefix` (`system_pool.min_count`)."""
    return ArgsProblems(_prefixed(prefix, error.problems))


@contextlib.contextmanager
def fields_under(prefix: str) -> Iterator[None]:
    """Re-raise the problems of the checks inside with their fields under `prefix` (a nested Args)."""
    try:
        yield
    except ArgsProblems as error:
        raise prefixed(prefix, error) from None
