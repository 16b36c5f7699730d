"""aks-grpc components: Pulumi component resources for running gRPC services on Azure.

Installed with `pip install` (distribution `aks-grpc`) this folder is the package `aks_grpc`:

    from aks_grpc import WorkloadIdentity, WorkloadIdentityArgs

Every public name is imported here for real (no lazy `__getattr__`), so a type checker sees the
classes themselves; `py.typed` beside this file marks the package as typed (PEP 561). The price is
that importing any submodule (e.g. the stack's settings) also imports the Azure and Kubernetes SDK
modules the components use (docs/decisions.md, "One package, two names").
"""

from .aks import (
    AksCluster,
    AksClusterArgs,
    ClusterEgress,
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
    NodeOsUpgradeChannel,
    RegistrySku,
)
from .apim import GrpcApiGateway, GrpcApiGatewayArgs
from .apim_api import GrpcApi, GrpcApiArgs
from .apim_gateway import SelfHostedGateway, SelfHostedGatewayArgs
from .apim_instance import ApimInstance, ApimInstanceArgs, ApimSku
from .apim_product import ApiProduct, ApiProductArgs
from .backend_tls import BackendCertificate, BackendCertificateArgs
from .common import DiagnosticsArgs, LockLevel, PrincipalType, RoleAssignmentArgs
from .grpc_service import (
    GrpcService,
    GrpcServiceArgs,
    IngressGatewayKind,
    PodSecurityLevel,
    ServiceIngressArgs,
    ZoneSpread,
)
from .identity import FederatedServiceAccountArgs, IdentityRoleArgs, WorkloadIdentity, WorkloadIdentityArgs
from .image import ServiceImage, ServiceImageArgs
from .keyvault import KeyVaultSku, PrivateEndpointArgs, SecretStore, SecretStoreArgs, VaultCreateMode
from .kubeconfig import KubeloginMode
from .manifests import (
    AutoscalerKind,
    AutoscalingPolicy,
    ContainerResources,
    ServerTuning,
    ServicePortsArgs,
    ShutdownPolicy,
    TrafficPolicy,
)
from .monitoring import (
    AlertThresholdsArgs,
    ClusterMonitoring,
    ClusterMonitoringArgs,
    ContainerInsightsArgs,
    GrafanaArgs,
    GrafanaSku,
    Observability,
    ObservabilityArgs,
)
from .monitoring_rules import LogAnalyticsSku, NamespaceFilteringMode
from .naming import StackNames
from .node_pool import NodeOsDiskType, NodePool, NodePoolArgs, NodePoolComponentArgs
from .service_platform import ServicePlatform, ServicePlatformArgs

__all__ = [
    "AksCluster",
    "AksClusterArgs",
    "AlertThresholdsArgs",
    "ApiProduct",
    "ApiProductArgs",
    "ApimInstance",
    "ApimInstanceArgs",
    "ApimSku",
    "AutoscalerKind",
    "AutoscalingPolicy",
    "BackendCertificate",
    "BackendCertificateArgs",
    "ClusterEgress",
    "ClusterEgressArgs",
    "ClusterMaintenanceWindowArgs",
    "ClusterMonitoring",
    "ClusterMonitoringArgs",
    "ClusterNetworkArgs",
    "ClusterOutboundType",
    "ClusterRegistryArgs",
    "ClusterSkuTier",
    "ClusterSupportPlan",
    "ClusterUpgradeChannel",
    "ContainerInsightsArgs",
    "ContainerResources",
    "DaprExtensionArgs",
    "DiagnosticsArgs",
    "FederatedServiceAccountArgs",
    "GrafanaArgs",
    "GrafanaSku",
    "GrpcApi",
    "GrpcApiArgs",
    "GrpcApiGateway",
    "GrpcApiGatewayArgs",
    "GrpcService",
    "GrpcServiceArgs",
    "IdentityRoleArgs",
    "IngressGatewayKind",
    "IstioMeshArgs",
    "KeyVaultSku",
    "KubeloginMode",
    "LockLevel",
    "LogAnalyticsSku",
    "MaintenanceDay",
    "NamespaceFilteringMode",
    "NodeOsDiskType",
    "NodeOsUpgradeChannel",
    "NodePool",
    "NodePoolArgs",
    "NodePoolComponentArgs",
    "Observability",
    "ObservabilityArgs",
    "PodSecurityLevel",
    "PrincipalType",
    "PrivateEndpointArgs",
    "RegistrySku",
    "RoleAssignmentArgs",
    "SecretStore",
    "SecretStoreArgs",
    "SelfHostedGateway",
    "SelfHostedGatewayArgs",
    "ServerTuning",
    "ServiceImage",
    "ServiceImageArgs",
    "ServiceIngressArgs",
    "ServicePlatform",
    "ServicePlatformArgs",
    "ServicePortsArgs",
    "ShutdownPolicy",
    "StackNames",
    "TrafficPolicy",
    "VaultCreateMode",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
    "ZoneSpread",
]
