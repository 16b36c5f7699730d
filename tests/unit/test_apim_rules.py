"""The API Management validity rules (components/apim_rules.py), called with plain values."""

import pytest

from components.apim_rules import (
    GATEWAY_DEFAULT_IMAGE,
    proto_services,
    validate_api_host,
    validate_apim_capacity,
    validate_apim_sku,
    validate_backend,
    validate_gateway_cpu,
    validate_gateway_image,
    validate_gateway_memory,
    validate_gateway_replicas,
    validate_grpc_api_list,
    validate_grpc_api_name,
    validate_grpc_api_path,
    validate_grpc_api_proto,
    validate_kubernetes_name,
    validate_rate_limit,
)
from tests.conftest import REPO_ROOT

PROTO = (REPO_ROOT / "service" / "protos" / "helloworld.proto").read_text(encoding="utf-8")
ORDERS = 'syntax = "proto3";\npackage orders.v1;\nservice Orders {\n  rpc Place (A) returns (B) {}\n}\n'


@pytest.mark.parametrize("sku", ["Developer", "Premium"])
def test_tiers_with_a_self_hosted_gateway_pass(sku):
    validate_apim_sku(sku)


@pytest.mark.parametrize(
    ("sku", "detail"),
    [
        ("Consumption", "no self-hosted gateway"),
        ("StandardV2", "v2 tiers"),
        ("Isolated", "retired"),
        ("Gold", "is not an API Management tier"),
    ],
)
def test_other_tiers_are_refused_with_the_reason(sku, detail):
    with pytest.raises(ValueError, match=f"^sku: .*{detail}.*use Developer or Premium"):
        validate_apim_sku(sku)


def test_developer_has_exactly_one_unit_and_premium_up_to_twelve():
    validate_apim_capacity("Developer", 1)
    validate_apim_capacity("Premium", 12)
    with pytest.raises(ValueError, match=r"^capacity: Developer has exactly 1 unit"):
        validate_apim_capacity("Developer", 2)
    with pytest.raises(ValueError, match=r"^capacity:"):
        validate_apim_capacity("Premium", 13)


@pytest.mark.parametrize(("sku", "replicas"), [("Developer", 1), ("Premium", 2), ("Premium", 5)])
def test_gateway_replicas_allowed_per_tier(sku, replicas):
    validate_gateway_replicas(sku, replicas)


@pytest.mark.parametrize(("sku", "replicas"), [("Developer", 2), ("Developer", 0), ("Premium", 1)])
def test_gateway_replicas_refused_per_tier(sku, replicas):
    with pytest.raises(ValueError, match=r"^replicas:"):
        validate_gateway_replicas(sku, replicas)


def test_the_default_gateway_image_passes_and_floating_or_old_or_foreign_images_do_not():
    validate_gateway_image(GATEWAY_DEFAULT_IMAGE)
    validate_gateway_image("mcr.microsoft.com/azure-api-management/gateway:2.11.0")
    for image, detail in [
        ("mcr.microsoft.com/azure-api-management/gateway:v2", "exact version"),
        ("mcr.microsoft.com/azure-api-management/gateway:2.10.9", "older than 2.11.0"),
        ("docker.io/x/gateway:2.12.1", "must be mcr.microsoft.com"),
    ]:
        with pytest.raises(ValueError, match=f"^image: .*{detail}"):
            validate_gateway_image(image)


def test_requests_may_not_exceed_limits():
    validate_gateway_cpu("500m", "2")
    validate_gateway_cpu("2", "2000m")
    validate_gateway_memory("512Mi", "2Gi")
    with pytest.raises(ValueError, match=r"^cpu_limit: 2 is below the CPU request"):
        validate_gateway_cpu("2500m", "2")
    with pytest.raises(ValueError, match=r"^memory_limit: 1Gi is below the memory request"):
        validate_gateway_memory("2Gi", "1Gi")
    with pytest.raises(ValueError, match=r"^cpu_request:"):
        validate_gateway_cpu("lots", "2")


def test_grpc_api_path_must_be_empty():
    validate_grpc_api_path("")
    for path in ["greeter", "/", "helloworld.Greeter"]:
        with pytest.raises(ValueError, match=r"^path: .*must be empty"):
            validate_grpc_api_path(path)


def test_proto_must_define_a_service():
    validate_grpc_api_proto(PROTO)
    assert proto_services(PROTO) == ["helloworld.Greeter"]
    assert proto_services(ORDERS) == ["orders.v1.Orders"]
    with pytest.raises(ValueError, match=r"^proto:"):
        validate_grpc_api_proto('syntax = "proto3";\nmessage A {}\n')


@pytest.mark.parametrize("name", ["Greeter", "9lives", "a-", "", "a" * 64, "a_b"])
def test_api_names_must_be_portable_ids(name):
    with pytest.raises(ValueError, match=r"^name:"):
        validate_grpc_api_name(name)


def test_rate_limit_window_and_calls():
    validate_rate_limit(1, 300)
    with pytest.raises(ValueError, match=r"^rate_limit.calls:"):
        validate_rate_limit(0, 60)
    with pytest.raises(ValueError, match=r"^rate_limit.renewal_period_seconds:"):
        validate_rate_limit(10, 301)


def test_backend_is_a_bare_host_and_a_port():
    validate_backend("greeter.grpc-greeter.svc.cluster.local", 50443)
    with pytest.raises(ValueError, match=r"^backend_port:"):
        validate_backend("greeter", 70000)
    with pytest.raises(ValueError, match=r"^backend_host:"):
        validate_backend("greeter:50443", 50443)


def test_api_host_and_its_certificate_come_together():
    validate_api_host(None, None)
    validate_api_host("grpc.example.com", "grpc-example-com")
    with pytest.raises(ValueError, match=r"^api_host_certificate_id: is required with apiHost"):
        validate_api_host("grpc.example.com", None)
    with pytest.raises(ValueError, match=r"^api_host_certificate_id: is only used with apiHost"):
        validate_api_host(None, "cert")


def test_kubernetes_names_are_rfc_1123_labels():
    validate_kubernetes_name("namespace", "apim-gateway")
    with pytest.raises(ValueError, match=r"^namespace:"):
        validate_kubernetes_name("namespace", "APIM")


def apis(**changes):
    values = {
        "names": ["greeter", "orders"],
        "paths": ["", ""],
        "protos": [PROTO, ORDERS],
        "products": ["grpc", "grpc"],
        "known_products": ["grpc"],
    }
    return {**values, **changes}


def test_two_apis_with_their_own_services_pass():
    validate_grpc_api_list(**apis())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"names": ["greeter", "greeter"]}, "API name greeter is used more than once"),
        ({"paths": ["grpc", "grpc"]}, "API path grpc is used more than once"),
        ({"protos": [PROTO, PROTO]}, "gRPC service helloworld.Greeter is defined by more than one API"),
        ({"products": ["grpc", "partners"]}, "product partners is not one of the products"),
        ({"names": [], "paths": [], "protos": [], "products": []}, "give at least one gRPC API"),
    ],
)
def test_a_list_of_apis_one_instance_cannot_serve_is_refused(changes, message):
    with pytest.raises(ValueError, match=f"^apis: {message}"):
        validate_grpc_api_list(**apis(**changes))


def test_products_are_declared_once():
    with pytest.raises(ValueError, match=r"^products: product id grpc is declared more than once"):
        validate_grpc_api_list(**apis(known_products=["grpc", "grpc"]))
