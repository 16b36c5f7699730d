"""Settings: apim."""

import typing
from collections.abc import Callable
from typing import Annotated

from pydantic import (
    Field,
    model_validator,
)

from components.apim_rules import (
    APIM_SKUS,
    GATEWAY_DEFAULT_IMAGE,
    validate_api_host,
    validate_apim_capacity,
    validate_apim_sku,
    validate_gateway_cpu,
    validate_gateway_image,
    validate_gateway_memory,
    validate_gateway_replicas,
)

from .base import Email, KubernetesName, _Model, _namespace_problems, _raise_problems, nested, service_key

if typing.TYPE_CHECKING:
    from .stack import StackSettings

# ---------------------------------------------------------------------------------------------------
# API Management (`aks-grpc:apim`)
# ---------------------------------------------------------------------------------------------------


# The Azure rules and their constants live with the APIM components (components/apim_rules.py, no SDK
# imports); the models below call them and report each refusal under its config key.
CpuQuantity = Annotated[str, Field(pattern=r"^([1-9]\d*m|\d+(\.\d+)?)$")]
MemoryQuantity = Annotated[str, Field(pattern=r"^[1-9]\d*(Mi|Gi)$")]
DnsName = Annotated[str, Field(pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,63}$", max_length=253)]


class ApimRateLimitSettings(_Model):
    """Per-subscription rate limit of a service's gRPC API (`aks-grpc:services.<name>.apim.rateLimit`)."""

    calls: Annotated[int, Field(ge=1, le=1_000_000)] = 600
    """Calls one subscription may make per `renewalPeriodSeconds`, across all gateway replicas. Rate-limit
    counters of self-hosted gateway replicas are kept per node here, so each node enforces
    `ceil(calls / replicas)` and the total never exceeds this number."""
    renewal_period_seconds: Annotated[int, Field(ge=1, le=300)] = 60
    """Length of the rate-limit window in seconds (the policy allows 1-300)."""


class ApimJwtSettings(_Model):
    """Optional `validate-jwt` in front of the API (`aks-grpc:apim.jwt`)."""

    openid_config_url: Annotated[str, Field(pattern=r"^https://\S+$")]
    """OpenID Connect metadata URL, e.g. `https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration`."""
    audiences: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    """Accepted `aud` claims."""
    issuers: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    """Accepted `iss` claims (empty: the issuer from the OpenID configuration)."""


class ApimGatewaySettings(_Model):
    """The self-hosted gateway running in AKS (`aks-grpc:apim.gateway`)."""

    image: str = GATEWAY_DEFAULT_IMAGE
    """Gateway image pinned to an exact version >= 2.11.0 (never the rolling `v2`/`latest` tags)."""
    replicas: Annotated[int, Field(ge=1, le=20)] = 1
    """Gateway pods. Developer allows one gateway node; Premium needs at least 2 (PDB + zone spread)."""
    namespace: KubernetesName = "apim-gateway"
    """Kubernetes namespace of the gateway (meshed)."""
    name: KubernetesName = "apim-gateway"
    """Name of the gateway Deployment, Service and ServiceAccount, and of the APIM `Gateway` resource."""
    cpu_request: CpuQuantity = "500m"
    """CPU request of the gateway container."""
    memory_request: MemoryQuantity = "512Mi"
    """Memory request of the gateway container."""
    cpu_limit: CpuQuantity = "2"
    """CPU limit of the gateway container (Microsoft's sample uses 2 cores)."""
    memory_limit: MemoryQuantity = "2Gi"
    """Memory limit of the gateway container."""

    @property
    def image_version(self) -> str:
        return self.image.rpartition(":")[2]

    @model_validator(mode="after")
    def _gateway_rules(self) -> "ApimGatewaySettings":
        problems = [
            *_refusal("image", lambda: validate_gateway_image(self.image)),
            *_refusal("cpuLimit", lambda: validate_gateway_cpu(self.cpu_request, self.cpu_limit)),
            *_refusal("memoryLimit", lambda: validate_gateway_memory(self.memory_request, self.memory_limit)),
            *_namespace_problems("namespace", self.namespace),
        ]
        _raise_problems(problems, self)
        return self


def _refusal(key: str, check: Callable[[], None]) -> list[tuple[str, str]]:
    """A component rule's refusal as a settings problem under `key` (the rule's own field prefix dropped)."""
    try:
        check()
    except ValueError as error:
        return [(key, str(error).partition(": ")[2] or str(error))]
    return []


class ApimSettings(_Model):
    """API Management fronting the gRPC API through a self-hosted gateway (`aks-grpc:apim`)."""

    enabled: bool = True
    """Create API Management and the in-cluster gateway (the services and their TLS ports exist either way)."""
    sku: str = "Developer"
    """Tier: `Developer` (one gateway node, no SLA) or `Premium`; other tiers have no self-hosted gateway."""
    capacity: Annotated[int, Field(ge=1, le=12)] = 1
    """Scale units of the APIM service (Developer: exactly 1)."""
    publisher_name: Annotated[str, Field(min_length=1, max_length=100)] = "aks-grpc platform team"
    """Publisher name shown in the developer portal and notification emails."""
    publisher_email: Email = "platform@example.com"
    """Publisher email: receives APIM system notifications."""
    api_host: DnsName | None = None
    """Public host name of the gRPC API. When set, the Istio ingress gateway passes TLS for it through
    to the self-hosted gateway (VirtualService) and the gateway's hostname configuration uses it."""
    api_host_certificate_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,80}$")] | None = None
    """Id of an APIM certificate (uploaded out of band) the gateway serves for `apiHost`."""
    gateway: ApimGatewaySettings = nested()
    """The self-hosted gateway in AKS."""
    jwt: ApimJwtSettings | None = None
    """Validate a bearer JWT on every call (off when absent)."""
    app_insights_sampling_percentage: Annotated[float, Field(ge=0, le=100)] = 100.0
    """Share of gateway requests traced to Application Insights."""

    @model_validator(mode="after")
    def _apim_model_rules(self) -> "ApimSettings":
        problems = _refusal("sku", lambda: validate_apim_sku(self.sku))
        if self.sku in APIM_SKUS:
            problems += _refusal("capacity", lambda: validate_apim_capacity(self.sku, self.capacity))
            problems += _refusal(
                "gateway.replicas", lambda: validate_gateway_replicas(self.sku, self.gateway.replicas)
            )
        problems += _refusal(
            "apiHostCertificateId", lambda: validate_api_host(self.api_host, self.api_host_certificate_id)
        )
        _raise_problems(problems, self)
        return self


