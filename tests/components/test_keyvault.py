"""SecretStore under the mock engine: a hardened vault the cluster's egress reaches, no standing role for
the deployer, secrets that stay secret."""

from datetime import UTC, datetime

import pulumi
import pytest

from components.common import deployer_principal_type
from components.keyvault import (
    APP_INSIGHTS_SECRET,
    SecretStore,
    SecretStoreArgs,
    ip_rule,
    secret_expiry,
    secret_values_from_config,
    validate_secret_store_args,
)
from components.settings import KeyVaultSettings
from tools.mock_engine import DEPLOYER_OBJECT_ID, SECRET_PLACEHOLDER, SUBSCRIPTION_ID, TENANT_ID, run_program

RG = "rg-grpc-dev-weu"
VAULT = "kv-grpc-dev-weu-abcde"
RG_ID = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{RG}/providers"
WORKSPACE = f"{RG_ID}/Microsoft.OperationalInsights/workspaces/log"
CONNECTION_STRING = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x/"
EXPIRES = 1_800_000_000
EGRESS_IP = "192.0.2.44"
VNET = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet"
SUBNET = f"{VNET}/subnets/pe"


def vault_settings(**overrides) -> KeyVaultSettings:
    return KeyVaultSettings.model_validate({"ipRules": ["203.0.113.0/24", "198.51.100.7"], **overrides})


def build(settings: KeyVaultSettings, secret_values=None, **overrides) -> SecretStore:
    store = SecretStore(
        "secrets",
        SecretStoreArgs(
            settings=settings,
            vault_name=VAULT,
            resource_group_name=RG,
            location="westeurope",
            tenant_id=TENANT_ID,
            subscription_id=SUBSCRIPTION_ID,
            diagnostics=WORKSPACE,
            app_insights_connection_string=pulumi.Output.secret(CONNECTION_STRING),
            secret_values=secret_values if secret_values is not None else {},
            secret_expires=EXPIRES,
            **{"egress_ip_addresses": [EGRESS_IP], **overrides},
        ),
    )
    pulumi.export("vaultName", store.vault_name)
    pulumi.export("vaultUri", store.vault_uri)
    pulumi.export("tenantId", store.tenant_id)
    pulumi.export("secretNames", store.secret_names)
    return store


@pytest.fixture
def plan(run_mocked):
    return run_mocked(lambda: build(vault_settings()))


def test_vault_uses_rbac_purge_protection_and_90_days_soft_delete(plan):
    vault = plan.one("azure-native:keyvault:Vault").inputs
    assert vault["vaultName"] == VAULT
    properties = vault["properties"]
    assert properties["tenantId"] == TENANT_ID
    assert properties["enableRbacAuthorization"] is True
    assert properties["enablePurgeProtection"] is True
    assert properties["enableSoftDelete"] is True
    assert properties["softDeleteRetentionInDays"] == 90
    assert properties["sku"] == {"family": "A", "name": "standard"}
    assert "accessPolicies" not in properties


def test_vault_firewall_denies_by_default_and_allows_azure_services_and_configured_ips(plan):
    acls = plan.one("azure-native:keyvault:Vault").inputs["properties"]["networkAcls"]
    assert acls == {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": [{"value": "203.0.113.0/24"}, {"value": "198.51.100.7/32"}, {"value": f"{EGRESS_IP}/32"}],
    }


def test_vault_firewall_admits_the_cluster_egress_ip_and_depends_on_it(run_mocked):
    def program():
        egress = pulumi.CustomResource("test:index:EgressIp", "egress", {"address": EGRESS_IP})
        build(vault_settings(ipRules=[]), egress_ip_addresses=[egress.address])  # type: ignore[attr-defined]

    plan = run_mocked(program)
    vault = plan.one("azure-native:keyvault:Vault")
    assert vault.inputs["properties"]["networkAcls"]["ipRules"] == [{"value": f"{EGRESS_IP}/32"}]
    assert vault.inputs["properties"]["networkAcls"]["defaultAction"] == "Deny"
    assert plan.one("test:index:EgressIp").urn in vault.dependencies


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("198.51.100.7", "198.51.100.7/32"),
        ("198.51.100.7/32", "198.51.100.7/32"),
        ("10.1.0.0/16", "10.1.0.0/16"),
    ],
)
def test_ip_rules_take_the_form_key_vault_stores(given, stored):
    assert ip_rule(given) == stored


