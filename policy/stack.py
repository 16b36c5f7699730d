"""Cross-resource stack policies: the cluster's network path to the Key Vaults its SecretProviderClasses
read (any number of them: one per service, or one shared vault)."""

import ipaddress
from collections.abc import Iterator
from typing import Any

from pulumi_policy import (
    PolicyResource,
)
from pulumi_policy.proxy import UnknownValueError

from .helpers import (
    MANDATORY,
    as_list,
    azure_type,
    dig,
    objects,
    read,
    stack_policy,
)

SECRET_PROVIDER_CLASS = "SecretProviderClass"


def _resource_name(resource: PolicyResource, name_input: str) -> str:
    """A resource's Azure name: its name input (preview), or the `name` output (after creation)."""
    return str(read(resource.props, name_input) or read(resource.props, "name") or "")


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
        value = read(rule, "value")
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
        ref_id = str(read(ref, "id") or "").lower()
        matched = [
            ip
            for ip in ips
            if str(read(ip.props, "id") or "").lower() == ref_id
            or ref_id.endswith(f"/publicipaddresses/{_resource_name(ip, 'publicIpAddressName').lower()}")
        ]
        if not matched and not ref_id:
            matched = [ip for ip in ips if _depends_on(cluster, ip)]
        found.extend(matched)
    return found or None


def _has_private_endpoint(vault: PolicyResource, resources: list[PolicyResource]) -> bool:
    vault_name = _resource_name(vault, "vaultName").lower()
    vault_id = str(read(vault.props, "id") or "").lower()
    for endpoint in resources:
        if azure_type(endpoint.resource_type) != "network:PrivateEndpoint":
            continue
        for connection in as_list(read(endpoint.props, "privateLinkServiceConnections")):
            target = str(read(connection, "privateLinkServiceId") or "").lower()
            groups = [str(g).lower() for g in as_list(read(connection, "groupIds"))]
            names_vault = bool(target) and (
                target == vault_id or (bool(vault_name) and target.endswith(f"/vaults/{vault_name}"))
            )
            if "vault" in groups and (names_vault or (not target and _depends_on(endpoint, vault))):
                return True
    return False


def _egress_problems(vault: PolicyResource, ips: list[PolicyResource]) -> Iterator[str]:
    props = vault.props
    if str(read(props, "properties", "publicNetworkAccess") or "").lower() == "disabled":
        yield "public network access is disabled and no private endpoint serves the vault"
        return
    try:
        rules = dig(props, "properties", "networkAcls", "ipRules")
    except UnknownValueError:
        rules = None  # a rule derived from an IP not created yet: the dependency below must exist
    for ip in ips:
        address = read(ip.props, "ipAddress")
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
        str(read(obj, "spec", "parameters", "keyvaultName") or "").lower()
        for _, obj in objects(resources, SECRET_PROVIDER_CLASS)
        if read(obj, "spec", "provider") in (None, "azure")
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
