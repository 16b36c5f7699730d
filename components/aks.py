"""AksCluster: a secure-by-default AKS cluster with Istio, Key Vault CSI, workload identity, managed
Prometheus wiring, a container registry and a Kubernetes provider that authenticates through Entra ID.

What it creates (children of the component):
- the control-plane identity (user-assigned) and the `ManagedCluster` with only the system pool inline
  (pulumi-azure-native#2719: keep the inline list to the system pool);
- the workload pool as a separate `AgentPool` (autoscaled; `count` ignored so Pulumi never fights the
  autoscaler), named with a hash of its create-only settings so a change replaces it create-before-delete;
- with the `loadBalancer` outbound type, the stack's own static egress IP (`ClusterEgress`, created before
  the vault so the vault firewall can admit it) on the cluster's load balancer, and Network Contributor on
  it for the control-plane identity;
- the maintenance configurations `aksManagedAutoUpgradeSchedule` and `aksManagedNodeOSUpgradeSchedule`;
- the data collection rule associations (Prometheus DCR, Container Insights DCR, and the DCE association
  named exactly `configurationAccessEndpoint`) and the cluster's diagnostic setting, when their ids are given;
- a container registry with AcrPull for the kubelet identity;
- "Azure Kubernetes Service RBAC Cluster Admin" for the deploying principal, and the `pulumi_kubernetes`
  Provider built from a kubelogin kubeconfig (components/kubeconfig.py).
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
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
from .common import (
    RoleAssignmentArgs,
    deployer_principal_type,
    diagnostic_setting,
    management_lock,
    role_assignment,
    role_assignments,
)
from .kubeconfig import (
    cluster_endpoint,
    decode_credential,
    effective_login_mode,
    kubelogin_kubeconfig,
)
from .naming import RULES, StackNames
from .propagation import AKS_RBAC_PROPAGATION, propagation_wait
from .settings import ClusterSettings, MaintenanceWindowSettings, NodePoolSettings
from .vm_sizes import EPHEMERAL_OS_DISK_MAX_GB

CLUSTER_LOG_CATEGORIES = (
    "kube-audit-admin",
    "guard",
    "kube-apiserver",
    "kube-controller-manager",
    "cluster-autoscaler",
)
"""AKS resource log categories sent to Log Analytics (kube-audit-admin: audit without get/list noise)."""

SYSTEM_POOL_TAINT = "CriticalAddonsOnly=true:NoSchedule"
"""Keeps application pods off the system pool (AKS docs: "Manage system node pools")."""


def os_disk_type(pool: NodePoolSettings) -> str:
    """`Ephemeral` or `Managed`: `auto` picks Ephemeral when the VM size's local storage holds the disk."""
    if pool.os_disk_type != "auto":
        return pool.os_disk_type
    capacity = EPHEMERAL_OS_DISK_MAX_GB.get(pool.vm_size, 0)
    return "Ephemeral" if pool.os_disk_size_gb <= capacity else "Managed"


NODE_OS_SKU = containerservice.OSSKU.AZURE_LINUX
ENCRYPTION_AT_HOST = True
"""Host-based encryption of OS and temp disks and caches on every pool (AKS docs: "Host-based encryption
on AKS"; needs the subscription feature Microsoft.Compute/EncryptionAtHost, tools/bootstrap-subscription.sh,
and a VM size that supports it)."""


def pool_create_only_settings(pool: NodePoolSettings, zones: Sequence[str]) -> dict[str, Any]:
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


AGENT_POOL_NAME_MAX = 12
POOL_HASH_LENGTH = 6


def hashed_pool_name(base: str, create_only: Mapping[str, Any]) -> str:
    """`<base><6 hex digits of the create-only settings>`: a changed create-only setting gives a new name, so
    Pulumi replaces the pool create-before-delete (the new pool exists before the old one drains) instead
    of failing on an in-place update. Linux agent pool names: 1-12 lower-case letters and digits, starting
    with a letter (AKS docs: "Create node pools", naming)."""
    digest = hashlib.sha256(json.dumps(create_only, sort_keys=True).encode()).hexdigest()
    name = f"{base[: AGENT_POOL_NAME_MAX - POOL_HASH_LENGTH]}{digest[:POOL_HASH_LENGTH]}"
    if not RULES["agent_pool"].check(name):
        raise ValueError(f"agent pool name {name!r} breaks AKS's rule (1-12 lower-case alphanumerics)")
    return name


