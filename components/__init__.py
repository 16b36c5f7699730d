"""aks-grpc components: Pulumi component resources for running gRPC services on Azure.

Installed with `pip install` (distribution `aks-grpc`) this folder is the package `aks_grpc`:

    from aks_grpc import WorkloadIdentity, WorkloadIdentityArgs

Every public name is imported here for real (no lazy `__getattr__`), so a type checker sees the
classes themselves; `py.typed` beside this file marks the package as typed (PEP 561). The price is
that importing any submodule (e.g. the stack's settings) also imports the Azure and Kubernetes SDK
modules the components use (docs/decisions.md, "One package, two names").
"""

from .aks import AksCluster, AksClusterArgs, ClusterEgress, ClusterEgressArgs
from .apim import GrpcApiGateway, GrpcApiGatewayArgs
from .backend_tls import BackendCertificate, BackendCertificateArgs
from .common import RoleAssignmentArgs
from .identity import (
    FederatedServiceAccountArgs,
    IdentityRoleArgs,
    WorkloadIdentity,
    WorkloadIdentityArgs,
)
from .image import ServiceImage, ServiceImageArgs
from .keyvault import SecretStore, SecretStoreArgs
from .monitoring import ClusterMonitoring, ClusterMonitoringArgs, Observability, ObservabilityArgs
from .naming import StackNames
from .workload import GrpcWorkload, GrpcWorkloadArgs

__all__ = [
    "AksCluster",
    "AksClusterArgs",
    "BackendCertificate",
    "BackendCertificateArgs",
    "ClusterEgress",
    "ClusterEgressArgs",
    "ClusterMonitoring",
    "ClusterMonitoringArgs",
    "FederatedServiceAccountArgs",
    "GrpcApiGateway",
    "GrpcApiGatewayArgs",
    "GrpcWorkload",
    "GrpcWorkloadArgs",
    "IdentityRoleArgs",
    "Observability",
    "ObservabilityArgs",
    "RoleAssignmentArgs",
    "SecretStore",
    "SecretStoreArgs",
    "ServiceImage",
    "ServiceImageArgs",
    "StackNames",
    "WorkloadIdentity",
    "WorkloadIdentityArgs",
]
