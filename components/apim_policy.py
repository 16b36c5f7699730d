"""The API policy of a gRPC API: a pure function from the API's values to policy XML (unit-tested).

Facts (API Management policy reference, learn.microsoft.com):
- A policy document has the four sections inbound, backend, outbound and on-error; `<base/>` inherits
  the enclosing scope's policies and goes first so global/product policies still run.
- `forward-request` "Multiple statements per policy document: not supported", and the global scope
  already holds one: an API that sets its own (`http-version="2"` for gRPC) must replace `<base/>` in
  the backend section instead of adding a second one ("forward-request", example 3 "Do not inherit").
- `rate-limit-by-key` keeps counters in the gateway; counters of self-hosted gateway replicas are not
  shared here, so the per-node limit is the configured total divided by the replica count.
"""

import math
from dataclasses import dataclass, field
from xml.etree import ElementTree

from .apim_rules import validate_rate_limit

SUBSCRIPTION_KEY_EXPRESSION = "@(context.Subscription.Id)"
"""Rate-limit counter key: one counter per APIM subscription."""


@dataclass(frozen=True)
class JwtValidation:
    """`validate-jwt` in front of an API: the OpenID configuration plus accepted audiences/issuers."""

    openid_config_url: str
    """OpenID Connect metadata URL (`https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration`)."""
    audiences: list[str]
    """Accepted `aud` claims (at least one)."""
    issuers: list[str] = field(default_factory=list)
    """Accepted `iss` claims (empty: the issuer from the OpenID configuration)."""


@dataclass(frozen=True)
class GrpcApiPolicy:
    """Everything the API policy depends on."""

    calls: int
    """Calls per subscription per window, across all gateway replicas."""
    renewal_period_seconds: int
    gateway_replicas: int
    backend_id: str
    """The `Backend` entity whose TLS settings validate the service's certificate."""
    jwt: JwtValidation | None = None
    backend_timeout_seconds: int = 240

    @property
    def calls_per_node(self) -> int:
        """What each gateway node enforces so that all nodes together stay within `calls`."""
        return max(1, math.ceil(self.calls / max(1, self.gateway_replicas)))


def validate_policy(policy: GrpcApiPolicy) -> None:
    """Reject values the gateway would refuse, naming the field."""
    validate_rate_limit(policy.calls, policy.renewal_period_seconds)
    if policy.gateway_replicas < 1:
        raise ValueError(f"gateway_replicas must be >= 1 (got {policy.gateway_replicas})")
    if not policy.backend_id:
        raise ValueError("backend_id must be set")
    if policy.jwt is not None and not policy.jwt.audiences:
        raise ValueError("jwt.audiences must name at least one audience")


def _element(parent: ElementTree.Element, tag: str, **attributes: str) -> ElementTree.Element:
    return ElementTree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attributes.items()})


def grpc_api_policy_xml(policy: GrpcApiPolicy) -> str:
    """The API-scope policy document for the gRPC API.

    inbound: `<base/>`, optional `validate-jwt`, `rate-limit-by-key` per subscription, route to the
    validated backend. backend: `forward-request` over HTTP/2 (gRPC needs it end to end).
    outbound and on-error: `<base/>`.
    """
    validate_policy(policy)
    root = ElementTree.Element("policies")
    inbound = _element(root, "inbound")
    _element(inbound, "base")
    if policy.jwt is not None:
        jwt = _element(
            inbound,
            "validate-jwt",
            header_name="Authorization",
            failed_validation_httpcode="401",
            require_scheme="Bearer",
        )
        _element(jwt, "openid-config", url=policy.jwt.openid_config_url)
        audiences = _element(jwt, "audiences")
        for audience in policy.jwt.audiences:
            _element(audiences, "audience").text = audience
        if policy.jwt.issuers:
            issuers = _element(jwt, "issuers")
            for issuer in policy.jwt.issuers:
                _element(issuers, "issuer").text = issuer
    _element(
        inbound,
        "rate-limit-by-key",
        calls=str(policy.calls_per_node),
        renewal_period=str(policy.renewal_period_seconds),
        counter_key=SUBSCRIPTION_KEY_EXPRESSION,
    )
    _element(inbound, "set-backend-service", backend_id=policy.backend_id)
    backend = _element(root, "backend")
    # buffer-response false: server-streaming RPCs reach the client message by message.
    _element(
        backend,
        "forward-request",
        http_version="2",
        timeout=str(policy.backend_timeout_seconds),
        buffer_response="false",
    )
    _element(_element(root, "outbound"), "base")
    _element(_element(root, "on-error"), "base")
    ElementTree.indent(root, space="  ")
    return ElementTree.tostring(root, encoding="unicode") + "\n"
