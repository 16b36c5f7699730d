"""`aks-grpc:apim` settings + the services it fronts -> `GrpcApiGatewayArgs`."""

from dataclasses import dataclass

import pulumi

from components.apim import GrpcApiGatewayArgs
from components.apim_api import ApiRateLimit, GrpcApiDefinition
from components.apim_gateway import GatewayDefinition
from components.apim_instance import ApimInstanceArgs, ApimSku
from components.apim_policy import JwtValidation
from components.apim_product import ApiProductDefinition
from components.apim_rules import proto_services
from components.common import DiagnosticsArgs
from program.settings import ApimSettings


@dataclass
class ServiceApiExposure:
    """How one gRPC service is exposed through API Management (one API from its own .proto)."""

    service_name: str
    """The service (`greeter`): names its API (`greeter-grpc`) and the API's resources."""
    proto: str
    """Text of the service's .proto file."""
    proto_file: str
    """Where the proto came from, relative to the project (shown in the API's description)."""
    backend_host: str
    """In-cluster DNS name of the service (in its backend certificate)."""
    backend_tls_port: int
    """The service's TLS port."""
    backend_ca_certificate_pem: pulumi.Input[str]
    """The CA that issued the service's backend certificate."""
    api_path: str = ""
    product: str = "grpc"
    rate_limit_calls: int = 600
    rate_limit_renewal_period_seconds: int = 60


def grpc_api_definition(settings: ApimSettings, service: ServiceApiExposure) -> GrpcApiDefinition:
    """One service's API; JWT validation is stack-wide (`aks-grpc:apim.jwt`)."""
    jwt = settings.jwt
    return GrpcApiDefinition(
        name=service.service_name,
        proto=service.proto,
        backend_host=service.backend_host,
        backend_port=service.backend_tls_port,
        backend_ca_certificate_pem=service.backend_ca_certificate_pem,
        path=service.api_path,
        description=f"{', '.join(proto_services(service.proto))} imported from {service.proto_file}",
        product=service.product,
        rate_limit=ApiRateLimit(service.rate_limit_calls, service.rate_limit_renewal_period_seconds),
        jwt=JwtValidation(jwt.openid_config_url, list(jwt.audiences), list(jwt.issuers)) if jwt else None,
    )


def grpc_api_gateway_args(
    settings: ApimSettings,
    services: list[ServiceApiExposure],
    *,
    service_name: str,
    resource_group_name: pulumi.Input[str],
    resource_group_id: pulumi.Input[str],
    location: pulumi.Input[str],
    subscription_id: str,
    tenant_id: str,
    oidc_issuer_url: pulumi.Input[str],
    istio_revision: str,
    vault_name: pulumi.Input[str],
    app_insights_id: pulumi.Input[str],
    app_insights_instrumentation_key: pulumi.Input[str],
    diagnostics: pulumi.Input[str] | None,
) -> GrpcApiGatewayArgs:
    """The APIM instance, gateway and one API per service from the stack's settings."""
    gateway = settings.gateway
    return GrpcApiGatewayArgs(
        instance=ApimInstanceArgs(
            service_name=service_name,
            resource_group_name=resource_group_name,
            location=location,
            publisher_email=settings.publisher_email,
            publisher_name=settings.publisher_name,
            sku=ApimSku(settings.sku),
            capacity=settings.capacity,
            app_insights_id=app_insights_id,
            app_insights_instrumentation_key=app_insights_instrumentation_key,
            app_insights_sampling_percentage=settings.app_insights_sampling_percentage,
            diagnostics=DiagnosticsArgs(workspace_id=diagnostics) if diagnostics is not None else None,
        ),
        apis=[grpc_api_definition(settings, service) for service in services],
        resource_group_id=resource_group_id,
        subscription_id=subscription_id,
        tenant_id=tenant_id,
        oidc_issuer_url=oidc_issuer_url,
        istio_revision=istio_revision,
        vault_name=vault_name,
        gateway=GatewayDefinition(
            name=gateway.name,
            namespace=gateway.namespace,
            replicas=gateway.replicas,
            image=gateway.image,
            cpu_request=gateway.cpu_request,
            memory_request=gateway.memory_request,
            cpu_limit=gateway.cpu_limit,
            memory_limit=gateway.memory_limit,
            api_host=settings.api_host,
            api_host_certificate_id=settings.api_host_certificate_id,
        ),
        products=[api_product(product_id) for product_id in dict.fromkeys(s.product for s in services)],
    )


def api_product(product_id: str) -> ApiProductDefinition:
    """A product the services name: the default `grpc` product as the component defines it, any other
    named after its id."""
    default = ApiProductDefinition()
    if product_id == default.product_id:
        return default
    return ApiProductDefinition(
        product_id=product_id,
        display_name=product_id,
        description=f"The {product_id} gRPC APIs of the platform",
    )