def _apim_rules(stack: "StackSettings") -> list[tuple[str, str]]:
    """Production runs the Premium tier (SLA, multi-node gateway); `apiHost` enters through the
    external Istio ingress gateway. Keys are full paths."""
    problems: list[tuple[str, str]] = []
    if not stack.apim.enabled:
        return problems
    if stack.is_production and stack.apim.sku != "Premium":
        problems.append(("apim.sku", f"prod must use Premium (got {stack.apim.sku})"))
    for service_name, service in stack.services.items():
        if stack.apim.gateway.namespace == service.namespace:
            problems.append(
                (
                    "apim.gateway.namespace",
                    f"{stack.apim.gateway.namespace} is also {service_key(service_name, 'namespace')}: each owns "
                    "(creates, labels, deletes) its namespace, so they must differ",
                )
            )
        host = stack.apim.api_host
        if host and service.ingress.host and host.lower() == service.ingress.host.lower():
            problems.append(
                (
                    "apim.apiHost",
                    f"{host} is also {service_key(service_name, 'ingress.host')}: one host cannot be served by "
                    "two Istio Gateways (TLS passthrough to APIM and TLS termination for the service); use two "
                    "host names",
                )
            )
    if stack.apim.api_host and not stack.cluster.istio.external_ingress_gateway:
        problems.append(
            (
                "apim.apiHost",
                f"{stack.apim.api_host} is routed through the external Istio ingress gateway: "
                "set cluster.istio.externalIngressGateway: true or remove apim.apiHost",
            )
        )
    return problems
