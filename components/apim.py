"""GrpcApiGateway: API Management fronting many gRPC services through one self-hosted gateway in AKS.

The wiring of four components, each usable alone:
- `ApimInstance` (apim_instance.py): the service, its logs and Application Insights logger;
- `ApiProduct` (apim_product.py): a product and its subscription, the key in Key Vault;
- `GrpcApi` (apim_api.py): one API per backend service, from its own .proto;
- `SelfHostedGateway` (apim_gateway.py): the APIM `Gateway`, linked to every API, and its pods.
Validity rules live in apim_rules.py.

Deployment time: creating the APIM service takes 30-60 minutes, so nothing outside this component
may wait on it (tests/program/test_deployment_graph.py). The Kubernetes provider travels in
`opts.provider`/`opts.providers`; `opts.depends_on` names what the Kubernetes objects and the Key Vault
secret writes wait for (the cluster's `kubernetes_ready`, the vault's `secret_writers_ready`); the
instance and the APIs never wait for them (common.py `without_dependencies`).
"""

from dataclasses import dataclass, field

import pulumi

from .apim_api import GrpcApi, GrpcApiArgs, GrpcApiDefinition
from .apim_gateway import GatewayApiLink, GatewayDefinition, SelfHostedGateway, SelfHostedGatewayArgs
from .apim_instance import ApimInstance, ApimInstanceArgs
from .apim_product import ApiProduct, ApiProductArgs, ApiProductDefinition
from .apim_rules import validate_grpc_api_list
from .common import depends_on_of, without_dependencies


@dataclass
class GrpcApiGatewayArgs:
    """Inputs of `GrpcApiGateway`."""

    instance: ApimInstanceArgs
    """The API Management service."""
    apis: list[GrpcApiDefinition]
    """The gRPC APIs, one per backend service; the one gateway serves them all."""
    resource_group_id: pulumi.Input[str]
    """Scope of the gateway's custom role definitions."""
    subscription_id: str
    tenant_id: str
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer (the gateway's workload identity)."""
    istio_revision: str
    """Istio revision the gateway namespace is labelled with."""
    vault_name: pulumi.Input[str]
    """Key Vault that receives the subscription keys."""
    gateway: GatewayDefinition = field(default_factory=GatewayDefinition)
    """The self-hosted gateway in the cluster."""
    products: list[ApiProductDefinition] = field(default_factory=lambda: [ApiProductDefinition()])
    """The products the APIs join (`GrpcApiDefinition.product`); default: one `grpc` product."""


def validate_grpc_api_gateway_args(args: GrpcApiGatewayArgs) -> None:
    """Reject a list of APIs one instance cannot serve, naming the field."""
    validate_grpc_api_list(
        names=[api.name for api in args.apis],
        paths=[api.path for api in args.apis],
        protos=[api.proto for api in args.apis],
        products=[api.product for api in args.apis],
        known_products=[product.product_id for product in args.products],
    )


class GrpcApiGateway(pulumi.ComponentResource):
    """An APIM instance, its products, one gRPC API per service and the self-hosted gateway serving them."""

    gateway_url: pulumi.Output[str]
    """The instance's managed gateway URL."""
    gateway_name: str
    """Name of the APIM `Gateway` resource (= `gateway.name` of the in-cluster gateway)."""
    api_id: pulumi.Output[str]
    """ARM id of the first API in `apis`."""
    api_ids: pulumi.Output[dict[str, str]]
    """ARM id of every API, by API name."""
    subscription_key_secret_name: str
    """Key Vault secret holding the first API's product's primary subscription key (never exported)."""
    subscription_key_secret_names: dict[str, str]
    """Key Vault secret of each product's subscription key, by product id."""
    gateway_service_host: str
    """In-cluster DNS name of the self-hosted gateway Service."""
    gateway_client_id: pulumi.Output[str]
    """Application (client) id of the gateway's Entra app."""

    def __init__(
        self,
        name: str,
        args: GrpcApiGatewayArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("aksgrpc:index:GrpcApiGateway", name, None, without_dependencies(opts))
        validate_grpc_api_gateway_args(args)
        # What the Kubernetes objects and the Key Vault secret writes wait for (common.py `without_dependencies`).
        ready = depends_on_of(opts)
        instance_args = args.instance
        self.instance = ApimInstance(name, instance_args, pulumi.ResourceOptions(parent=self))
        service_name, rg = self.instance.service_name, instance_args.resource_group_name

        self.products = {
            product.product_id: ApiProduct(
                f"{name}-{product.product_id}",
                ApiProductArgs(
                    service_name=service_name,
                    resource_group_name=rg,
                    vault_name=args.vault_name,
                    product=product,
                ),
                pulumi.ResourceOptions(parent=self, depends_on=ready),
            )
            for product in args.products
        }
        self.apis = {
            api.name: GrpcApi(
                f"{name}-{api.name}",
                GrpcApiArgs(
                    service_name=service_name,
                    resource_group_name=rg,
                    api=api,
                    product_id=self.products[api.product].product_id,
                    gateway_replicas=args.gateway.replicas,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            for api in args.apis
        }
        self.gateway = SelfHostedGateway(
            name,
            SelfHostedGatewayArgs(
                service_name=instance_args.service_name,
                service_id=self.instance.service_id,
                service_principal_id=self.instance.principal_id,
                resource_group_name=rg,
                resource_group_id=args.resource_group_id,
                subscription_id=args.subscription_id,
                tenant_id=args.tenant_id,
                oidc_issuer_url=args.oidc_issuer_url,
                istio_revision=args.istio_revision,
                apis=[
                    GatewayApiLink(key=key, api_name=api.api_name, ca_certificate_id=api.ca_certificate_id)
                    for key, api in self.apis.items()
                ],
                sku=instance_args.sku,
                gateway=args.gateway,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=ready),
        )

        first = self.apis[args.apis[0].name]
        self.gateway_url = self.instance.gateway_url
        self.gateway_name = self.gateway.gateway_name
        self.gateway_service_host = self.gateway.gateway_service_host
        self.gateway_client_id = self.gateway.gateway_client_id
        self.deployment = self.gateway.deployment
        self.api_id = first.api_id
        self.api_ids = pulumi.Output.all(**{key: api.api_id for key, api in self.apis.items()})
        self.subscription_key_secret_names = {
            key: product.subscription_key_secret_name for key, product in self.products.items()
        }
        self.subscription_key_secret_name = self.subscription_key_secret_names[args.apis[0].product]
        self.register_outputs(
            {
                "gatewayUrl": self.gateway_url,
                "gatewayName": self.gateway_name,
                "apiId": self.api_id,
                "apiIds": self.api_ids,
                "gatewayServiceHost": self.gateway_service_host,
                "subscriptionKeySecretName": self.subscription_key_secret_name,
            }
        )
