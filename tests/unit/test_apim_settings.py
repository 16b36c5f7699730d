"""`aks-grpc:apim` settings: tiers without a self-hosted gateway are rejected with the reason."""

import pytest

from components.apim_rules import APIM_REJECTED_SKUS, GATEWAY_DEFAULT_VERSION
from program.settings import ApimSettings, SettingsError, load_settings

BASE = {"environment": "dev", "location": "westeurope"}


def problems_for(apim: dict, **stack) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, **stack, "apim": apim})
    return [p for p in caught.value.problems if p.startswith("aks-grpc:apim")]


def test_defaults_are_a_developer_instance_with_one_pinned_gateway():
    settings = ApimSettings()
    assert (settings.sku, settings.capacity, settings.gateway.replicas) == ("Developer", 1, 1)
    assert settings.gateway.image == "mcr.microsoft.com/azure-api-management/gateway:2.12.1"
    assert settings.api_host is None and settings.jwt is None


@pytest.mark.parametrize(
    ("sku", "reason"),
    [
        ("Consumption", "no self-hosted gateway and no gRPC"),
        ("Basic", "no self-hosted gateway"),
        ("Standard", "no self-hosted gateway"),
        ("BasicV2", "v2 tiers have no self-hosted gateway and no gRPC"),
        ("StandardV2", "v2 tiers have no self-hosted gateway and no gRPC"),
        ("PremiumV2", "v2 tiers have no self-hosted gateway and no gRPC"),
    ],
)
def test_tiers_without_self_hosted_gateway_are_rejected_with_the_reason(sku, reason):
    (problem,) = problems_for({"sku": sku})
    assert problem.startswith("aks-grpc:apim.sku:")
    assert reason in problem and "Developer or Premium" in problem


def test_every_rejected_tier_has_a_reason():
    assert set(APIM_REJECTED_SKUS) >= {
        "Consumption",
        "Basic",
        "Standard",
        "BasicV2",
        "StandardV2",
        "PremiumV2",
    }


def test_unknown_tier_is_rejected():
    assert problems_for({"sku": "Gold"}) == [
        "aks-grpc:apim.sku: 'Gold' is not an API Management tier; use Developer or Premium"
    ]


def test_developer_is_one_unit_and_one_gateway_node():
    problems = problems_for({"capacity": 2, "gateway": {"replicas": 2}})
    assert any(p.startswith("aks-grpc:apim.capacity:") for p in problems)
    assert any(p.startswith("aks-grpc:apim.gateway.replicas:") and "single" in p for p in problems)


def test_premium_needs_at_least_two_gateway_replicas():
    (problem,) = problems_for({"sku": "Premium"})
    assert problem.startswith("aks-grpc:apim.gateway.replicas:")


def test_prod_must_run_premium():
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, "environment": "prod"})
    assert any(p.startswith("aks-grpc:apim.sku: prod must use Premium") for p in caught.value.problems)


@pytest.mark.parametrize(
    ("image", "detail"),
    [
        ("mcr.microsoft.com/azure-api-management/gateway:v2", "exact version"),
        ("mcr.microsoft.com/azure-api-management/gateway:latest", "exact version"),
        ("mcr.microsoft.com/azure-api-management/gateway:2.10.4", "older than 2.11.0"),
        ("docker.io/someone/gateway:2.11.0", "must be mcr.microsoft.com/azure-api-management/gateway"),
    ],
)
def test_gateway_image_must_be_an_exact_version_from_2_11_0(image, detail):
    (problem,) = problems_for({"gateway": {"image": image}})
    assert problem.startswith("aks-grpc:apim.gateway.image:") and detail in problem


@pytest.mark.parametrize("version", ["2.11.0", "2.11.7", "2.12.0", "3.0.0"])
def test_newer_exact_versions_are_accepted(version):
    image = f"mcr.microsoft.com/azure-api-management/gateway:{version}"
    assert ApimSettings.model_validate({"gateway": {"image": image}}).gateway.image_version == version


def test_jwt_needs_an_https_openid_configuration_and_an_audience():
    problems = problems_for({"jwt": {"openidConfigUrl": "http://insecure", "audiences": []}})
    keys = sorted(p.split(":")[1] for p in problems)
    assert keys == ["apim.jwt.audiences", "apim.jwt.openidConfigUrl"]


def test_api_host_certificate_needs_an_api_host_and_host_must_be_a_dns_name():
    assert problems_for({"apiHostCertificateId": "cert"})[0].startswith("aks-grpc:apim.apiHostCertificateId:")
    assert problems_for({"apiHost": "Not A Host"})[0].startswith("aks-grpc:apim.apiHost:")


def test_unknown_keys_are_rejected():
    assert problems_for({"skuu": "Premium"})[0].startswith("aks-grpc:apim.skuu: unknown key")


def test_api_host_needs_the_certificate_the_gateway_serves_for_it():
    (problem,) = problems_for({"apiHost": "grpc.example.com"})
    assert problem.startswith(
        "aks-grpc:apim.apiHostCertificateId: is required with apiHost (grpc.example.com)"
    )


def test_api_host_needs_the_external_ingress_gateway():
    problems = problems_for(
        {"apiHost": "grpc.example.com", "apiHostCertificateId": "grpc-example-com"},
        cluster={"istio": {"externalIngressGateway": False, "internalIngressGateway": True}},
    )
    assert problems == [
        "aks-grpc:apim.apiHost: grpc.example.com is routed through the external Istio ingress gateway: "
        "set cluster.istio.externalIngressGateway: true or remove apim.apiHost"
    ]


def test_api_host_with_its_certificate_and_the_external_gateway_passes():
    settings = load_settings(
        {**BASE, "apim": {"apiHost": "grpc.example.com", "apiHostCertificateId": "grpc-example-com"}}
    )
    assert settings.apim.api_host == "grpc.example.com"


def test_the_default_gateway_image_is_the_newest_release_found():
    assert GATEWAY_DEFAULT_VERSION == "2.12.1"
    assert ApimSettings().gateway.image_version == GATEWAY_DEFAULT_VERSION