@pytest.mark.parametrize(("mode", "expected"), [(None, None), ("default", None), ("recover", "recover")])
def test_vault_create_mode_follows_the_settings(run_mocked, mode, expected):
    overrides = {"createMode": mode} if mode else {}
    plan = run_mocked(lambda: build(vault_settings(**overrides)))
    assert plan.one("azure-native:keyvault:Vault").inputs["properties"].get("createMode") == expected


def test_vault_audit_events_go_to_log_analytics(plan):
    diagnostics = plan.one("azure-native:monitor:DiagnosticSetting").inputs
    assert diagnostics["resourceUri"].endswith(f"/vaults/{VAULT}")
    assert diagnostics["workspaceId"] == WORKSPACE
    assert diagnostics["logs"] == [{"category": "AuditEvent", "enabled": True}]


def test_the_deployer_gets_no_standing_role_on_the_vault(plan):
    # Secrets are ARM resources (management plane): the deploy role writes them, no data-plane role needed.
    assignments = plan.of_type("azure-native:authorization:RoleAssignment")
    assert [a.inputs for a in assignments if a.inputs.get("principalId") == DEPLOYER_OBJECT_ID] == []
    assert assignments == []


def test_app_insights_connection_string_is_a_secret_with_content_type_and_expiry(plan):
    secret = plan.one("azure-native:keyvault:Secret", f"secrets-secret-{APP_INSIGHTS_SECRET}")
    vault = plan.one("azure-native:keyvault:Vault")
    assert secret.inputs["secretName"] == APP_INSIGHTS_SECRET
    assert secret.inputs["vaultName"] == VAULT
    assert secret.inputs["properties"] == SECRET_PLACEHOLDER  # masked wherever the engine shows it
    revealed = secret.secret_inputs()["properties"]
    assert revealed == {
        "value": CONNECTION_STRING,
        "contentType": "text/plain",
        "attributes": {"enabled": True, "expires": EXPIRES},
    }
    assert vault.urn in secret.dependencies


def test_outputs_name_the_vault_its_tenant_and_secret_names(plan):
    assert plan.outputs["vaultName"] == VAULT
    assert plan.outputs["vaultUri"] == f"https://{VAULT}.vault.azure.net/"
    assert plan.outputs["tenantId"] == TENANT_ID
    assert plan.outputs["secretNames"] == {APP_INSIGHTS_SECRET: APP_INSIGHTS_SECRET}


def test_without_private_endpoint_there_is_no_network_resource(plan):
    assert not [
        r for r in plan.resources if r.type.startswith(("azure-native:network:", "azure-native:privatedns:"))
    ]


