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

Secrets: the Application Insights connection string, when given, is written under the name
`keyvault_rules.APP_INSIGHTS_SECRET` (the name's one home). Further secrets are named in `secret_names` and their values come in
as one Input (`secret_values`); values are only ever handled as Pulumi secrets. The stack program reads
them from the encrypted config object `aks-grpc:secrets` (program/adapters/keyvault.py).
"""

import calendar
import enum
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
from pulumi_azure_native import keyvault, network, privatedns

from . import azure_ids
from .common import (
    DiagnosticsArgs,
    LockLevel,
    RoleAssignmentArgs,
    diagnostic_settings,
    management_lock,
    resource_tags,
    role_assignments,
    validate_uniform_knobs,
)
from .keyvault_rules import (
    APP_INSIGHTS_SECRET,
    validate_ip_rules,
    validate_key_vault_name,
    validate_secret_names,
    validate_soft_delete_retention,
)

VAULT_LOG_CATEGORIES = ("AuditEvent",)
"""Default `diagnostics` category of the vault: every data-plane operation (Key Vault logging)."""


class KeyVaultSku(enum.StrEnum):
    """Vault pricing tiers (`premium` adds HSM-backed keys)."""

    STANDARD = "standard"
    PREMIUM = "premium"


class VaultCreateMode(enum.StrEnum):
    """`recover` brings back the soft-deleted vault of the same name (docs/operations.md)."""

    DEFAULT = "default"
    RECOVER = "recover"


@dataclass
class PrivateEndpointArgs:
    """A private endpoint for the vault, resolved through the `privatelink.vaultcore.azure.net` zone."""

    subnet_id: pulumi.Input[str]
    """Resource id of the subnet the endpoint's NIC goes into."""
    virtual_network_id: pulumi.Input[str]
    """Resource id of the virtual network the private DNS zone is linked to."""


@dataclass
class SecretStoreArgs:
    vault_name: str
    """Globally unique vault name (3-24 letters, digits and single hyphens, starting with a letter)."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the vault."""
    location: pulumi.Input[str]
    """Azure region of the vault."""
    tenant_id: pulumi.Input[str]
    """Entra tenant that authorizes access to the vault (`client.tenant_id`)."""
    app_insights_connection_string: pulumi.Input[str] | None = None
    """Stored as the secret named `keyvault_rules.APP_INSIGHTS_SECRET` (always treated as a secret);
    None: not written."""
    sku: KeyVaultSku = KeyVaultSku.STANDARD
    create_mode: VaultCreateMode = VaultCreateMode.DEFAULT
    """`recover` after a destroy: purge protection keeps the name taken while the vault sits soft-deleted."""
    soft_delete_retention_days: int = 90
    """Days a deleted vault (and secret) stays recoverable: 7-90, the longest by default."""
    ip_rules: list[str] = field(default_factory=list)
    """Addresses or CIDR ranges allowed through the firewall (default action Deny)."""
    egress_ip_addresses: list[pulumi.Input[str]] = field(default_factory=list)
    """The cluster's outbound IPs (`ClusterEgress.ip_address`): admitted by the firewall as `/32` rules,
    so the CSI driver on the nodes can read the vault."""
    private_endpoint: PrivateEndpointArgs | None = None
    """A private endpoint with its private DNS zone; None: none."""
    secret_names: list[str] = field(default_factory=list)
    """Further secrets to write; each value comes from `secret_values`."""
    secret_values: pulumi.Input[dict[str, str]] = field(default_factory=dict)
    """Values of `secret_names` (a secret Output, e.g. read from encrypted stack config by the program)."""
    secret_validity_days: int = 365
    """Expiry of the secrets written, counted from the first day of the deploying month."""
    secret_expires: int = 0
    """Expiry of every secret written, in Unix seconds; 0: from `secret_validity_days` and today's date."""
    subscription_id: pulumi.Input[str] = ""
    """Subscription of the role assignments; empty: the vault's own subscription."""
    diagnostics: DiagnosticsArgs | None = None
    """Resource logs (default category `AuditEvent`) and metrics of the vault; None: no diagnostic setting."""
    role_assignments: list[RoleAssignmentArgs] = field(default_factory=list)
    """Further roles on the vault (e.g. Key Vault Secrets User for a workload identity)."""
    lock: LockLevel | None = None
    """Lock on the vault."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags of the vault and its network resources."""


def validate_secret_store_args(args: SecretStoreArgs) -> None:
    """Reject args that would fail in Azure, naming the field (`SecretStoreArgs.<field>: ...`)."""
    try:
        validate_key_vault_name(args.vault_name)
        validate_soft_delete_retention(args.soft_delete_retention_days)
        validate_ip_rules(args.ip_rules)
        validate_secret_names(args.secret_names)
        KeyVaultSku(args.sku)
        VaultCreateMode(args.create_mode)
        if args.secret_expires < 0:
            raise ValueError("secret_expires: must be Unix seconds (or 0)")
        if args.secret_validity_days < 1:
            raise ValueError("secret_validity_days: must be at least 1")
        if args.private_endpoint is not None and not (
            args.private_endpoint.subnet_id and args.private_endpoint.virtual_network_id
        ):
            raise ValueError("private_endpoint: subnet_id and virtual_network_id are required")
        validate_uniform_knobs(
            tags=args.tags,
            lock=args.lock,
            role_assignments=args.role_assignments,
            diagnostics=args.diagnostics,
        )
    except ValueError as error:
        raise ValueError(f"SecretStoreArgs.{error}") from None


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


def _value_of(values: Any, name: str) -> str:
    if not isinstance(values, Mapping) or name not in values:
        raise ValueError(f"secret_values: no value for the secret {name!r} that secret_names lists")
    return str(values[name])


def _secret_value(values: pulumi.Input[dict[str, str]], name: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(pulumi.Output.from_input(values).apply(lambda v: _value_of(v, name)))


class SecretStore(pulumi.ComponentResource):
    """A hardened Key Vault with the secrets the workload mounts (see the module docstring)."""

    vault_id: pulumi.Output[str]
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    secret_names: dict[str, str]
    """Every secret written, by its name (the CSI `objectName`)."""

    def __init__(self, name: str, args: SecretStoreArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:index:SecretStore", name, None, opts)
        validate_secret_store_args(args)
        child = pulumi.ResourceOptions(parent=self)
        self._tags = resource_tags(args.tags)

        self.vault = self._vault(name, args)
        self.vault_id = self.vault.id
        self.vault_name = self.vault.name
        self.vault_uri = self.vault.properties.apply(lambda p: p.vault_uri or "")
        self.tenant_id = pulumi.Output.from_input(args.tenant_id)
        subscription_id = args.subscription_id or self.vault.id.apply(lambda rid: rid.split("/")[2])

        self.diagnostic_setting = diagnostic_settings(
            f"{name}-diagnostics",
            resource_id=self.vault.id,
            diagnostics=args.diagnostics,
            default_categories=VAULT_LOG_CATEGORIES,
            opts=child,
        )
        self.lock = management_lock(f"{name}-lock", scope=self.vault.id, level=args.lock, opts=child)

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

        if args.private_endpoint is not None:
            self._private_endpoint(name, args, args.private_endpoint)

        # --- secrets ----------------------------------------------------------------------------
        expires = args.secret_expires or secret_expiry(datetime.now(UTC), args.secret_validity_days)
        self.secrets: dict[str, keyvault.Secret] = {}
        if args.app_insights_connection_string is not None:
            self.secrets[APP_INSIGHTS_SECRET] = self._secret(
                name, APP_INSIGHTS_SECRET, args.app_insights_connection_string, args, expires, "text/plain"
            )
        for secret_name in args.secret_names:
            value = _secret_value(args.secret_values, secret_name)
            self.secrets[secret_name] = self._secret(name, secret_name, value, args, expires, "text/plain")
        self.secret_names = {logical: logical for logical in self.secrets}

        self.register_outputs(
            {
                "vaultId": self.vault_id,
                "vaultName": self.vault_name,
                "vaultUri": self.vault_uri,
                "tenantId": self.tenant_id,
                "secretNames": self.secret_names,
            }
        )

    def _vault(self, name: str, args: SecretStoreArgs) -> keyvault.Vault:
        """The vault, locked down the way Azure's security baseline asks (see the module docstring)."""
        return keyvault.Vault(
            f"{name}-kv",
            keyvault.VaultArgs(
                vault_name=args.vault_name,
                resource_group_name=args.resource_group_name,
                location=args.location,
                properties=keyvault.VaultPropertiesArgs(
                    tenant_id=args.tenant_id,
                    sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName(KeyVaultSku(args.sku).value)),
                    # `recover` brings back the soft-deleted vault of this name (docs/operations.md); the
                    # default mode is left unsent, so existing stacks see no change.
                    create_mode=keyvault.CreateMode.RECOVER
                    if args.create_mode == VaultCreateMode.RECOVER
                    else None,
                    enable_rbac_authorization=True,
                    enable_purge_protection=True,
                    enable_soft_delete=True,
                    soft_delete_retention_in_days=args.soft_delete_retention_days,
                    enabled_for_deployment=False,
                    enabled_for_disk_encryption=False,
                    enabled_for_template_deployment=False,
                    public_network_access="Enabled",
                    network_acls=keyvault.NetworkRuleSetArgs(
                        default_action="Deny",
                        bypass="AzureServices",
                        ip_rules=firewall_ip_rules(args.ip_rules, args.egress_ip_addresses),
                    ),
                ),
                tags=self._tags,
            ),
            opts=pulumi.ResourceOptions(parent=self),
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
                tags=self._tags,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.secret_writers_ready),
        )

    def _private_endpoint(self, name: str, args: SecretStoreArgs, endpoint: PrivateEndpointArgs) -> None:
        """A private endpoint for the vault and the `privatelink.vaultcore.azure.net` zone resolving it."""
        child = pulumi.ResourceOptions(parent=self)
        self.private_dns_zone = privatedns.PrivateZone(
            f"{name}-private-dns-zone",
            privatedns.PrivateZoneArgs(
                private_zone_name=azure_ids.KEY_VAULT_PRIVATE_DNS_ZONE,
                resource_group_name=args.resource_group_name,
                location="Global",
                tags=self._tags,
            ),
            opts=child,
        )
        self.private_dns_link = privatedns.VirtualNetworkLink(
            f"{name}-private-dns-link",
            privatedns.VirtualNetworkLinkArgs(
                private_zone_name=self.private_dns_zone.name,
                resource_group_name=args.resource_group_name,
                virtual_network_link_name=f"link-{args.vault_name}",
                virtual_network=privatedns.SubResourceArgs(id=endpoint.virtual_network_id),
                registration_enabled=False,
                location="Global",
                tags=self._tags,
            ),
            opts=child,
        )
        self.private_endpoint = network.PrivateEndpoint(
            f"{name}-private-endpoint",
            network.PrivateEndpointArgs(
                private_endpoint_name=f"pe-{args.vault_name}",
                resource_group_name=args.resource_group_name,
                location=args.location,
                tags=self._tags,
                # A reference by id only: network.SubnetArgs would also send its defaults for the
                # subnet's own network policies, which are not this endpoint's to change.
                subnet={"id": endpoint.subnet_id},  # type: ignore[arg-type]
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
