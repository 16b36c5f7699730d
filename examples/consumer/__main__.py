"""A Pulumi program that uses the installed `aks_grpc` package from Args alone: a cluster, the
cluster-wide service platform and two gRPC services.

It imports nothing from this repository but `aks_grpc` (as another team's stack would after
`pip install aks-grpc`): no stack settings, no `StackNames` beyond what an Args field asks for, no
environment. tests/program/test_consumer.py installs the package into a fresh virtualenv, runs
`main()` under the mock engine and type-checks this file with mypy against the installed package.

The cluster part (`build_platform`) and each service (`build_service`) are one function each, so moving
to other components' Args changes those two functions and `SERVICES`, nothing else. The Kubernetes
provider (`AksCluster.provider`) and what the Kubernetes objects wait for travel in
`pulumi.ResourceOptions`, never in Args.
"""

from dataclasses import dataclass, field
from typing import assert_type

import pulumi
from aks_grpc import (
    AksCluster,
    AksClusterArgs,
    BackendCertificate,
    BackendCertificateArgs,
    ClusterEgress,
    ClusterEgressArgs,
    ClusterRegistryArgs,
    GrpcService,
    GrpcServiceArgs,
    ServicePlatform,
    ServicePlatformArgs,
)
from aks_grpc.apim_rules import proto_services
from aks_grpc.naming import backend_tls_secret_name
from pulumi_azure_native import resources

LOCATION = "westeurope"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
DEPLOYER_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
"""The principal that runs `pulumi up` (it gets cluster-admin on the cluster it creates)."""
VAULT_NAME = "kv-consumer"
"""An existing Key Vault the services' certificates go to and their pods read from."""
VAULT_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-consumer/providers/Microsoft.KeyVault/vaults/{VAULT_NAME}"
"""Its resource id: the only scope of each service identity's "Key Vault Secrets User"."""

ORDERS_PROTO = """
syntax = "proto3";
package shop.orders.v1;
service Orders { rpc Place (PlaceRequest) returns (PlaceReply); }
message PlaceRequest { string item = 1; }
message PlaceReply { string id = 1; }
"""


@dataclass
class ServiceSpec:
    """One service of this consumer: where it runs and what it serves."""

    namespace: str
    image: str
    grpc_services: list[str] = field(default_factory=list)
    """Fully qualified gRPC services (from the .proto text, or named directly)."""


SERVICES = {
    "orders": ServiceSpec(
        namespace="shop-orders",
        image="acrconsumer.azurecr.io/orders:1.4.0",
        grpc_services=proto_services(ORDERS_PROTO),
    ),
    "billing": ServiceSpec(
        namespace="shop-billing",
        image="acrconsumer.azurecr.io/billing:2.0.1",
        grpc_services=["shop.billing.v1.Billing"],
    ),
}
"""Service name -> its namespace, image and gRPC services."""


@dataclass
class Platform:
    """What every service needs from the cluster-level part of the stack."""

    resource_group_name: pulumi.Output[str]
    vault_name: pulumi.Input[str]
    egress: ClusterEgress
    cluster: AksCluster
    services: ServicePlatform


@dataclass
class Service:
    certificate: BackendCertificate
    service: GrpcService


def build_platform() -> Platform:
    """The cluster-level components: the cluster's own egress IP, the cluster (Args defaults) and the
    objects every service shares (mesh access logs), once."""
    group = resources.ResourceGroup("rg", resource_group_name="rg-consumer", location=LOCATION)
    egress = ClusterEgress(
        "egress",
        ClusterEgressArgs(
            public_ip_name="pip-consumer-egress",
            resource_group_name=group.name,
            location=LOCATION,
            zones=["1", "2", "3"],
        ),
    )
    cluster = AksCluster(
        "aks",
        AksClusterArgs(
            cluster_name="aks-consumer",
            registry=ClusterRegistryArgs(name="acrconsumer"),
            resource_group_name=group.name,
            location=LOCATION,
            subscription_id=SUBSCRIPTION_ID,
            tenant_id=TENANT_ID,
            deployer_object_id=DEPLOYER_OBJECT_ID,
            outbound_public_ip_ids=[egress.public_ip_id],
        ),
    )
    service_platform = ServicePlatform(
        "platform",
        ServicePlatformArgs(access_logging=True),
        opts=pulumi.ResourceOptions(providers=[cluster.provider], depends_on=cluster.kubernetes_ready),
    )
    return Platform(
        resource_group_name=group.name,
        vault_name=VAULT_NAME,
        egress=egress,
        cluster=cluster,
        services=service_platform,
    )


def build_service(name: str, spec: ServiceSpec, platform: Platform) -> Service:
    """One gRPC service: its backend TLS certificate, then the `GrpcService` (namespace, identity,
    Deployment, mesh objects...) on the cluster's Kubernetes provider."""
    tls_secret_name = backend_tls_secret_name(name)
    certificate = BackendCertificate(
        f"{name}-tls",
        BackendCertificateArgs(
            vault_name=platform.vault_name,
            resource_group_name=platform.resource_group_name,
            dns_names=[f"{name}.{spec.namespace}.svc.cluster.local"],
            secret_name=tls_secret_name,
        ),
    )
    cluster = platform.cluster
    service = GrpcService(
        name,
        GrpcServiceArgs(
            service_name=name,
            namespace=spec.namespace,
            image=spec.image,
            image_version=spec.image.rsplit(":", 1)[-1],
            grpc_services=list(spec.grpc_services),
            resource_group_name=platform.resource_group_name,
            location=LOCATION,
            subscription_id=SUBSCRIPTION_ID,
            tenant_id=TENANT_ID,
            oidc_issuer_url=cluster.oidc_issuer_url,
            vault_id=VAULT_ID,
            vault_name=platform.vault_name,
            istio_revision=cluster.istio_revision,
            identity_name=f"id-{name}",
            tls_secret_name=certificate.secret_name,
        ),
        opts=pulumi.ResourceOptions(
            providers=[cluster.provider],
            depends_on=[*cluster.kubernetes_ready, certificate, platform.services],
        ),
    )
    return Service(certificate=certificate, service=service)


def main() -> None:
    platform = build_platform()
    services = {name: build_service(name, spec, platform) for name, spec in SERVICES.items()}
    # The package's real types reach the consumer (an `Any` here would fail the mypy check).
    assert_type(platform.egress.ip_address, pulumi.Output[str])
    assert_type(platform.cluster.oidc_issuer_url, pulumi.Output[str])
    for name, built in services.items():
        assert_type(built.service.identity.client_id, pulumi.Output[str])
        assert_type(built.service.service_host, str)
        assert_type(built.certificate.ca_certificate_pem, pulumi.Output[str])
        pulumi.export(f"{name}ClientId", built.service.identity.client_id)
        pulumi.export(f"{name}Host", built.service.service_host)
        pulumi.export(f"{name}CaCertificate", built.certificate.ca_certificate_pem)
    pulumi.export("egressIp", platform.egress.ip_address)
    pulumi.export("clusterName", platform.cluster.cluster_name)


if __name__ == "__main__":
    main()