def test_private_endpoint_binds_the_vault_and_resolves_through_privatelink_zone(run_mocked):
    settings = vault_settings(privateEndpoint={"enabled": True, "subnetId": SUBNET, "virtualNetworkId": VNET})
    plan = run_mocked(lambda: build(settings))
    endpoint = plan.one("azure-native:network:PrivateEndpoint").inputs
    assert endpoint["subnet"] == {"id": SUBNET}
    (connection,) = endpoint["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["vault"]
    assert connection["privateLinkServiceId"].endswith(f"/vaults/{VAULT}")
    zone = plan.one("azure-native:privatedns:PrivateZone").inputs
    assert zone["privateZoneName"] == "privatelink.vaultcore.azure.net"
    link = plan.one("azure-native:privatedns:VirtualNetworkLink").inputs
    assert link["virtualNetwork"] == {"id": VNET} and link["registrationEnabled"] is False
    group = plan.one("azure-native:network:PrivateDnsZoneGroup").inputs
    assert group["privateDnsZoneConfigs"][0]["privateDnsZoneId"].endswith("/privatelink.vaultcore.azure.net")


def test_declared_secrets_are_written_from_secret_values_and_stay_secret(run_mocked):
    settings = vault_settings(secrets=["db-password", "api-key"])
    # Outputs belong to the mock engine's event loop: create them inside the program.
    plan = run_mocked(
        lambda: build(settings, pulumi.Output.secret({"db-password": "hunter2", "api-key": "k-123"}))
    )
    for name, value in (("db-password", "hunter2"), ("api-key", "k-123")):
        secret = plan.one("azure-native:keyvault:Secret", f"secrets-secret-{name}")
        assert secret.inputs["secretName"] == name
        assert secret.inputs["properties"] == SECRET_PLACEHOLDER
        assert secret.secret_inputs()["properties"]["value"] == value
        assert secret.secret_inputs()["properties"]["attributes"]["expires"] == EXPIRES
    assert plan.outputs["secretNames"] == {
        APP_INSIGHTS_SECRET: APP_INSIGHTS_SECRET,
        "db-password": "db-password",
        "api-key": "api-key",
    }
    assert "hunter2" not in repr([r.inputs for r in plan.resources]) + repr(plan.outputs)


def test_plain_secret_values_are_still_sent_as_secrets(run_mocked):
    plan = run_mocked(lambda: build(vault_settings(secrets=["api-key"]), {"api-key": "plain"}))
    secret = plan.one("azure-native:keyvault:Secret", "secrets-secret-api-key")
    assert secret.inputs["properties"] == SECRET_PLACEHOLDER


def test_secret_values_come_from_the_encrypted_stack_config_object():
    def program():
        values = secret_values_from_config()
        pulumi.export("values", values)
        build(vault_settings(secrets=["db-password"]), values)

    plan = run_program(
        program,
        {"aks-grpc:secrets": {"db-password": "from-config"}},
        stack="test",
        secret_keys=["aks-grpc:secrets"],
    )
    assert plan.outputs["values"] == SECRET_PLACEHOLDER
    secret = plan.one("azure-native:keyvault:Secret", "secrets-secret-db-password")
    assert secret.secret_inputs()["properties"]["value"] == "from-config"


def test_secret_values_default_to_an_empty_secret_object():
    plan = run_program(lambda: pulumi.export("values", secret_values_from_config()), {}, stack="test")
    assert plan.outputs["values"] == SECRET_PLACEHOLDER


def test_secret_expiry_is_stable_within_a_month_and_counts_from_its_first_day():
    early = secret_expiry(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), 365)
    late = secret_expiry(datetime(2026, 3, 31, 23, 59, tzinfo=UTC), 365)
    assert early == late == int(datetime(2027, 3, 1, tzinfo=UTC).timestamp())
    assert secret_expiry(datetime(2026, 4, 1, tzinfo=UTC), 365) > early


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "User"),
        ({"ARM_CLIENT_ID": "x", "ARM_USE_OIDC": "true"}, "ServicePrincipal"),
        ({"ARM_CLIENT_ID": "x", "AKS_GRPC_DEPLOYER_PRINCIPAL_TYPE": "User"}, "User"),
    ],
)
def test_deployer_principal_type_follows_how_the_provider_authenticates(environ, expected):
    assert deployer_principal_type("auto", environ) == expected


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"vault_name": "kv_bad_name"}, "vault_name"),
        ({"vault_name": "kv-this-name-is-far-too-long-for-azure"}, "vault_name"),
        ({"lock": "Frozen"}, "lock"),
        ({"secret_expires": -1}, "secret_expires"),
    ],
)
def test_invalid_args_are_rejected_naming_the_field(overrides, field):
    args = {
        "settings": KeyVaultSettings(),
        "vault_name": VAULT,
        "resource_group_name": RG,
        "location": "westeurope",
        "tenant_id": TENANT_ID,
        "app_insights_connection_string": "x",
        **overrides,
    }
    with pytest.raises(ValueError, match=f"SecretStoreArgs.{field}"):
        validate_secret_store_args(SecretStoreArgs(**args))
