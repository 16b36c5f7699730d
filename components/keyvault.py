"""The stack's Key Vault and the secrets the workload mounts through the Key Vault CSI driver.

The vault is locked down the way Azure's security baseline asks (RBAC authorization, purge
protection, 90 days soft delete, firewall default Deny with the `AzureServices` bypass and the
configured IP rules, optional private endpoint) and logs `AuditEvent` to Log Analytics.

The firewall also admits the cluster's egress IPs (`egress_ip_addresses`, the stack's `ClusterEgress`):
the Key Vault CSI driver reads the vault from the nodes, and AKS is not a trusted service for the
`AzureServices` bypass (Azure/secrets-store-csi-driver-provider-azure#873, #1226), so without them every
pod mounting a SecretProviderClass hangs in ContainerCreating.

The deploying principal gets no role on the vault: secrets are written through ARM
(`Microsoft.KeyVault/vaults/secrets/write` is a management-plane action of the deploy role), and the
program reads no secret back (docs/decisions.md, "What the deployer needs").

Secrets: the Application Insights connection string is always written
(`appinsights-connection-string`). Further secrets are declared by name in `aks-grpc:keyVault.secrets`
and their values live encrypted in the stack config object `aks-grpc:secrets`
(`pulumi config set --secret --path 'aks-grpc:secrets.<name>' <value>`); values are only ever
handled as Pulumi secrets, never as settings.
"""

import calendar
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
from pulumi_azure_native import keyvault, network, privatedns

from . import azure_ids
from .common import (
    RoleAssignmentArgs,
    diagnostic_setting,
    management_lock,
    role_assignments,
)
from .naming import RULES
from .settings import NAMESPACE, SECRET_VALUES_KEY, KeyVaultSettings

APP_INSIGHTS_SECRET = "appinsights-connection-string"
"""Key Vault secret (and CSI file) name of the Application Insights connection string."""

PRINCIPAL_TYPES = ("User", "ServicePrincipal", "Group")


@dataclass
class SecretStoreArgs:
    settings: KeyVaultSettings
    """The stack's `aks-grpc:keyVault` settings."""
    vault_name: str
    """Globally unique vault name (`StackNames.key_vault`, 3-24 characters)."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the vault."""
    location: pulumi.Input[str]
    """Azure region of the vault."""
    tenant_id: pulumi.Input[str]
    """Entra tenant that authorizes access to the vault (`client.tenant_id`)."""
    app_insights_connection_string: pulumi.Input[str]
    """Stored as the secret `appinsights-connection-string` (always treated as a secret)."""
    egress_ip_addresses: Sequence[pulumi.Input[str]] = field(default_factory=list)
    """The cluster's outbound IPs (`ClusterEgress.ip_address`): admitted by the firewall as `/32` rules,
    so the CSI driver on the nodes can read the vault."""
    subscription_id: pulumi.Input[str] = ""
    """Subscription of the role assignments; empty: the vault's own subscription."""
    diagnostics: pulumi.Input[str] = ""
    """Log Analytics workspace id for `AuditEvent` logs and metrics; empty: no diagnostic setting."""
    secret_values: pulumi.Input[Mapping[str, str]] = field(default_factory=dict)
    """Values of the secrets `settings.secrets` declares (use `secret_values_from_config()`)."""
    secret_expires: int = 0
    """Expiry of every secret written, in Unix seconds; 0: `secret_expiry()` from today's date."""
    role_assignments: list[RoleAssignmentArgs] = field(default_factory=list)
    """Further roles on the vault (e.g. Key Vault Secrets User for a workload identity)."""
    lock: str = ""
    """`CanNotDelete` or `ReadOnly` on the vault; empty: no lock."""


def validate_secret_store_args(args: SecretStoreArgs) -> None:
    """Reject args that would fail in Azure, naming the field."""
    if not isinstance(args.settings, KeyVaultSettings):
        raise ValueError("SecretStoreArgs.settings must be a KeyVaultSettings")
    if not RULES["key_vault"].check(args.vault_name):
        raise ValueError(
            f"SecretStoreArgs.vault_name: {args.vault_name!r} is not a valid Key Vault name "
            "(3-24 letters, digits and single hyphens, starting with a letter)"
        )
    if args.lock not in ("", "CanNotDelete", "ReadOnly"):
        raise ValueError("SecretStoreArgs.lock: must be CanNotDelete, ReadOnly or empty")
    if args.secret_expires < 0:
        raise ValueError("SecretStoreArgs.secret_expires: must be Unix seconds (or 0)")
    if args.settings.private_endpoint.enabled and not (
        args.settings.private_endpoint.subnet_id and args.settings.private_endpoint.virtual_network_id
    ):
        raise ValueError(
            "SecretStoreArgs.settings.private_endpoint: subnet_id and virtual_network_id are required"
        )


