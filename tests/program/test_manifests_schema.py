"""Every Kubernetes object of the dev and prod plans (and of examples/two-services.yaml) passes the API server's strict validation.

Core kinds: `kubernetes_validate` (the official OpenAPI schemas) in strict mode, for the cluster's
Kubernetes minor (or the nearest one this kubernetes-validate release ships, see docs/workload.md).
Custom resources: the upstream CRD schemas vendored in tests/schemas/crds with unknown fields made errors
(`additionalProperties: false` wherever the CRD does not say otherwise), as the API server does under
strict field validation. A typo in any field name fails here.
"""

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from kubernetes_validate.utils import all_versions

from components.grpc_service import GrpcService
from components.naming import StackNames
from components.service_platform import ServicePlatform
from program.adapters.services import ServiceAzureContext, platform_args, service_args
from program.settings import DEFAULT_KUBERNETES_VERSION, load_settings
from tests.k8s_schemas import problems_of, schema_version
from tools.mock_engine import Plan

REPO_ROOT = Path(__file__).resolve().parents[2]


def objects_of(plan: Plan) -> Iterator[dict[str, Any]]:
    yield from plan.kubernetes_objects()


@pytest.mark.parametrize("stack", ["dev", "prod", "two-services"])
def test_every_kubernetes_object_of_the_stack_passes_strict_schema_validation(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    plan = stack_plan(stack)
    settings = load_settings(_stack_config(stack))
    version = schema_version(settings.cluster.kubernetes_minor)
    objects = list(objects_of(plan))
    assert objects, "the plan renders no Kubernetes objects"
    problems = [p for obj in objects for p in problems_of(obj, version)]
    assert problems == []


def _stack_config(stack: str) -> dict[str, Any]:
    from program.settings import config_from_stack_file
    from tests.conftest import EXAMPLE_STACKS
    from tools.offline_plan import STACKS_DIR, read_stack_config

    stack_file = EXAMPLE_STACKS[stack][1] if stack in EXAMPLE_STACKS else STACKS_DIR / f"Pulumi.{stack}.yaml"
    return config_from_stack_file(read_stack_config(stack_file)[0])


FULL_WORKLOAD = {
    "autoscaling": {"mode": "keda"},
    "ingress": {"host": "grpc.example.com", "gateway": "external"},
    "dapr": {"enabled": True},
    "secrets": ["extra-secret"],
}


def build_full_workload(workload: dict[str, Any]) -> Callable[[], None]:
    """A program with only the ServicePlatform and one GrpcService, every optional part on."""

    def program() -> None:
        workload_with_image = {"image": "crgrpcdevweu.azurecr.io/grpc-greeter:0.1.0", **workload}
        settings = load_settings(
            {
                "environment": "dev",
                "location": "westeurope",
                "services": {"greeter": workload_with_image},
                "cluster": {"istio": {"externalIngressGateway": True}},
            }
        )
        names = StackNames("grpc", "dev", "westeurope", "00000000-0000-4000-8000-000000000001")
        provider = k8s.Provider("k8s", kubeconfig="{}")
        platform = ServicePlatform(
            "platform",
            platform_args(
                settings,
                names,
                resource_group_name="rg-grpc-dev-weu",
                subscription_id="00000000-0000-4000-8000-000000000001",
                oidc_issuer_url="https://westeurope.oic.prod-aks.azure.com/tenant/issuer/",
                monitor_workspace_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.Monitor/accounts/amw",
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        azure = ServiceAzureContext(
            resource_group_name="rg-grpc-dev-weu",
            location="westeurope",
            subscription_id="00000000-0000-4000-8000-000000000001",
            tenant_id="00000000-0000-4000-8000-000000000002",
            oidc_issuer_url="https://westeurope.oic.prod-aks.azure.com/tenant/issuer/",
            vault_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-grpc",
            vault_name="kv-grpc",
            istio_revision="asm-1-28",
            app_insights_secret_name="appinsights-connection-string",
            prometheus_query_endpoint="https://amw.westeurope.prometheus.monitor.azure.com",
            keda_client_id=platform.keda_client_id,
            key_vault_secrets_provider_client_id="00000000-0000-4000-8000-0000000000a1",
            key_vault_secrets_provider_object_id="00000000-0000-4000-8000-0000000000a2",
        )
        service = settings.services["greeter"]
        GrpcService(
            "greeter",
            service_args(
                "greeter", service, settings, names, azure, image=None, image_version="", tls_secret_name=""
            ),
            opts=pulumi.ResourceOptions(providers=[provider], depends_on=[platform]),
        )

    return program


@pytest.mark.parametrize("mode", ["cpu", "keda"])
def test_every_optional_workload_object_passes_strict_schema_validation(
    mode: str, run_mocked: Callable[..., Plan]
) -> None:
    plan = run_mocked(build_full_workload({**FULL_WORKLOAD, "autoscaling": {"mode": mode}}))
    objects = list(objects_of(plan))
    kinds = {o["kind"] for o in objects}
    assert {"Gateway", "Telemetry", "Configuration", "PodMonitor", "SecretProviderClass"} <= kinds
    assert ("ScaledObject" in kinds) == (mode == "keda")
    problems = [p for obj in objects for p in problems_of(obj, schema_version(DEFAULT_KUBERNETES_VERSION))]
    assert problems == []


def test_a_misspelled_field_fails_schema_validation() -> None:
    good = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "x", "namespace": "n"},
        "spec": {"host": "x", "trafficPolicy": {"loadBalancer": {"simple": "LEAST_REQUEST"}}},
    }
    assert problems_of(good, "1.34") == []
    bad = copy.deepcopy(good)
    bad["spec"]["trafficPolicy"]["loadBalancers"] = bad["spec"]["trafficPolicy"].pop("loadBalancer")
    assert problems_of(bad, "1.34")
    core_bad = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"port": []}}
    assert problems_of(core_bad, "1.34")


def test_schema_version_is_the_cluster_minor_or_the_nearest_shipped() -> None:
    assert schema_version("1.35") == "1.35"
    assert schema_version(DEFAULT_KUBERNETES_VERSION) in {v.rsplit(".", 1)[0] for v in all_versions()}
