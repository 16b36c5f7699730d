"""The gRPC API policy XML: well formed, `<base/>` first, limits from config, JWT optional, HTTP/2 forward."""

from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.apim_policy import (
    SUBSCRIPTION_KEY_EXPRESSION,
    GrpcApiPolicy,
    JwtValidation,
    grpc_api_policy_xml,
    validate_policy,
)

JWT = JwtValidation(
    openid_config_url="https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration",
    audiences=["api://grpc-greeter", "api://other"],
    issuers=["https://login.microsoftonline.com/t/v2.0"],
)


def policy(**changes) -> GrpcApiPolicy:
    values = {
        "calls": 600,
        "renewal_period_seconds": 60,
        "gateway_replicas": 1,
        "backend_id": "greeter-grpc-backend",
    }
    return GrpcApiPolicy(**{**values, **changes})


def parse(p: GrpcApiPolicy) -> ElementTree.Element:
    return ElementTree.fromstring(grpc_api_policy_xml(p))


@pytest.mark.parametrize("jwt", [None, JWT])
def test_policy_is_well_formed_with_the_four_sections_in_order(jwt):
    root = parse(policy(jwt=jwt))
    assert root.tag == "policies"
    assert [child.tag for child in root] == ["inbound", "backend", "outbound", "on-error"]


@pytest.mark.parametrize("jwt", [None, JWT])
@pytest.mark.parametrize("section", ["inbound", "outbound", "on-error"])
def test_base_comes_first_in_every_inheriting_section(jwt, section):
    first = parse(policy(jwt=jwt)).find(section)[0]
    assert first.tag == "base"


def test_backend_forwards_over_http2_once_instead_of_inheriting_a_second_forward_request():
    backend = parse(policy()).find("backend")
    assert [child.tag for child in backend] == ["forward-request"]
    assert backend[0].get("http-version") == "2"
    assert backend[0].get("buffer-response") == "false"


def test_rate_limit_is_keyed_on_the_subscription_with_the_configured_window():
    limit = parse(policy(calls=1200, renewal_period_seconds=30)).find("inbound/rate-limit-by-key")
    assert limit.get("counter-key") == SUBSCRIPTION_KEY_EXPRESSION == "@(context.Subscription.Id)"
    assert limit.get("calls") == "1200"
    assert limit.get("renewal-period") == "30"


@pytest.mark.parametrize(
    ("calls", "replicas", "per_node"), [(600, 1, 600), (600, 2, 300), (601, 2, 301), (5, 10, 1)]
)
def test_rate_limit_is_split_across_gateway_nodes_rounding_up(calls, replicas, per_node):
    limit = parse(policy(calls=calls, gateway_replicas=replicas)).find("inbound/rate-limit-by-key")
    assert limit.get("calls") == str(per_node)


@given(calls=st.integers(1, 100_000), replicas=st.integers(1, 20))
def test_all_nodes_together_never_allow_fewer_than_configured_nor_more_than_one_extra_per_node(
    calls, replicas
):
    per_node = policy(calls=calls, gateway_replicas=replicas).calls_per_node
    assert calls <= per_node * replicas < calls + replicas or per_node == 1


def test_without_jwt_settings_there_is_no_validate_jwt():
    assert parse(policy()).find("inbound/validate-jwt") is None


def test_validate_jwt_uses_openid_config_audiences_and_issuers_before_the_rate_limit():
    inbound = parse(policy(jwt=JWT)).find("inbound")
    assert [child.tag for child in inbound] == [
        "base",
        "validate-jwt",
        "rate-limit-by-key",
        "set-backend-service",
    ]
    jwt = inbound.find("validate-jwt")
    assert jwt.get("header-name") == "Authorization"
    assert jwt.get("failed-validation-httpcode") == "401"
    assert jwt.find("openid-config").get("url") == JWT.openid_config_url
    assert [a.text for a in jwt.findall("audiences/audience")] == list(JWT.audiences)
    assert [i.text for i in jwt.findall("issuers/issuer")] == list(JWT.issuers)


def test_issuers_are_left_to_the_openid_configuration_when_not_listed():
    jwt = parse(policy(jwt=JwtValidation(JWT.openid_config_url, ["api://x"]))).find("inbound/validate-jwt")
    assert jwt.find("issuers") is None


def test_requests_are_routed_to_the_backend_entity_that_validates_tls():
    assert parse(policy(backend_id="b-1")).find("inbound/set-backend-service").get("backend-id") == "b-1"


def test_special_characters_in_config_are_escaped_not_injected():
    evil = JwtValidation('https://x/"><inbound/>', ["a&b<c>"])
    root = parse(policy(jwt=evil))
    assert root.find("inbound/validate-jwt/openid-config").get("url") == evil.openid_config_url
    assert root.find("inbound/validate-jwt/audiences/audience").text == "a&b<c>"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"calls": 0}, "calls"),
        ({"renewal_period_seconds": 0}, "renewal_period_seconds"),
        ({"renewal_period_seconds": 301}, "renewal_period_seconds"),
        ({"gateway_replicas": 0}, "gateway_replicas"),
        ({"backend_id": ""}, "backend_id"),
        ({"jwt": JwtValidation("https://x", [])}, "audiences"),
    ],
)
def test_invalid_values_are_rejected_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        validate_policy(policy(**changes))
