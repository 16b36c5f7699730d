"""aks-grpc components: Pulumi component resources for running gRPC services on Azure.

    from components import AksCluster, AksClusterArgs, GrpcWorkload, GrpcWorkloadArgs

The classes load on first use, so `import components.settings` (or the policy pack) does not pay for
the Azure and Kubernetes SDKs, and a program imports only the azure-native submodules it needs.
"""

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "AksCluster": "components.aks",
    "AksClusterArgs": "components.aks",
    "Observability": "components.monitoring",
    "ObservabilityArgs": "components.monitoring",
    "ClusterMonitoring": "components.monitoring",
    "ClusterMonitoringArgs": "components.monitoring",
    "SecretStore": "components.keyvault",
    "SecretStoreArgs": "components.keyvault",
    "BackendCertificate": "components.backend_tls",
    "BackendCertificateArgs": "components.backend_tls",
    "WorkloadIdentity": "components.identity",
    "WorkloadIdentityArgs": "components.identity",
    "GrpcWorkload": "components.workload",
    "GrpcWorkloadArgs": "components.workload",
    "GrpcApiGateway": "components.apim",
    "GrpcApiGatewayArgs": "components.apim",
    "RoleAssignmentArgs": "components.common",
    "StackNames": "components.naming",
    "StackSettings": "components.settings",
    "load_settings": "components.settings",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'components' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
