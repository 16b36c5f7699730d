"""GrpcApi: one gRPC API of an API Management instance, imported from one service's .proto.

Facts (MicrosoftDocs/azure-docs, articles/api-management/grpc-api.md): the API is `type: grpc` with
`format: grpc` and the .proto text in `value` (one file per API, REST 2024-05-01); the backend "must
be accessible over HTTPS"; gRPC APIs run on a self-hosted gateway (`SelfHostedGateway` links the API
to the gateway and trusts the backend CA). gRPC clients send `:path = /<package>.<Service>/<Method>`,
so the API path is empty (apim_rules.validate_grpc_api_path).
"""

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import apimanagement

from .apim_policy import GrpcApiPolicy, JwtValidation, grpc_api_policy_xml
from .apim_rules import (
    proto_services,
    validate_backend,
    validate_grpc_api_name,
    validate_grpc_api_path,
    validate_grpc_api_proto,
    validate_rate_limit,
)
from .backend_tls import certificate_pfx

DEFAULT_PRODUCT_ID = "grpc"


@dataclass
class ApiRateLimit:
    """Per-subscription rate limit of one API (`rate-limit-by-key`)."""

    calls: int = 600
    """Calls one subscription may make per window, across all gateway replicas."""
    renewal_period_seconds: int = 60
    """Length of the window in seconds (1-300)."""


@dataclass
class GrpcApiDefinition:
    """What one backend service exposes through API Management."""

    name: str
    """Short name of the service (`greeter`): APIM ids `<name>-grpc`, `<name>-grpc-backend`,
    `<name>-backend-ca`, and the logical names of the API's resources."""
    proto: str
    """Text of the one .proto file the API is imported from."""
    backend_host: str
    """In-cluster DNS name of the service (must be in its TLS certificate)."""
    backend_port: int
    """The service's TLS port."""
    backend_ca_certificate_pem: pulumi.Input[str]
    """The private CA that issued the service's certificate; the gateway trusts it."""
    path: str = ""
    """API path: empty, because gRPC clients cannot add a prefix."""
    display_name: str = ""
    """Shown in the portal (empty: `<name> (gRPC)`)."""
    description: str = ""
    """Shown in the portal (empty: the gRPC services of the proto)."""
    product: str = DEFAULT_PRODUCT_ID
    """Id of the APIM product the API joins (its subscription keys call the API)."""
    rate_limit: ApiRateLimit = field(default_factory=ApiRateLimit)
    jwt: JwtValidation | None = None
    """Validate a bearer JWT on every call (off when none)."""


def api_id(name: str) -> str:
    return f"{name}-grpc"


def backend_id(name: str) -> str:
    return f"{name}-grpc-backend"


def backend_ca_certificate_id(name: str) -> str:
    return f"{name}-backend-ca"


def backend_url(host: str, port: int) -> str:
    """The gRPC backend: the service's TLS endpoint (gRPC backends must be reachable over HTTPS)."""
    return f"https://{host}:{port}"


def validate_grpc_api_definition(api: GrpcApiDefinition) -> None:
    """Reject an API Azure (or every gRPC client) would refuse, naming the field."""
    validate_grpc_api_name(api.name)
    validate_grpc_api_proto(api.proto)
    validate_grpc_api_path(api.path)
    validate_backend(api.backend_host, api.backend_port)
    validate_rate_limit(api.rate_limit.calls, api.rate_limit.renewal_period_seconds)
    if api.jwt is not None and not api.jwt.audiences:
        raise ValueError("jwt.audiences: name at least one audience")


@dataclass
class GrpcApiArgs:
    """Inputs of `GrpcApi`."""

    service_name: pulumi.Input[str]
    """The API Management instance (`ApimInstance.service_name`)."""
    resource_group_name: pulumi.Input[str]
    api: GrpcApiDefinition
    product_id: pulumi.Input[str] | None = None
    """The product to join (`ApiProduct.product_id`, so the link waits for it); none: `api.product`."""
    gateway_replicas: int = 1
    """Replicas of the self-hosted gateway: rate-limit counters are per node, so each enforces a share."""


