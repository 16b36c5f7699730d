"""The package's Pulumi component provider: the components other languages can use.

`SCHEMA_COMPONENTS` is the one list of components whose Args and outputs Pulumi's component schema
analyzer (`pulumi.provider.experimental`) accepts: the provider hosts them, and
`python -m tools.component_schema --write` writes their schema to schema.json. Add a component here
once `python -m tools.component_schema` reports it as passing.

Started by `pulumi package add` through PulumiPlugin.yaml (`main: provider/__main__.py`, a checkout) or,
installed, with `python -m aks_grpc.provider`.
"""

import pulumi

from .aks import AksCluster, ClusterEgress
from .apim import GrpcApiGateway
from .apim_api import GrpcApi
from .apim_gateway import SelfHostedGateway
from .apim_instance import ApimInstance
from .apim_product import ApiProduct
from .backend_tls import BackendCertificate
from .grpc_service import GrpcService
from .identity import WorkloadIdentity
from .image import ServiceImage
from .keyvault import SecretStore
from .monitoring import ClusterMonitoring, Observability
from .node_pool import NodePool
from .service_platform import ServicePlatform

PACKAGE_NAME = "aksgrpc"
"""Pulumi package name: the first part of the components' type tokens (`aksgrpc:<module>:<Type>`)."""
PACKAGE_VERSION = "0.1.0"
"""The schema's version: pyproject.toml's (tests/program/test_component_schema.py checks they agree)."""

SCHEMA_COMPONENTS: list[type[pulumi.ComponentResource]] = [
    AksCluster,
    ApiProduct,
    ApimInstance,
    BackendCertificate,
    ClusterEgress,
    ClusterMonitoring,
    GrpcApi,
    GrpcApiGateway,
    GrpcService,
    NodePool,
    Observability,
    SecretStore,
    SelfHostedGateway,
    ServiceImage,
    ServicePlatform,
    WorkloadIdentity,
]


def main() -> None:
    """Serve the components to the Pulumi engine (arguments from the engine, on the command line)."""
    from pulumi.provider.experimental import component_provider_host

    component_provider_host(SCHEMA_COMPONENTS, name=PACKAGE_NAME, version=PACKAGE_VERSION)


if __name__ == "__main__":
    main()
