"""The stack's cluster settings -> `AksClusterArgs` and `ClusterEgressArgs`.

The program side decides what a library user passes by hand: the Azure names (`StackNames`), who runs
the deployment (the client config, and the environment: the CI's kubelogin mode override and the
deployer's principal type), and what other areas ask of the cluster (KEDA, Dapr) as plain values.
"""

from collections.abc import Mapping

import pulumi

from components.aks import (
    AksClusterArgs,
    ClusterEgressArgs,
    ClusterMaintenanceWindowArgs,
    ClusterNetworkArgs,
    ClusterOutboundType,
    ClusterRegistryArgs,
    ClusterSkuTier,
    ClusterSupportPlan,
    ClusterUpgradeChannel,
    DaprExtensionArgs,
    IstioMeshArgs,
    MaintenanceDay,
    NodeOsDiskType,
    NodeOsUpgradeChannel,
    NodePoolArgs,
    RegistrySku,
)
from components.common import DiagnosticsArgs
from components.kubeconfig import LOGIN_MODES, KubeloginMode
from components.naming import StackNames
from program.adapters.deployer import deployer_principal_type
from program.settings import ClusterSettings, MaintenanceWindowSettings, NodePoolSettings

LOGIN_MODE_ENV = "AKS_GRPC_KUBELOGIN_MODE"
"""Environment variable that overrides `aks-grpc:cluster.kubeloginMode` (the CI workflows set it)."""


def effective_login_mode(configured: str, environ: Mapping[str, str]) -> KubeloginMode:
    """The login mode to use: `AKS_GRPC_KUBELOGIN_MODE` when set (non-empty), else the configured one."""
    override = environ.get(LOGIN_MODE_ENV, "").strip()
    mode = override or configured
    if mode not in LOGIN_MODES:
        source = f"environment variable {LOGIN_MODE_ENV}" if override else "aks-grpc:cluster.kubeloginMode"
        raise ValueError(
            f"{source}: unknown kubelogin login mode {mode!r}; allowed: {', '.join(LOGIN_MODES)}"
        )
    return KubeloginMode(mode)


def node_pool_args(pool: NodePoolSettings) -> NodePoolArgs:
    return NodePoolArgs(
        vm_size=pool.vm_size,
        min_count=pool.min_count,
        max_count=pool.max_count,
        max_pods=pool.max_pods,
        os_disk_type=NodeOsDiskType(pool.os_disk_type),
        os_disk_size_gb=pool.os_disk_size_gb,
        max_surge=pool.max_surge,
    )


def maintenance_window_args(window: MaintenanceWindowSettings) -> ClusterMaintenanceWindowArgs:
    return ClusterMaintenanceWindowArgs(
        day_of_week=MaintenanceDay(window.day_of_week),
        start_time=window.start_time,
        duration_hours=window.duration_hours,
        utc_offset=window.utc_offset,
        interval_weeks=window.interval_weeks,
    )


def egress_args(
    settings: ClusterSettings, names: StackNames, *, resource_group_name: pulumi.Input[str], location: str
) -> ClusterEgressArgs | None:
    """The stack-owned egress IP, for the `loadBalancer` outbound type only (None otherwise)."""
    if settings.network.outbound_type != "loadBalancer":
        return None
    return ClusterEgressArgs(
        public_ip_name=names.egress_public_ip,
        resource_group_name=resource_group_name,
        location=location,
        zones=list(settings.zones),
    )


