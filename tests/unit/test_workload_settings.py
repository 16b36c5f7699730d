"""`aks-grpc:workload` settings: defaults, per-model rules and the stack-wide workload rules."""

from typing import Any

import pytest

from components.settings import SettingsError, WorkloadSettings, image_problems, load_settings


def _load(workload: dict[str, Any], environment: str = "dev", **extra: Any) -> Any:
    return load_settings(
        {"environment": environment, "location": "westeurope", "workload": workload, **extra}
    )


def _problems(workload: dict[str, Any], environment: str = "dev", **extra: Any) -> list[str]:
    with pytest.raises(SettingsError) as error:
        _load(workload, environment, **extra)
    return error.value.problems


def test_seed_defaults_are_min_2_max_10_at_70_percent_cpu_with_an_hpa() -> None:
    autoscaling = WorkloadSettings().autoscaling
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
    assert WorkloadSettings().dapr.enabled is False
    assert WorkloadSettings().ingress.host is None


@pytest.mark.parametrize(
    "image",
    ["repo/app:latest", "repo/app", "registry:5000/app", "repo/app@sha256:abc", "repo/app:bad tag", ""],
)
def test_unpinned_images_are_rejected_naming_the_key(image: str) -> None:
    assert image_problems(image)
    problems = _problems({"image": image})
    assert any(p.startswith("aks-grpc:workload.image:") for p in problems), problems


@pytest.mark.parametrize(
    "image",
    ["mcr.microsoft.com/aks-grpc/greeter:0.1.0", "registry:5000/app:1.2", "repo/app@sha256:" + "0" * 64],
)
def test_tags_and_digests_are_accepted(image: str) -> None:
    assert _load({"image": image}).workload.image == image


def test_min_replicas_above_max_is_rejected() -> None:
    assert _problems({"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}) == [
        "aks-grpc:workload.autoscaling.minReplicas: 5 is above maxReplicas (3)"
    ]


def test_limits_below_requests_are_rejected() -> None:
    problems = _problems(
        {"resources": {"cpuRequest": "2", "cpuLimit": "500m", "memoryRequest": "1Gi", "memoryLimit": "512Mi"}}
    )
    assert sorted(problems) == [
        "aks-grpc:workload.resources.cpuLimit: 500m is below cpuRequest (2)",
        "aks-grpc:workload.resources.memoryLimit: 512Mi is below memoryRequest (1Gi)",
    ]


def test_prod_needs_two_pods_to_survive_a_drain() -> None:
    problems = _problems(
        {"autoscaling": {"minReplicas": 1}},
        environment="prod",
        apim={"sku": "Premium", "gateway": {"replicas": 2}},
    )
    expected = "prod needs at least 2 pods to stay up through a node drain"
    assert f"aks-grpc:workload.autoscaling.minReplicas: {expected}" in problems
    assert _load({"autoscaling": {"minReplicas": 1}}).workload.autoscaling.min_replicas == 1


def test_ingress_on_a_gateway_the_cluster_does_not_run_is_rejected() -> None:
    problems = _problems({"ingress": {"host": "grpc.example.com", "gateway": "internal"}})
    assert problems == [
        "aks-grpc:workload.ingress.gateway: internal needs cluster.istio.internalIngressGateway: true"
    ]
    enabled = _load(
        {"ingress": {"host": "grpc.example.com", "gateway": "internal"}},
        cluster={"istio": {"internalIngressGateway": True}},
    )
    assert enabled.workload.ingress.gateway == "internal"


def test_per_try_timeout_above_the_request_timeout_is_rejected() -> None:
    problems = _problems({"traffic": {"requestTimeoutSeconds": 5, "perTryTimeoutSeconds": 10}})
    assert problems == [
        "aks-grpc:workload.traffic.perTryTimeoutSeconds: 10s is above requestTimeoutSeconds (5s)"
    ]


def test_unknown_workload_keys_are_rejected_with_the_allowed_keys() -> None:
    (problem,) = _problems({"replicas": 3})
    assert problem.startswith("aks-grpc:workload.replicas: unknown key; allowed keys:")
    assert "autoscaling" in problem


def test_duplicate_secrets_are_rejected() -> None:
    assert _problems({"secrets": ["a", "a"]}) == ["aks-grpc:workload.secrets: lists a more than once"]


def test_image_reference_is_the_tag_or_the_digest() -> None:
    assert WorkloadSettings(image="r/a:1.2.3").image_reference == "1.2.3"
    assert WorkloadSettings(image="r/a@sha256:" + "1" * 64).image_reference == "sha256:" + "1" * 64
