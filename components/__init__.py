"""aks-grpc components: Pulumi component resources for running gRPC services on Azure.

    from . import AksCluster, AksClusterArgs, GrpcService, GrpcServiceArgs

The classes load on first use, so `import components.settings` (or the policy pack) does not pay for
the Azure and Kubernetes SDKs, and a program imports only the azure-native submodules it needs.
"""

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "AksCluster": ".aks",
    "AksClusterArgs": ".aks",
    "Observability": ".monitoring",
    "ObservabilityArgs": ".monitoring",
    "ClusterMonitoring": ".monitoring",
    "ClusterMonitoringArgs": ".monitoring",
    "SecretStore": ".keyvault",
    "SecretStoreArgs": ".keyvault",
    "BackendCertificate": ".backend_tls",
    "BackendCertificateArgs": ".backend_tls",
    "WorkloadIdentity": ".identity",
    "WorkloadIdentityArgs": ".identity",
    "GrpcService": ".grpc_service",
    "GrpcServiceArgs": ".grpc_service",
    "ServicePlatform": ".service_platform",
    "ServicePlatformArgs": ".service_platform",
    "GrpcApiGateway": ".apim",
    "GrpcApiGatewayArgs": ".apim",
    "RoleAssignmentArgs": ".common",
    "StackNames": ".naming",
    "StackSettings": ".settings",
    "load_settings": ".settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def __dir__() -> list[str]:
    return __all__