@dataclass
class ClusterEgressArgs:
    """Inputs of `ClusterEgress`."""

    names: StackNames
    """The stack's Azure names."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the public IP (the cluster's, not the node resource group AKS owns)."""
    location: pulumi.Input[str]
    """Azure region (the cluster's)."""
    zones: Sequence[str] = field(default_factory=list)
    """Availability zones: all of the cluster's, so the IP survives a zone outage (zone-redundant)."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
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

    public_ip: network.PublicIPAddress
    public_ip_id: pulumi.Output[str]
    ip_address: pulumi.Output[str]

    def __init__(
        self, name: str, args: ClusterEgressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:aks:ClusterEgress", name, None, opts)
        self.public_ip = network.PublicIPAddress(
            f"{name}-ip",
            # PublicIPAddressInitArgs: `network.PublicIPAddressArgs` is the nested (NIC) type of the same name.
            network.PublicIPAddressInitArgs(
                public_ip_address_name=args.names.egress_public_ip,
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


@dataclass
class AksClusterArgs:
    """Inputs of `AksCluster`. Optional monitoring ids switch their integrations on when given."""

    settings: ClusterSettings
    """The validated `aks-grpc:cluster` settings."""
    names: StackNames
    """The stack's Azure names."""
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
    outbound_public_ip_ids: Sequence[pulumi.Input[str]] = field(default_factory=list)
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
    """Turn on the KEDA add-on (the workload scales on Prometheus metrics)."""
    dapr_enabled: bool = False
    """Install the Dapr cluster extension (`microsoft.dapr`)."""
    dapr_release_train: str = "stable"
    """Dapr extension release train (`stable` or `dev`)."""
    dapr_high_availability: bool = False
    """Run Dapr's control plane highly available (`global.ha.enabled`)."""
    diagnostics: pulumi.Input[str] | None = None
    """Log Analytics workspace id for the cluster's resource logs (uniform knob)."""
    role_assignments: Sequence[RoleAssignmentArgs] = field(default_factory=list)
    """Extra role assignments scoped to the cluster (uniform knob)."""
    lock: str | None = None
    """`CanNotDelete` or `ReadOnly` lock on the cluster (uniform knob)."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Extra tags (the stack transformation already adds the standard ones)."""


