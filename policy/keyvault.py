"""Key Vault: azure-native:keyvault:Vault and Secret (the vault's firewall path from the cluster is a
cross-resource rule: `stack.keyvault_admits_cluster_egress`)."""

from collections.abc import Iterator, Mapping
from typing import Any

from .helpers import (
    ADVISORY,
    MANDATORY,
    as_list,
    as_map,
    dig,
    number,
    of_azure,
    resource_policy,
)

VAULT = of_azure("keyvault:Vault")


def _vault_rbac(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if dig(props, "properties", "enableRbacAuthorization") is not True:
        yield "properties.enableRbacAuthorization must be true (no access policies)"
    if as_list(dig(props, "properties", "accessPolicies")):
        yield "properties.accessPolicies must be empty when using the RBAC permission model"


keyvault_rbac_authorization = resource_policy(
    "keyvault-rbac-authorization",
    "Key Vaults use the Azure RBAC permission model, not access policies.",
    MANDATORY,
    VAULT,
    _vault_rbac,
    "Set properties.enable_rbac_authorization=True and grant data roles with role assignments.",
    "AP: Azure Key Vault should use RBAC permission model",
)


def _purge_protection(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if dig(props, "properties", "enablePurgeProtection") is not True:
        yield "properties.enablePurgeProtection must be true"


keyvault_purge_protection = resource_policy(
    "keyvault-purge-protection",
    "Key Vaults have purge protection enabled.",
    MANDATORY,
    VAULT,
    _purge_protection,
    "Set properties.enable_purge_protection=True (it can never be turned off again).",
    "AP: Key vaults should have deletion protection enabled",
)

MINIMUM_SOFT_DELETE_DAYS = 7
"""Azure Policy's floor; the platform configures 90 (the Azure maximum and default)."""


def _soft_delete(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    properties = as_map(props.get("properties"))
    if properties.get("enableSoftDelete") is False:
        yield "properties.enableSoftDelete must not be false"
    days = number(properties.get("softDeleteRetentionInDays"))
    if days is None:
        yield "properties.softDeleteRetentionInDays must be set explicitly (the platform uses 90)"
    elif days < MINIMUM_SOFT_DELETE_DAYS:
        yield (
            f"properties.softDeleteRetentionInDays is {days:g}; at least "
            f"{MINIMUM_SOFT_DELETE_DAYS} (platform: 90)"
        )


keyvault_soft_delete_retention = resource_policy(
    "keyvault-soft-delete-retention",
    f"Key Vaults keep soft delete on with an explicit retention of at least {MINIMUM_SOFT_DELETE_DAYS} days.",
    MANDATORY,
    VAULT,
    _soft_delete,
    "Set properties.enable_soft_delete=True, soft_delete_retention_in_days=90.",
    "AP: Key vaults should have soft delete enabled",
)


def _vault_firewall(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if str(dig(props, "properties", "publicNetworkAccess") or "").lower() == "disabled":
        return
    if str(dig(props, "properties", "networkAcls", "defaultAction") or "").lower() != "deny":
        yield "properties.networkAcls.defaultAction must be Deny (or publicNetworkAccess Disabled)"


keyvault_firewall_default_deny = resource_policy(
    "keyvault-firewall-default-deny",
    "Key Vault firewalls deny by default (allow-listed IPs and trusted Azure services only).",
    MANDATORY,
    VAULT,
    _vault_firewall,
    "Set properties.network_acls=NetworkRuleSetArgs(default_action='Deny', "
    "bypass='AzureServices', ip_rules=[...]).",
    "AP: Azure Key Vault should have firewall enabled or public network access disabled",
)


def _secret_expiry(_: str, props: Mapping[str, Any]) -> Iterator[str]:
    if number(dig(props, "properties", "attributes", "expires")) is None:
        yield "properties.attributes.expires is not set: the secret never expires"


keyvault_secret_expiration = resource_policy(
    "keyvault-secret-expiration",
    "Key Vault secrets carry an expiration date.",
    ADVISORY,
    of_azure("keyvault:Secret"),
    _secret_expiry,
    "Set properties.attributes.expires (Unix time) and rotate before it.",
    "AP: Key Vault secrets should have an expiration date",
)
