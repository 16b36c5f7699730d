"""`aks-grpc:services` settings: defaults, per-service rules, the stack-wide service rules and the
uniqueness rules across services."""

from typing import Any

import pytest

from components.manifests import ServicePortsArgs
from program.settings import GrpcServiceSettings, SettingsError, image_problems, load_settings

ORDERS_PROTO = "examples/protos/orders.proto"
"""A second service's own proto (orders.v1.Orders): two exposed services may not serve one gRPC service."""


def _load(workload: dict[str, Any], environment: str = "dev", **extra: Any) -> Any:
    return load_settings(
        {"environment": environment, "location": "westeurope", "services": {"greeter": workload}, **extra}
    )


def _problems(workload: dict[str, Any], environment: str = "dev", **extra: Any) -> list[str]:
    with pytest.raises(SettingsError) as error:
        _load(workload, environment, **extra)
    return error.value.problems


def test_seed_defaults_are_min_2_max_10_at_70_percent_cpu_with_an_hpa() -> None:
    autoscaling = _load({}).services["greeter"].autoscaling
    assert (
        autoscaling.mode,
        autoscaling.min_replicas,
        autoscaling.max_replicas,
        autoscaling.target_cpu_utilization,
    ) == (
        "cpu",
        2,
        10,
        70,
    )
    assert _load({}).services["greeter"].dapr.enabled is False
    assert _load({}).services["greeter"].ingress.host is None


@pytest.mark.parametrize(
    "image",
    ["repo/app:latest", "repo/app", "registry:5000/app", "repo/app@sha256:abc", "repo/app:bad tag", ""],
)
def test_unpinned_images_are_rejected_naming_the_key(image: str) -> None:
    assert image_problems(image)
    problems = _problems({"image": image})
    assert any(p.startswith("aks-grpc:services.greeter.image:") for p in problems), problems


@pytest.mark.parametrize(
    "image",
    ["mcr.microsoft.com/aks-grpc/greeter:0.1.0", "registry:5000/app:1.2", "repo/app@sha256:" + "0" * 64],
)
def test_tags_and_digests_are_accepted(image: str) -> None:
    assert _load({"image": image}).services["greeter"].image == image