def validate_aks_cluster_args(args: AksClusterArgs, login_mode: str) -> None:
    """Reject argument combinations that cannot work, naming the field (settings are validated already)."""
    if login_mode == "spn" and args.deployer_client_id is None:
        raise ValueError("deployer_client_id: the spn kubelogin mode needs the service principal's client id")
    if args.lock not in (None, "CanNotDelete", "ReadOnly"):
        raise ValueError(f"lock: must be CanNotDelete or ReadOnly, got {args.lock!r}")
    if args.outbound_public_ip_ids and args.settings.network.outbound_type != "loadBalancer":
        raise ValueError(
            "outbound_public_ip_ids: only the loadBalancer outbound type egresses from given public IPs, "
            f"not {args.settings.network.outbound_type}"
        )
    for pool_key, pool in (("systemPool", args.settings.system_pool), ("userPool", args.settings.user_pool)):
        capacity = EPHEMERAL_OS_DISK_MAX_GB.get(pool.vm_size)
        if pool.os_disk_type == "Ephemeral" and capacity is not None and pool.os_disk_size_gb > capacity:
            raise ValueError(
                f"settings.{pool_key}: {pool.vm_size} holds an ephemeral OS disk of at most {capacity} GiB, "
                f"osDiskSizeGb is {pool.os_disk_size_gb}"
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


def _maintenance_window(window: MaintenanceWindowSettings) -> containerservice.MaintenanceWindowArgs:
    return containerservice.MaintenanceWindowArgs(
        schedule=containerservice.ScheduleArgs(
            weekly=containerservice.WeeklyScheduleArgs(
                day_of_week=window.day_of_week, interval_weeks=window.interval_weeks
            )
        ),
        duration_hours=window.duration_hours,
        start_time=window.start_time,
        utc_offset=window.utc_offset,
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

    cluster: containerservice.ManagedCluster
    provider: k8s.Provider
    registry: containerregistry.Registry
    kubernetes_ready: list[pulumi.Resource]

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:aks:AksCluster", name, None, opts)
        settings = args.settings
        names = args.names
        login_mode = effective_login_mode(settings.kubelogin_mode)
        validate_aks_cluster_args(args, login_mode)
        child = pulumi.ResourceOptions(parent=self)
        for warning in settings.warnings:
            pulumi.log.warn(warning, resource=self)

        self.control_plane_identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            **sdk_kwargs(
                managedidentity.UserAssignedIdentityArgs(
                    resource_group_name=args.resource_group_name,
                    location=args.location,
                    resource_name=names.identity("aks"),
                    tags=args.tags,
                )
            ),
            opts=child,
        )

        zones = list(settings.zones) or None
        system = settings.system_pool
        system_pool = containerservice.ManagedClusterAgentPoolProfileArgs(
            name=names.system_agent_pool,
            mode=containerservice.AgentPoolMode.SYSTEM,
            type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
            vm_size=system.vm_size,
            enable_auto_scaling=True,
            count=system.min_count,
            min_count=system.min_count,
            max_count=system.max_count,
            max_pods=system.max_pods,
            availability_zones=zones,
            os_type=containerservice.OSType.LINUX,
            os_sku=NODE_OS_SKU,
            os_disk_type=os_disk_type(system),
            os_disk_size_gb=system.os_disk_size_gb,
            enable_encryption_at_host=ENCRYPTION_AT_HOST,
            node_taints=[SYSTEM_POOL_TAINT],
            orchestrator_version=settings.kubernetes_version,
            upgrade_settings=containerservice.AgentPoolUpgradeSettingsArgs(max_surge=system.max_surge),
        )

        workspace = args.log_analytics_workspace_id
        addons: dict[str, containerservice.ManagedClusterAddonProfileArgs] = {
            azure_ids.ADDON_KEY_VAULT_SECRETS_PROVIDER: containerservice.ManagedClusterAddonProfileArgs(
                enabled=True,
                # Add-on config values are strings, "true" included (AKS docs: "Azure Key Vault provider
                # for Secrets Store CSI Driver", enable autorotation).
                config={
                    "enableSecretRotation": "true",
                    "rotationPollInterval": settings.secret_rotation_poll_interval,
                },
            ),
            azure_ids.ADDON_AZURE_POLICY: containerservice.ManagedClusterAddonProfileArgs(enabled=True),
        }
        if workspace is not None:
            addons[azure_ids.ADDON_MONITORING] = containerservice.ManagedClusterAddonProfileArgs(
                enabled=True,
                config={"logAnalyticsWorkspaceResourceID": workspace, "useAADAuth": "true"},
            )

        istio = settings.istio
        gateways = [
            containerservice.IstioIngressGatewayArgs(
                enabled=istio.external_ingress_gateway, mode=containerservice.IstioIngressGatewayMode.EXTERNAL
            ),
            containerservice.IstioIngressGatewayArgs(
                enabled=istio.internal_ingress_gateway, mode=containerservice.IstioIngressGatewayMode.INTERNAL
            ),
        ]

        defender = None
        if workspace is not None and settings.defender:
            defender = containerservice.ManagedClusterSecurityProfileDefenderArgs(
                log_analytics_workspace_resource_id=workspace,
                security_monitoring=containerservice.ManagedClusterSecurityProfileDefenderSecurityMonitoringArgs(
                    enabled=True
                ),
            )

        # The control plane joins the stack's egress IPs to its load balancer: it needs join/action on them
        # before the cluster is created (AKS docs: "AKS service permissions").
        self.egress_ip_roles = [
            role_assignment(
                f"{name}-egress-ip-network-contributor-{index}",
                scope=ip_id,
                assignment=RoleAssignmentArgs(
                    principal_id=self.control_plane_identity.principal_id,
                    role_definition_id=azure_ids.NETWORK_CONTRIBUTOR,
                    principal_type="ServicePrincipal",
                    description="The AKS control plane attaches the stack's egress IP to its load balancer.",
                ),
                subscription_id=args.subscription_id,
                opts=child,
            )
            for index, ip_id in enumerate(args.outbound_public_ip_ids)
        ]

        network_settings = settings.network
        load_balancer_profile = None
        if args.outbound_public_ip_ids:
            # outboundIPs only: managedOutboundIPs stays unset, or AKS would add an IP of its own.
            load_balancer_profile = containerservice.ManagedClusterLoadBalancerProfileArgs(
                outbound_ips=containerservice.ManagedClusterLoadBalancerProfileOutboundIPsArgs(
                    public_ips=[
                        containerservice.ResourceReferenceArgs(id=ip_id)
                        for ip_id in args.outbound_public_ip_ids
                    ]
                )
            )
        self.cluster = containerservice.ManagedCluster(
            f"{name}-aks",
            **sdk_kwargs(
                containerservice.ManagedClusterArgs(
                    resource_group_name=args.resource_group_name,
                    resource_name=names.aks,
                    location=args.location,
                    dns_prefix=names.aks_dns_prefix,
                    node_resource_group=names.node_resource_group,
                    kubernetes_version=settings.kubernetes_version,
                    support_plan=settings.support_plan,
                    sku=containerservice.ManagedClusterSKUArgs(
                        name=containerservice.ManagedClusterSKUName.BASE, tier=settings.sku_tier
                    ),
                    identity=containerservice.ManagedClusterIdentityArgs(
                        type=containerservice.ResourceIdentityType.USER_ASSIGNED,
                        user_assigned_identities=[self.control_plane_identity.id],
                    ),
                    enable_rbac=True,
                    disable_local_accounts=not settings.sandbox_local_accounts,
                    aad_profile=containerservice.ManagedClusterAADProfileArgs(
                        managed=True,
                        enable_azure_rbac=True,
                        admin_group_object_ids=list(settings.admin_group_object_ids),
                        tenant_id=args.tenant_id,
                    ),
                    oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
                    security_profile=containerservice.ManagedClusterSecurityProfileArgs(
                        workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(
                            enabled=True
                        ),
                        image_cleaner=containerservice.ManagedClusterSecurityProfileImageCleanerArgs(
                            enabled=True, interval_hours=settings.image_cleaner_interval_hours
                        ),
                        defender=defender,
                    ),
                    api_server_access_profile=containerservice.ManagedClusterAPIServerAccessProfileArgs(
                        enable_private_cluster=settings.private_cluster,
                        authorized_ip_ranges=None
                        if settings.private_cluster
                        else list(settings.authorized_ip_ranges),
                        disable_run_command=settings.disable_run_command,
                    ),
                    network_profile=containerservice.ContainerServiceNetworkProfileArgs(
                        network_plugin=containerservice.NetworkPlugin.AZURE,
                        network_plugin_mode=containerservice.NetworkPluginMode.OVERLAY,
                        network_dataplane=containerservice.NetworkDataplane.CILIUM,
                        network_policy=containerservice.NetworkPolicy.CILIUM,
                        pod_cidr=network_settings.pod_cidr,
                        service_cidr=network_settings.service_cidr,
                        dns_service_ip=network_settings.dns_service_ip,
                        outbound_type=network_settings.outbound_type,
                        load_balancer_sku=containerservice.LoadBalancerSku.STANDARD,
                        load_balancer_profile=load_balancer_profile,
                    ),
                    auto_upgrade_profile=containerservice.ManagedClusterAutoUpgradeProfileArgs(
                        upgrade_channel=settings.upgrade_channel,
                        node_os_upgrade_channel=settings.node_os_upgrade_channel,
                    ),
                    agent_pool_profiles=[system_pool],
                    addon_profiles=addons,
                    azure_monitor_profile=containerservice.ManagedClusterAzureMonitorProfileArgs(
                        metrics=containerservice.ManagedClusterAzureMonitorProfileMetricsArgs(enabled=True)
                    ),
                    workload_auto_scaler_profile=containerservice.ManagedClusterWorkloadAutoScalerProfileArgs(
                        keda=containerservice.ManagedClusterWorkloadAutoScalerProfileKedaArgs(
                            enabled=args.keda_enabled
                        )
                    ),
                    service_mesh_profile=containerservice.ServiceMeshProfileArgs(
                        mode=containerservice.ServiceMeshMode.ISTIO,
                        istio=containerservice.IstioServiceMeshArgs(
                            revisions=list(istio.revisions),
                            components=containerservice.IstioComponentsArgs(ingress_gateways=gateways),
                        ),
                    ),
                    tags=args.tags,
                )
            ),
            # The autoscaler owns the system pool's node count after creation.
            opts=pulumi.ResourceOptions(
                parent=self,
                ignore_changes=["agentPoolProfiles[0].count"],
                depends_on=list(self.egress_ip_roles),
            ),
        )
        cluster = self.cluster

        user = settings.user_pool
        self.user_pool_name = hashed_pool_name(
            names.user_agent_pool, pool_create_only_settings(user, settings.zones)
        )
        self.user_pool = containerservice.AgentPool(
            f"{name}-user-pool",
            **sdk_kwargs(
                containerservice.AgentPoolArgs(
                    resource_group_name=args.resource_group_name,
                    resource_name=cluster.name,
                    agent_pool_name=self.user_pool_name,
                    mode=containerservice.AgentPoolMode.USER,
                    type=containerservice.AgentPoolType.VIRTUAL_MACHINE_SCALE_SETS,
                    vm_size=user.vm_size,
                    enable_auto_scaling=True,
                    count=user.min_count,
                    min_count=user.min_count,
                    max_count=user.max_count,
                    max_pods=user.max_pods,
                    availability_zones=zones,
                    os_type=containerservice.OSType.LINUX,
                    os_sku=NODE_OS_SKU,
                    os_disk_type=os_disk_type(user),
                    os_disk_size_gb=user.os_disk_size_gb,
                    enable_encryption_at_host=ENCRYPTION_AT_HOST,
                    orchestrator_version=settings.kubernetes_version,
                    upgrade_settings=containerservice.AgentPoolUpgradeSettingsArgs(max_surge=user.max_surge),
                )
            ),
            # A new name (create-only settings changed) is a replacement: the new pool is created before
            # the old one is deleted, so workloads always have nodes.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"], delete_before_replace=False),
        )

        self.maintenance_configurations = [
            containerservice.MaintenanceConfiguration(
                f"{name}-{suffix}",
                **sdk_kwargs(
                    containerservice.MaintenanceConfigurationArgs(
                        resource_group_name=args.resource_group_name,
                        resource_name=cluster.name,
                        config_name=config_name,
                        maintenance_window=_maintenance_window(window),
                    )
                ),
                opts=child,
            )
            for suffix, config_name, window in (
                ("auto-upgrade-window", azure_ids.AKS_AUTO_UPGRADE_SCHEDULE, settings.auto_upgrade_window),
                (
                    "node-os-upgrade-window",
                    azure_ids.AKS_NODE_OS_UPGRADE_SCHEDULE,
                    settings.node_os_upgrade_window,
                ),
            )
        ]

        # Monitoring associations, scoped to the cluster (the rules and endpoint live in Observability).
        self.data_collection_associations: list[monitor.DataCollectionRuleAssociation] = []
        if args.prometheus_rule_id is not None:
            self.data_collection_associations.append(
                monitor.DataCollectionRuleAssociation(
                    f"{name}-prometheus-dcra",
                    monitor.DataCollectionRuleAssociationArgs(
                        resource_uri=cluster.id,
                        association_name=names.prometheus_rule_association,
                        data_collection_rule_id=args.prometheus_rule_id,
                        description="Managed Prometheus: deleting this association stops metric collection.",
                    ),
                    opts=child,
                )
            )
        if args.container_insights_rule_id is not None:
            self.data_collection_associations.append(
                monitor.DataCollectionRuleAssociation(
                    f"{name}-container-insights-dcra",
                    monitor.DataCollectionRuleAssociationArgs(
                        resource_uri=cluster.id,
                        association_name=azure_ids.CONTAINER_INSIGHTS_ASSOCIATION,
                        data_collection_rule_id=args.container_insights_rule_id,
                        description="Container Insights: deleting this association stops log collection.",
                    ),
                    opts=child,
                )
            )
        if args.data_collection_endpoint_id is not None:
            self.data_collection_associations.append(
                monitor.DataCollectionRuleAssociation(
                    f"{name}-dce-association",
                    monitor.DataCollectionRuleAssociationArgs(
                        resource_uri=cluster.id,
                        association_name=azure_ids.CONFIGURATION_ACCESS_ENDPOINT,
                        data_collection_endpoint_id=args.data_collection_endpoint_id,
                    ),
                    opts=child,
                )
            )
        self.diagnostic_setting = (
            diagnostic_setting(
                f"{name}-diagnostics",
                resource_id=cluster.id,
                workspace_id=args.diagnostics,
                categories=CLUSTER_LOG_CATEGORIES,
                opts=child,
            )
            if args.diagnostics is not None
            else None
        )

        if args.dapr_enabled:
            self.dapr = kubernetesconfiguration.Extension(
                f"{name}-dapr",
                kubernetesconfiguration.ExtensionArgs(
                    resource_group_name=args.resource_group_name,
                    cluster_rp="Microsoft.ContainerService",
                    cluster_resource_name="managedClusters",
                    cluster_name=cluster.name,
                    extension_name="dapr",
                    extension_type="Microsoft.Dapr",
                    auto_upgrade_minor_version=True,
                    release_train=args.dapr_release_train,
                    # Istio already gives mTLS between pods; Dapr's own would encrypt twice.
                    configuration_settings={
                        "global.ha.enabled": "true" if args.dapr_high_availability else "false",
                        "global.mtls.enabled": "false",
                    },
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.user_pool]),
            )

        # Identities AKS creates: the kubelet identity pulls images; the CSI add-on identity is optional
        # for the driver (workloads use workload identity) but exported for callers that want it.
        self.kubelet_identity_object_id: pulumi.Output[str] = cluster.identity_profile.apply(
            lambda profile: _identity_field(profile, "kubeletidentity", "object_id")
        )
        self.kubelet_identity_client_id: pulumi.Output[str] = cluster.identity_profile.apply(
            lambda profile: _identity_field(profile, "kubeletidentity", "client_id")
        )
        addon = azure_ids.ADDON_KEY_VAULT_SECRETS_PROVIDER
        self.key_vault_secrets_provider_client_id: pulumi.Output[str] = cluster.addon_profiles.apply(
            lambda profiles: _addon_identity_field(profiles, addon, "client_id")
        )
        self.key_vault_secrets_provider_object_id: pulumi.Output[str] = cluster.addon_profiles.apply(
            lambda profiles: _addon_identity_field(profiles, addon, "object_id")
        )

        # Registry: the workload image's home. Admin user and anonymous pull off: pulls use AcrPull.
        registry_sku = settings.registry.sku
        self.registry = containerregistry.Registry(
            f"{name}-registry",
            containerregistry.RegistryArgs(
                resource_group_name=args.resource_group_name,
                registry_name=names.container_registry,
                location=args.location,
                sku=containerregistry.SkuArgs(name=registry_sku),
                admin_user_enabled=False,
                anonymous_pull_enabled=False,
                zone_redundancy=(
                    containerregistry.ZoneRedundancy.ENABLED
                    if registry_sku == "Premium" and settings.zones
                    else containerregistry.ZoneRedundancy.DISABLED
                ),
                tags=args.tags,
            ),
            opts=child,
        )
        self.acr_pull = role_assignment(
            f"{name}-acr-pull",
            scope=self.registry.id,
            assignment=RoleAssignmentArgs(
                principal_id=self.kubelet_identity_object_id,
                role_definition_id=azure_ids.ACR_PULL,
                principal_type="ServicePrincipal",
                description="AKS kubelet pulls workload images.",
            ),
            subscription_id=args.subscription_id,
            opts=child,
        )
        self.extra_acr_pulls = [
            role_assignment(
                f"{name}-acr-pull-{index}",
                scope=registry_id,
                assignment=RoleAssignmentArgs(
                    principal_id=self.kubelet_identity_object_id,
                    role_definition_id=azure_ids.ACR_PULL,
                    principal_type="ServicePrincipal",
                    description="AKS kubelet pulls release images from a shared registry.",
                ),
                subscription_id=args.subscription_id,
                opts=child,
            )
            for index, registry_id in enumerate(settings.registry.pull_registry_ids)
        ]

        # Access for the pipeline: Entra ID + Azure RBAC, so the deployer needs a Kubernetes role in Azure.
        self.deployer_cluster_admin = role_assignment(
            f"{name}-deployer-admin",
            scope=cluster.id,
            assignment=RoleAssignmentArgs(
                principal_id=args.deployer_object_id,
                role_definition_id=azure_ids.AKS_RBAC_CLUSTER_ADMIN,
                principal_type=deployer_principal_type(settings.deployer_principal_type),
                description="The deploying principal manages Kubernetes objects through Pulumi.",
            ),
            subscription_id=args.subscription_id,
            opts=child,
        )
        self.extra_role_assignments = role_assignments(
            name,
            scope=cluster.id,
            assignments=args.role_assignments,
            subscription_id=args.subscription_id,
            opts=child,
        )
        self.lock = management_lock(f"{name}-lock", scope=cluster.id, level=args.lock, opts=child)

        # What every Kubernetes object waits for: the deployer's RBAC, propagated (else 403 on the first
        # object; components/propagation.py), and a pool for pods.
        self.rbac_propagated = propagation_wait(
            f"{name}-rbac-propagation",
            duration=AKS_RBAC_PROPAGATION,
            after=[self.deployer_cluster_admin],
            triggers={"deployerClusterAdmin": self.deployer_cluster_admin.id},
            parent=self,
        )
        self.kubernetes_ready = [self.rbac_propagated, self.user_pool]

        admin = settings.sandbox_local_accounts
        if admin:
            credentials: pulumi.Output[Any] = containerservice.list_managed_cluster_admin_credentials_output(
                resource_group_name=args.resource_group_name, resource_name=cluster.name
            )
        else:
            credentials = containerservice.list_managed_cluster_user_credentials_output(
                resource_group_name=args.resource_group_name, resource_name=cluster.name
            )
        kubeconfig = pulumi.Output.all(
            credentials, cluster.name, args.tenant_id, args.deployer_client_id
        ).apply(
            lambda values: _provider_kubeconfig(
                values[0], values[1], login_mode, values[2], values[3], admin=admin
            )
        )
        self.provider = k8s.Provider(
            f"{name}-k8s",
            k8s.ProviderArgs(
                kubeconfig=pulumi.Output.secret(kubeconfig),
                # A credential or login-mode change must not replace every Kubernetes object.
                cluster_identifier=cluster.id,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.kubernetes_ready),
        )

        self.cluster_name: pulumi.Output[str] = cluster.name
        self.cluster_id: pulumi.Output[str] = cluster.id
        self.oidc_issuer_url: pulumi.Output[str] = cluster.oidc_issuer_profile.apply(
            lambda profile: profile.issuer_url  # type: ignore[union-attr]
        )
        self.node_resource_group: pulumi.Output[str] = cluster.node_resource_group  # type: ignore[assignment]
        self.registry_login_server: pulumi.Output[str] = self.registry.login_server
        self.istio_revision: str = istio.active_revision
        self.kubelogin_mode: str = login_mode

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
