"""ApiProduct: an API Management product and its default subscription, whose key goes to Key Vault only.

The key is read with `listSubscriptionSecrets` and written as a Key Vault secret through ARM; it is
never exported.
"""

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import apimanagement, keyvault

from .common import depends_on_of, without_dependencies


@dataclass
class ApiProductDefinition:
    """One product of the instance: APIs join it, its subscription's key calls them."""

    product_id: str = "grpc"
    """APIM id of the product (`GrpcApiDefinition.product` names it)."""
    display_name: str = "gRPC"
    description: str = "The gRPC APIs of the platform"
    approval_required: bool = True
    """Subscriptions other than the default one need an administrator's approval."""


def subscription_id(product_id: str) -> str:
    """The product's default subscription."""
    return f"{product_id}-default"


def subscription_key_secret_name(product_id: str) -> str:
    """Key Vault secret holding the primary key of the product's default subscription."""
    return f"apim-{product_id}-subscription-key"


@dataclass
class ApiProductArgs:
    """Inputs of `ApiProduct`. Key Vault writers to wait for travel in `opts.depends_on`."""

    service_name: pulumi.Input[str]
    """The API Management instance (`ApimInstance.service_name`)."""
    resource_group_name: pulumi.Input[str]
    vault_name: pulumi.Input[str]
    """Key Vault (in the same resource group) that receives the subscription key."""
    product: ApiProductDefinition


class ApiProduct(pulumi.ComponentResource):
    """A published product with one active subscription; the primary key is a Key Vault secret."""

    product_id: pulumi.Output[str]
    """APIM id of the product; waits for the product."""
    subscription_key_secret_name: str
    """Key Vault secret holding the primary subscription key."""

    def __init__(self, name: str, args: ApiProductArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:index:ApiProduct", name, None, without_dependencies(opts))
        definition = args.product
        if not definition.product_id:
            raise ValueError("product.product_id: must be set")
        child = pulumi.ResourceOptions(parent=self)
        rg, service_name = args.resource_group_name, args.service_name
        product = apimanagement.Product(
            f"{name}-product",
            apimanagement.ProductArgs(
                resource_group_name=rg,
                service_name=service_name,
                product_id=definition.product_id,
                display_name=definition.display_name,
                description=definition.description,
                subscription_required=True,
                approval_required=definition.approval_required,
                state=apimanagement.ProductState.PUBLISHED,
            ),
            opts=child,
        )
        subscription = apimanagement.Subscription(
            f"{name}-subscription",
            apimanagement.SubscriptionArgs(
                resource_group_name=rg,
                service_name=service_name,
                sid=subscription_id(definition.product_id),
                display_name=f"{definition.display_name} default subscription",
                scope=product.id,
                state=apimanagement.SubscriptionState.ACTIVE,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, additional_secret_outputs=["primaryKey", "secondaryKey"]
            ),
        )
        keys = apimanagement.list_subscription_secrets_output(
            resource_group_name=rg, service_name=service_name, sid=subscription.name
        )
        self.subscription_key_secret_name = subscription_key_secret_name(definition.product_id)
        # Only the secret write waits for what `opts.depends_on` names (the vault's secret writers).
        keyvault.Secret(
            f"{name}-subscription-key",
            keyvault.SecretArgs(
                secret_name=self.subscription_key_secret_name,
                vault_name=args.vault_name,
                resource_group_name=rg,
                properties=keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(keys.primary_key.apply(lambda key: key or "")),
                    content_type="text/plain",
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on_of(opts)),
        )
        self.product_id = product.name
        self.register_outputs(
            {"productId": self.product_id, "subscriptionKeySecretName": self.subscription_key_secret_name}
        )