class GrpcApi(pulumi.ComponentResource):
    """A gRPC API from one .proto, its TLS-validated backend, its policy and its product link."""

    api_id: pulumi.Output[str]
    """ARM id of the API."""
    api_name: pulumi.Output[str]
    """APIM id of the API (`<name>-grpc`); waits for the API."""
    ca_certificate_id: pulumi.Output[str]
    """APIM id of the backend CA certificate (for the gateway's certificate authorities)."""

    def __init__(self, name: str, args: GrpcApiArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:index:GrpcApi", name, None, opts)
        api = args.api
        validate_grpc_api_definition(api)
        if args.gateway_replicas < 1:
            raise ValueError(f"gateway_replicas: must be >= 1 (got {args.gateway_replicas})")
        child = pulumi.ResourceOptions(parent=self)
        rg, service_name = args.resource_group_name, args.service_name

        # The service's TLS port, certificate validated against the private CA.
        backend = apimanagement.Backend(
            f"{name}-backend",
            apimanagement.BackendArgs(
                resource_group_name=rg,
                service_name=service_name,
                backend_id=backend_id(api.name),
                url=backend_url(api.backend_host, api.backend_port),
                protocol="http",
                title=f"{api.name} gRPC service (TLS)",
                tls=apimanagement.BackendTlsPropertiesArgs(
                    validate_certificate_chain=True, validate_certificate_name=True
                ),
            ),
            opts=child,
        )
        ca_certificate = apimanagement.Certificate(
            f"{name}-backend-ca",
            apimanagement.CertificateArgs(
                resource_group_name=rg,
                service_name=service_name,
                certificate_id=backend_ca_certificate_id(api.name),
                data=pulumi.Output.from_input(api.backend_ca_certificate_pem).apply(certificate_pfx),
            ),
            opts=child,
        )
        grpc_api = apimanagement.Api(
            f"{name}-api",
            apimanagement.ApiArgs(
                resource_group_name=rg,
                service_name=service_name,
                api_id=api_id(api.name),
                display_name=api.display_name or f"{api.name} (gRPC)",
                description=api.description or f"{', '.join(proto_services(api.proto))} (gRPC)",
                api_type="grpc",
                format="grpc",
                value=api.proto,
                path=api.path,
                protocols=["https"],
                service_url=backend_url(api.backend_host, api.backend_port),
                subscription_required=True,
            ),
            opts=child,
        )
        apimanagement.ApiPolicy(
            f"{name}-api-policy",
            apimanagement.ApiPolicyArgs(
                resource_group_name=rg,
                service_name=service_name,
                api_id=grpc_api.name,
                policy_id="policy",
                format="xml",
                value=grpc_api_policy_xml(api_policy(api, args.gateway_replicas)),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[backend]),
        )
        apimanagement.ProductApi(
            f"{name}-product-api",
            apimanagement.ProductApiArgs(
                resource_group_name=rg,
                service_name=service_name,
                product_id=args.product_id if args.product_id is not None else api.product,
                api_id=grpc_api.name,
            ),
            opts=child,
        )

        self.api_id = grpc_api.id
        self.api_name = grpc_api.name
        self.ca_certificate_id = ca_certificate.name
        self.register_outputs(
            {"apiId": self.api_id, "apiName": self.api_name, "caCertificateId": self.ca_certificate_id}
        )


def api_policy(api: GrpcApiDefinition, gateway_replicas: int) -> GrpcApiPolicy:
    """The values the API's policy XML is built from."""
    return GrpcApiPolicy(
        calls=api.rate_limit.calls,
        renewal_period_seconds=api.rate_limit.renewal_period_seconds,
        gateway_replicas=gateway_replicas,
        backend_id=backend_id(api.name),
        jwt=api.jwt,
    )
