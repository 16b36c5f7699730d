"""A Pulumi program that uses the installed `aks_grpc` package from Args alone: a cluster and two services.

It imports nothing from this repository but `aks_grpc` (as another team's stack would after
`pip install aks-grpc`): no stack settings, no `StackNames` beyond what an Args field asks for, no
environment. tests/program/test_consumer.py installs the package into a fresh virtualenv, runs
`main()` under the mock engine and type-checks this file with mypy against the installed package.

The platform (`build_platform`) and each service (`build_service`) are one function each, so moving
to other components' Args changes those two functions and `SERVICES`, nothing else.
"""

from dataclasses import dataclass
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
    WorkloadIdentity,
    WorkloadIdentityArgs,
)
from pulumi_azure_native import resources

LOCATION = "westeurope"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
TENANT_ID = "11111111-1111-1111-1111-111111111111"
DEPLOYER_OBJECT_ID = "22222222-2222-2222-2222-222222222222"
"""The principal that runs `pulumi up` (it gets cluster-admin on the cluster it creates)."""
VAULT_NAME = "kv-consumer"
"""An existing Key Vault the services' certificates go to (a `SecretStore` of its own, later)."""

SERVICES = {"orders": "orders", "billing": "billing"}
"""Service name -> its Kubernetes namespace."""


@dataclass
class Platform:
    """What every service needs from the cluster-level part of the stack."""

    resource_group_name: pulumi.Output[str]
    oidc_issuer_url: pulumi.Input[str]
    vault_name: pulumi.Input[str]
    egress: ClusterEgress
    cluster: AksCluster


@dataclass
class Service:
    identity: WorkloadIdentity
    certificate: BackendCertificate


def build_platform() -> Platform:
    """The cluster-level components: the cluster's own egress IP and the cluster (Args defaults)."""
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
    return Platform(
        resource_group_name=group.name,
        oidc_issuer_url=cluster.oidc_issuer_url,
        vault_name=VAULT_NAME,
        egress=egress,
        cluster=cluster,
    )


def build_service(name: str, namespace: str, platform: Platform) -> Service:
    """One gRPC service: its workload identity and backend TLS certificate (the parts with plain Args
    today; one `GrpcService` on a cluster-level service platform creates both once it exists)."""
    identity = WorkloadIdentity(
        name,
        WorkloadIdentityArgs(
            resource_group_name=platform.resource_group_name,
            location=LOCATION,
            name=f"id-{name}",
            oidc_issuer_url=platform.oidc_issuer_url,
            namespace=namespace,
            service_account=f"{name}-api",
            subscription_id=SUBSCRIPTION_ID,
        ),
    )
    certificate = BackendCertificate(
        f"{name}-tls",
        BackendCertificateArgs(
            vault_name=platform.vault_name,
            resource_group_name=platform.resource_group_name,
            dns_names=[f"{name}.{namespace}.svc.cluster.local"],
            secret_name=f"{name}-tls",
        ),
    )
    return Service(identity=identity, certificate=certificate)


def main() -> None:
    platform = build_platform()
    services = {name: build_service(name, namespace, platform) for name, namespace in SERVICES.items()}
    # The package's real types reach the consumer (an `Any` here would fail the mypy check).
    assert_type(platform.egress.ip_address, pulumi.Output[str])
    assert_type(platform.cluster.oidc_issuer_url, pulumi.Output[str])
    for name, service in services.items():
        assert_type(service.identity.client_id, pulumi.Output[str])
        assert_type(service.certificate.ca_certificate_pem, pulumi.Output[str])
        pulumi.export(f"{name}ClientId", service.identity.client_id)
        pulumi.export(f"{name}CaCertificate", service.certificate.ca_certificate_pem)
    pulumi.export("egressIp", platform.egress.ip_address)
    pulumi.export("clusterName", platform.cluster.cluster_name)


if __name__ == "__main__":
    main()