def ip_rule(address: str) -> str:
    """A firewall rule for one address or network, in the form Key Vault stores: a single IPv4 address as
    `/32`. Sending `1.2.3.4` comes back as `1.2.3.4/32` and diffs on every run
    (hashicorp/terraform-provider-azurerm#2164)."""
    network = ipaddress.ip_network(address, strict=False)
    return str(network)


def firewall_ip_rules(configured: Sequence[str], egress: Sequence[pulumi.Input[str]]) -> list[Any]:
    """The vault's `ipRules`: the configured addresses, then the cluster's egress IPs."""
    rules: list[Any] = [keyvault.IPRuleArgs(value=ip_rule(rule)) for rule in configured]
    rules += [keyvault.IPRuleArgs(value=pulumi.Output.from_input(ip).apply(ip_rule)) for ip in egress]
    return rules


def secret_expiry(now: datetime, valid_days: int) -> int:
    """Expiry (Unix seconds) of the secrets written in `now`'s month: first day of the month + days.

    Anchoring on the month keeps the value stable across every deploy in a month (no diff on each
    run), while each month's first deploy renews the expiry, so a stack that deploys regularly never
    serves an expired secret.
    """
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    return calendar.timegm((start + timedelta(days=valid_days)).timetuple())


def secret_values_from_config() -> pulumi.Output[dict[str, str]]:
    """The encrypted `aks-grpc:secrets` object as a secret Output (empty when not set)."""
    values = pulumi.Config(NAMESPACE).get_secret_object(SECRET_VALUES_KEY)
    return pulumi.Output.secret(values if values is not None else {})


def _value_of(values: Any, name: str) -> str:
    if not isinstance(values, Mapping) or name not in values:
        raise ValueError(
            f"{NAMESPACE}:{SECRET_VALUES_KEY}.{name} has no value; set it with "
            f"`pulumi config set --secret --path '{NAMESPACE}:{SECRET_VALUES_KEY}.{name}' <value>`"
        )
    return str(values[name])