def cluster_args(
    settings: ClusterSettings,
    names: StackNames,
    *,
    resource_group_name: pulumi.Input[str],
    location: str,
    subscription_id: pulumi.Input[str],
    tenant_id: pulumi.Input[str],
    deployer_object_id: pulumi.Input[str],
    deployer_client_id: pulumi.Input[str] | None,
    environ: Mapping[str, str],
    keda_enabled: bool = False,
    dapr: DaprExtensionArgs | None = None,
    outbound_public_ip_ids: list[pulumi.Input[str]] | None = None,
    log_analytics_workspace_id: pulumi.Input[str] | None = None,
    prometheus_rule_id: pulumi.Input[str] | None = None,
    container_insights_rule_id: pulumi.Input[str] | None = None,
    data_collection_endpoint_id: pulumi.Input[str] | None = None,
    diagnostics: pulumi.Input[str] | None = None,
) -> AksClusterArgs:
    """`AksClusterArgs` from the validated `aks-grpc:cluster` settings. `environ` (the program's
    `os.environ`) decides what the settings leave to the run: the kubelogin mode override and, for
    `deployerPrincipalType: auto`, whether a user or a service principal deploys
    (`program.adapters.deployer.deployer_principal_type`)."""
    istio = settings.istio
    return AksClusterArgs(
        cluster_name=names.aks,
        registry=ClusterRegistryArgs(
            name=names.container_registry,
            sku=RegistrySku(settings.registry.sku),
            pull_registry_ids=list(settings.registry.pull_registry_ids),
        ),
        resource_group_name=resource_group_name,
        location=location,
        subscription_id=subscription_id,
        tenant_id=tenant_id,
        deployer_object_id=deployer_object_id,
        deployer_client_id=deployer_client_id,
        deployer_principal_type=deployer_principal_type(settings.deployer_principal_type, environ),
        login_mode=effective_login_mode(settings.kubelogin_mode, environ),
        dns_prefix=names.aks_dns_prefix,
        node_resource_group_name=names.node_resource_group,
        identity_name=names.identity("aks"),
        system_pool_name=names.system_agent_pool,
        user_pool_name_prefix=names.user_agent_pool,
        prometheus_rule_association_name=names.prometheus_rule_association,
        kubernetes_version=settings.kubernetes_version,
        sku_tier=ClusterSkuTier(settings.sku_tier),
        support_plan=ClusterSupportPlan(settings.support_plan),
        zones=list(settings.zones),
        istio=IstioMeshArgs(
            revisions=list(istio.revisions),
            active_revision=istio.active_revision,
            external_ingress_gateway=istio.external_ingress_gateway,
            internal_ingress_gateway=istio.internal_ingress_gateway,
        ),
        admin_group_object_ids=list(settings.admin_group_object_ids),
        local_accounts=settings.sandbox_local_accounts,
        authorized_ip_ranges=list(settings.authorized_ip_ranges),
        private_cluster=settings.private_cluster,
        disable_run_command=settings.disable_run_command,
        upgrade_channel=ClusterUpgradeChannel(settings.upgrade_channel),
        node_os_upgrade_channel=NodeOsUpgradeChannel(settings.node_os_upgrade_channel),
        auto_upgrade_window=maintenance_window_args(settings.auto_upgrade_window),
        node_os_upgrade_window=maintenance_window_args(settings.node_os_upgrade_window),
        network=ClusterNetworkArgs(
            pod_cidr=settings.network.pod_cidr,
            service_cidr=settings.network.service_cidr,
            dns_service_ip=settings.network.dns_service_ip,
            outbound_type=ClusterOutboundType(settings.network.outbound_type),
        ),
        system_pool=node_pool_args(settings.system_pool),
        user_pool=node_pool_args(settings.user_pool),
        secret_rotation_poll_interval=settings.secret_rotation_poll_interval,
        image_cleaner_interval_hours=settings.image_cleaner_interval_hours,
        defender=settings.defender,
        outbound_public_ip_ids=list(outbound_public_ip_ids or []),
        log_analytics_workspace_id=log_analytics_workspace_id,
        prometheus_rule_id=prometheus_rule_id,
        container_insights_rule_id=container_insights_rule_id,
        data_collection_endpoint_id=data_collection_endpoint_id,
        keda_enabled=keda_enabled,
        dapr=dapr,
        diagnostics=DiagnosticsArgs(workspace_id=diagnostics) if diagnostics is not None else None,
    )
