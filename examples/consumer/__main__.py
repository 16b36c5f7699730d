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
    BackendCertificate,
    BackendCertificateArgs,
    ClusterEgress,
    ClusterEgressArgs,
    StackNames,
    WorkloadIdentity,
    WorkloadIdentityArgs,
)
from pulumi_azure_native import resources

LOCATION = "westeurope"
SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
OIDC_ISSUER_URL = "https://issuer.example/"
"""The cluster's OIDC issuer (from `AksCluster.oidc_issuer_url` once the cluster is built from Args)."""
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


@dataclass
class Service:
    identity: WorkloadIdentity
    certificate: BackendCertificate


def build_platform() -> Platform:
    """The cluster-level components.

    Of these only the egress IP takes plain Args today; `AksCluster` (and the cluster-level service
    platform) join here once their Args no longer take the stack settings, and `Platform` then carries
    the cluster's OIDC issuer, Kubernetes provider and vault instead of constants.
    """
    group = resources.ResourceGroup("rg", resource_group_name="rg-consumer", location=LOCATION)
    egress = ClusterEgress(
        "egress",
        ClusterEgressArgs(
            names=StackNames(
                workload="consumer", environment="dev", location=LOCATION, subscription_id=SUBSCRIPTION_ID
            ),
            resource_group_name=group.name,
            location=LOCATION,
            zones=["1", "2", "3"],
        ),
    )
    return Platform(
        resource_group_name=group.name, oidc_issuer_url=OIDC_ISSUER_URL, vault_name=VAULT_NAME, egress=egress
    )


def build_service(name: str, namespace: str, platform: Platform) -> Service:
    """One gRPC service: today its workload identity and backend TLS certificate (the parts with
    plain Args), later one `GrpcService` on the platform, which creates both itself."""
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
    for name, service in services.items():
        assert_type(service.identity.client_id, pulumi.Output[str])
        assert_type(service.certificate.ca_certificate_pem, pulumi.Output[str])
        pulumi.export(f"{name}ClientId", service.identity.client_id)
        pulumi.export(f"{name}CaCertificate", service.certificate.ca_certificate_pem)
    pulumi.export("egressIp", platform.egress.ip_address)


if __name__ == "__main__":
    main()