def test_min_replicas_above_max_is_rejected() -> None:
    assert _problems({"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}) == [
        "aks-grpc:services.greeter.autoscaling.minReplicas: 5 is above maxReplicas (3)"
    ]


def test_limits_below_requests_are_rejected() -> None:
    problems = _problems(
        {"resources": {"cpuRequest": "2", "cpuLimit": "500m", "memoryRequest": "1Gi", "memoryLimit": "512Mi"}}
    )
    assert sorted(problems) == [
        "aks-grpc:services.greeter.resources.cpuLimit: 500m is below cpuRequest (2)",
        "aks-grpc:services.greeter.resources.memoryLimit: 512Mi is below memoryRequest (1Gi)",
    ]


def test_prod_needs_two_pods_to_survive_a_drain() -> None:
    problems = _problems(
        {"autoscaling": {"minReplicas": 1}},
        environment="prod",
        apim={"sku": "Premium", "gateway": {"replicas": 2}},
    )
    expected = "prod needs at least 2 pods to stay up through a node drain"
    assert f"aks-grpc:services.greeter.autoscaling.minReplicas: {expected}" in problems
    assert _load({"autoscaling": {"minReplicas": 1}}).services["greeter"].autoscaling.min_replicas == 1


def test_ingress_on_a_gateway_the_cluster_does_not_run_is_rejected() -> None:
    problems = _problems({"ingress": {"host": "grpc.example.com", "gateway": "internal"}})
    assert problems == [
        "aks-grpc:services.greeter.ingress.gateway: internal needs cluster.istio.internalIngressGateway: true"
    ]
    enabled = _load(
        {"ingress": {"host": "grpc.example.com", "gateway": "internal"}},
        cluster={"istio": {"internalIngressGateway": True}},
    )
    assert enabled.services["greeter"].ingress.gateway == "internal"


def test_per_try_timeout_above_the_request_timeout_is_rejected() -> None:
    problems = _problems({"traffic": {"requestTimeoutSeconds": 5, "perTryTimeoutSeconds": 10}})
    assert problems == [
        "aks-grpc:services.greeter.traffic.perTryTimeoutSeconds: 10s is above requestTimeoutSeconds (5s)"
    ]


def test_unknown_workload_keys_are_rejected_with_the_allowed_keys() -> None:
    (problem,) = _problems({"replicas": 3})
    assert problem.startswith("aks-grpc:services.greeter.replicas: unknown key; allowed keys:")
    assert "autoscaling" in problem


def test_duplicate_secrets_are_rejected() -> None:
    assert _problems({"secrets": ["a", "a"]}) == ["aks-grpc:services.greeter.secrets: lists a more than once"]


def test_image_reference_is_the_tag_or_the_digest() -> None:
    assert GrpcServiceSettings(namespace="grpc-greeter", image="r/a:1.2.3").image_reference == "1.2.3"
    assert (
        GrpcServiceSettings(namespace="grpc-greeter", image="r/a@sha256:" + "1" * 64).image_reference
        == "sha256:" + "1" * 64
    )


def _stack_problems(services: dict[str, Any], **extra: Any) -> list[str]:
    with pytest.raises(SettingsError) as error:
        load_settings({"environment": "dev", "location": "westeurope", "services": services, **extra})
    return error.value.problems


def test_a_stack_without_services_runs_the_greeter_in_grpc_greeter() -> None:
    services = load_settings({"environment": "dev", "location": "westeurope"}).services
    assert list(services) == ["greeter"]
    assert services["greeter"].namespace == "grpc-greeter"
    assert services["greeter"].proto == "service/protos/helloworld.proto"


def test_each_service_gets_its_own_default_namespace() -> None:
    services = _load({}, services={"greeter": {}, "orders": {"proto": ORDERS_PROTO}}).services
    assert {name: s.namespace for name, s in services.items()} == {
        "greeter": "grpc-greeter",
        "orders": "grpc-orders",
    }


def test_every_rule_is_checked_per_service_at_the_service_key() -> None:
    problems = _stack_problems(
        {
            "greeter": {},
            "orders": {"proto": ORDERS_PROTO, "autoscaling": {"minReplicas": 5, "maxReplicas": 3}},
        }
    )
    assert problems == ["aks-grpc:services.orders.autoscaling.minReplicas: 5 is above maxReplicas (3)"]


def test_two_services_in_one_namespace_are_refused() -> None:
    problems = _stack_problems(
        {"greeter": {}, "orders": {"proto": ORDERS_PROTO, "namespace": "grpc-greeter"}}
    )
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.orders.namespace"]
    assert "services.greeter.namespace" in problems[0]


def test_two_services_on_one_ingress_host_are_refused() -> None:
    problems = _stack_problems(
        {
            "greeter": {"ingress": {"host": "grpc.example.com"}},
            "orders": {"proto": ORDERS_PROTO, "ingress": {"host": "grpc.example.com"}},
        },
        cluster={"istio": {"externalIngressGateway": True}},
    )
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.orders.ingress.host"]


def test_a_grpc_api_path_is_refused_since_grpc_clients_cannot_add_one() -> None:
    problems = _problems({"apim": {"path": "orders"}})
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.greeter.apim.path"]
    assert "unreachable" in problems[0]


def test_two_exposed_services_with_the_same_grpc_service_are_refused_unless_one_is_not_exposed() -> None:
    problems = _stack_problems({"greeter": {}, "orders": {}})  # both serve helloworld.Greeter
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.orders.proto"]
    assert "helloworld.Greeter" in problems[0] and "services.greeter" in problems[0]
    _load({}, services={"greeter": {}, "orders": {"apim": {"exposed": False}}})
    _load({}, services={"greeter": {}, "orders": {}}, apim={"enabled": False})
    _load({}, services={"greeter": {}, "orders": {"proto": ORDERS_PROTO}})


def test_a_proto_that_is_not_there_or_declares_no_service_is_refused() -> None:
    problems = _problems({"proto": "protos/missing.proto"})
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.greeter.proto"]


def test_service_names_whose_derived_names_collide_are_refused() -> None:
    problems = _stack_problems({"greeter": {}, "greeter-service": {"apim": {"exposed": False}}})
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.greeter-service"]
    problems = _stack_problems({"keda-operator": {}})
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.keda-operator"]


def test_a_service_name_must_be_a_service_name() -> None:
    problems = _stack_problems({"9orders": {}})
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.9orders"]


def test_no_services_at_all_is_refused() -> None:
    assert [p.partition(": ")[0] for p in _stack_problems({})] == ["aks-grpc:services"]


def test_rate_limit_window_is_bounded_like_the_policy_per_service() -> None:
    (problem,) = _problems({"apim": {"rateLimit": {"renewalPeriodSeconds": 301}}})
    assert problem.startswith("aks-grpc:services.greeter.apim.rateLimit.renewalPeriodSeconds:")
    (problem,) = _problems({}, apim={"rateLimit": {"calls": 1}})
    assert problem.startswith("aks-grpc:apim.rateLimit: unknown key")  # moved to services.<name>.apim


def test_ports_default_to_the_library_defaults_and_are_configurable() -> None:
    ports = _load({}).services["greeter"].ports
    defaults = ServicePortsArgs()
    assert (ports.grpc, ports.tls, ports.metrics) == (defaults.grpc, defaults.tls, defaults.metrics)
    custom = _load({"ports": {"grpc": 8080, "tls": 8443, "metrics": 9100}}).services["greeter"].ports
    assert (custom.grpc, custom.tls, custom.metrics) == (8080, 8443, 9100)


@pytest.mark.parametrize(
    ("ports", "key", "words"),
    [
        ({"grpc": 80}, "grpc", "80 is not in 1024-65535"),
        ({"tls": 70000}, "tls", "70000 is not in 1024-65535"),
        ({"metrics": 15020}, "metrics", "15020 is in 15000-15090"),
        ({"metrics": 50443}, "metrics", "50443 is also ports.tls"),
    ],
)
def test_refused_ports_are_reported_under_their_full_key(ports: dict[str, int], key: str, words: str) -> None:
    (problem,) = _problems({"ports": ports})
    assert problem.startswith(f"aks-grpc:services.greeter.ports.{key}: {words}"), problem


def test_refused_ports_of_a_second_service_name_that_service() -> None:
    problems = _stack_problems({"greeter": {}, "orders": {"proto": ORDERS_PROTO, "ports": {"tls": 50051}}})
    assert [p.partition(": ")[0] for p in problems] == ["aks-grpc:services.orders.ports.tls"]


def test_unknown_port_keys_are_refused() -> None:
    (problem,) = _problems({"ports": {"http": 8080}})
    assert problem.startswith("aks-grpc:services.greeter.ports")
