"""`aks-grpc:keyVault` settings + the stack's names -> SecretStoreArgs, and the secret values from config."""

import pulumi

from components.common import DiagnosticsArgs
from components.keyvault import KeyVaultSku, PrivateEndpointArgs, SecretStoreArgs, VaultCreateMode
from components.naming import StackNames
from program.settings import NAMESPACE, SECRET_VALUES_KEY, KeyVaultSettings


def secret_values_from_config() -> pulumi.Output[dict[str, str]]:
    """The encrypted `aks-grpc:secrets` object as a secret Output (empty when not set).

    `load_settings` has already refused a declared secret without a value, naming its config key.
    """
    values = pulumi.Config(NAMESPACE).get_secret_object(SECRET_VALUES_KEY)
    return pulumi.Output.secret(values if values is not None else {})


def secret_store_args(
    settings: KeyVaultSettings,
    names: StackNames,
    *,
    resource_group_name: pulumi.Input[str],
    location: pulumi.Input[str],
    tenant_id: pulumi.Input[str],
    app_insights_connection_string: pulumi.Input[str],
    secret_values: pulumi.Input[dict[str, str]],
    subscription_id: pulumi.Input[str] = "",
    egress_ip_addresses: list[pulumi.Input[str]] | None = None,
    diagnostics: DiagnosticsArgs | None = None,
) -> SecretStoreArgs:
    """SecretStoreArgs of the stack: the vault of the configured name generation and its settings."""
    endpoint = settings.private_endpoint
    return SecretStoreArgs(
        vault_name=names.key_vault_of_generation(settings.name_generation),
        resource_group_name=resource_group_name,
        location=location,
        tenant_id=tenant_id,
        app_insights_connection_string=app_insights_connection_string,
        sku=KeyVaultSku(settings.sku),
        create_mode=VaultCreateMode(settings.create_mode),
        ip_rules=list(settings.ip_rules),
        egress_ip_addresses=list(egress_ip_addresses or []),
        private_endpoint=PrivateEndpointArgs(
            subnet_id=endpoint.subnet_id or "", virtual_network_id=endpoint.virtual_network_id or ""
        )
        if endpoint.enabled
        else None,
        secret_names=list(settings.secrets),
        secret_values=secret_values,
        secret_validity_days=settings.secret_validity_days,
        subscription_id=subscription_id,
        diagnostics=diagnostics,
    )