def _secret_value(values: pulumi.Input[Mapping[str, str]], name: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(pulumi.Output.from_input(values).apply(lambda v: _value_of(v, name)))


class SecretStore(pulumi.ComponentResource):
    """A hardened Key Vault with the secrets the workload mounts (see the module docstring)."""

    def __init__(self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:keyvault:SecretStore", name, None, opts)
        validate_secret_store_args(args)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)

        self.vault = keyvault.Vault(
            f"{name}-kv",
            keyvault.VaultArgs(
                vault_name=args.vault_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                properties=keyvault.VaultPropertiesArgs(
                    tenant_id=args.tenant_id,
                    sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName(settings.sku)),
                    # `recover` brings back the soft-deleted vault of this name (docs/operations.md); the
                    # default mode is left unsent, so existing stacks see no change.
                    create_mode=keyvault.CreateMode.RECOVER if settings.create_mode == "recover" else None,
                    enable_rbac_authorization=True,
                    enable_purge_protection=True,
                    enable_soft_delete=True,
                    soft_delete_retention_in_days=90,
                    enabled_for_deployment=False,
                    enabled_for_disk_encryption=False,
                    enabled_for_template_deployment=False,
                    public_network_access="Enabled",
                    network_acls=keyvault.NetworkRuleSetArgs(
                        default_action="Deny",
                        bypass="AzureServices",
                        ip_rules=firewall_ip_rules(settings.ip_rules, args.egress_ip_addresses),
                    ),
                ),
            ),
            opts=child,
        )
        self.vault_id: pulumi.Output[str] = self.vault.id
        self.vault_name: pulumi.Output[str] = self.vault.name
        self.vault_uri: pulumi.Output[str] = self.vault.properties.apply(lambda p: p.vault_uri or "")
        self.tenant_id: pulumi.Output[str] = pulumi.Output.from_input(args.tenant_id)
        subscription_id = args.subscription_id or self.vault.id.apply(lambda rid: rid.split("/")[2])

        self.diagnostic_setting = (
            diagnostic_setting(
                f"{name}-diagnostics",
                resource_id=self.vault.id,
                workspace_id=args.diagnostics,
                categories=["AuditEvent"],
                opts=child,
            )
            if args.diagnostics
            else None
        )
        self.lock = management_lock(f"{name}-lock", scope=self.vault.id, level=args.lock or None, opts=child)

        # What a secret write waits for: the vault alone. Secrets are ARM resources written with the deploy
        # role (management plane), so no data-plane role has to be granted and propagate first.
        self.secret_writers_ready: list[pulumi.Resource] = [self.vault]
        self.role_assignments = role_assignments(
            name,
            scope=self.vault.id,
            assignments=args.role_assignments,
            subscription_id=subscription_id,
            opts=child,
        )

        if settings.private_endpoint.enabled:
            self._private_endpoint(name, args)

        # --- secrets ----------------------------------------------------------------------------
        expires = args.secret_expires or secret_expiry(datetime.now(UTC), settings.secret_validity_days)
        self.secrets: dict[str, keyvault.Secret] = {}
        self.secrets[APP_INSIGHTS_SECRET] = self._secret(
            name, APP_INSIGHTS_SECRET, args.app_insights_connection_string, args, expires, "text/plain"
        )
        for secret_name in settings.secrets:
            value = _secret_value(args.secret_values, secret_name)
            self.secrets[secret_name] = self._secret(name, secret_name, value, args, expires, "text/plain")
        self.secret_names: dict[str, str] = {logical: logical for logical in self.secrets}

        self.register_outputs(
            {
                "vaultId": self.vault_id,
                "vaultName": self.vault_name,
                "vaultUri": self.vault_uri,
                "tenantId": self.tenant_id,
                "secretNames": self.secret_names,
            }
        )

    def _secret(
        self,
        name: str,
        secret_name: str,
        value: pulumi.Input[str],
        args: SecretStoreArgs,
        expires: int,
        content_type: str,
    ) -> keyvault.Secret:
        return keyvault.Secret(
            f"{name}-secret-{secret_name}",
            keyvault.SecretArgs(
                vault_name=self.vault.name,
                resource_group_name=args.resource_group_name,
                secret_name=secret_name,
                properties=keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(value),
                    content_type=content_type,
                    attributes=keyvault.SecretAttributesArgs(enabled=True, expires=expires),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.secret_writers_ready),
        )

    def _private_endpoint(self, name: str, args: SecretStoreArgs) -> None:
        """A private endpoint for the vault and the `privatelink.vaultcore.azure.net` zone resolving it."""
        endpoint_settings = args.settings.private_endpoint
        child = pulumi.ResourceOptions(parent=self)
        self.private_dns_zone = privatedns.PrivateZone(
            f"{name}-private-dns-zone",
            privatedns.PrivateZoneArgs(
                private_zone_name=azure_ids.KEY_VAULT_PRIVATE_DNS_ZONE,
                resource_group_name=args.resource_group_name,
                location="Global",
            ),
            opts=child,
        )
        self.private_dns_link = privatedns.VirtualNetworkLink(
            f"{name}-private-dns-link",
            privatedns.VirtualNetworkLinkArgs(
                private_zone_name=self.private_dns_zone.name,
                resource_group_name=args.resource_group_name,
                virtual_network_link_name=f"link-{args.vault_name}",
                virtual_network=privatedns.SubResourceArgs(id=endpoint_settings.virtual_network_id),
                registration_enabled=False,
                location="Global",
            ),
            opts=child,
        )
        self.private_endpoint = network.PrivateEndpoint(
            f"{name}-private-endpoint",
            network.PrivateEndpointArgs(
                private_endpoint_name=f"pe-{args.vault_name}",
                resource_group_name=args.resource_group_name,
                location=args.location,
                # A reference by id only: network.SubnetArgs would also send its defaults for the
                # subnet's own network policies, which are not this endpoint's to change.
                subnet={"id": endpoint_settings.subnet_id},  # type: ignore[arg-type]
                private_link_service_connections=[
                    network.PrivateLinkServiceConnectionArgs(
                        name=f"pe-{args.vault_name}",
                        private_link_service_id=self.vault.id,
                        group_ids=[azure_ids.KEY_VAULT_PRIVATE_LINK_GROUP],
                    )
                ],
            ),
            opts=child,
        )
        self.private_dns_zone_group = network.PrivateDnsZoneGroup(
            f"{name}-private-dns-zone-group",
            network.PrivateDnsZoneGroupArgs(
                private_endpoint_name=self.private_endpoint.name,
                resource_group_name=args.resource_group_name,
                private_dns_zone_group_name="default",
                private_dns_zone_configs=[
                    network.PrivateDnsZoneConfigArgs(
                        name=azure_ids.KEY_VAULT_PRIVATE_DNS_ZONE.replace(".", "-"),
                        private_dns_zone_id=self.private_dns_zone.id,
                    )
                ],
            ),
            opts=child,
        )
