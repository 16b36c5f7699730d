"""SecretStore under the mock engine: a hardened vault the cluster's egress reaches, no standing role for
the deployer, secrets that stay secret."""

from datetime import UTC, datetime

import pulumi
import pytest

from components import azure_ids
from components.common import DiagnosticsArgs, LockLevel, PrincipalType, RoleAssignmentArgs
from components.keyvault import (
    APP_INSIGHTS_SECRET,
    KeyVaultSku,
    PrivateEndpointArgs,
    SecretStore,
    SecretStoreArgs,
    VaultCreateMode,
    ip_rule,
    secret_expiry,
    validate_ip_rules,
    validate_key_vault_name,
    validate_secret_names,
    validate_secret_store_args,
    validate_soft_delete_retention,
)
from components.naming import StackNames
from program.adapters.deployer import deployer_principal_type
from program.adapters.keyvault import secret_store_args, secret_values_from_config
from program.settings import KeyVaultSettings
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


IP_RULES = ["203.0.113.0/24", "198.51.100.7"]
SECRETS_USER = azure_ids.KEY_VAULT_SECRETS_USER
WORKLOAD_PRINCIPAL = "0f0f0f0f-1111-4222-8333-444444444444"


def build(secret_values=None, **overrides) -> SecretStore:
    store = SecretStore(
        "secrets",
        SecretStoreArgs(
            vault_name=VAULT,
            resource_group_name=RG,
            location="westeurope",
            tenant_id=TENANT_ID,
            subscription_id=SUBSCRIPTION_ID,
            secret_values=secret_values if secret_values is not None else {},
            secret_expires=EXPIRES,
            **{
                "egress_ip_addresses": [EGRESS_IP],
                "ip_rules": list(IP_RULES),
                "diagnostics": DiagnosticsArgs(workspace_id=WORKSPACE),
                "app_insights_connection_string": pulumi.Output.secret(CONNECTION_STRING),
                **overrides,
            },
        ),
    )
    pulumi.export("vaultName", store.vault_name)
    pulumi.export("vaultUri", store.vault_uri)
    pulumi.export("tenantId", store.tenant_id)
    pulumi.export("secretNames", store.secret_names)
    return store


@pytest.fixture
def plan(run_mocked):
    return run_mocked(lambda: build())


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
        build(ip_rules=[], egress_ip_addresses=[egress.address])  # type: ignore[attr-defined]

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


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(None, None), (VaultCreateMode.DEFAULT, None), (VaultCreateMode.RECOVER, "recover")],
)
def test_vault_create_mode_follows_the_args(run_mocked, mode, expected):
    overrides = {"create_mode": mode} if mode else {}
    plan = run_mocked(lambda: build(**overrides))
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
    plan = run_mocked(
        lambda: build(private_endpoint=PrivateEndpointArgs(subnet_id=SUBNET, virtual_network_id=VNET))
    )
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
    # Outputs belong to the mock engine's event loop: create them inside the program.
    plan = run_mocked(
        lambda: build(
            pulumi.Output.secret({"db-password": "hunter2", "api-key": "k-123"}),
            secret_names=["db-password", "api-key"],
        )
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
    plan = run_mocked(lambda: build({"api-key": "plain"}, secret_names=["api-key"]))
    secret = plan.one("azure-native:keyvault:Secret", "secrets-secret-api-key")
    assert secret.inputs["properties"] == SECRET_PLACEHOLDER


def test_secret_values_come_from_the_encrypted_stack_config_object():
    def program():
        values = secret_values_from_config()
        pulumi.export("values", values)
        build(values, secret_names=["db-password"])

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
        "vault_name": VAULT,
        "resource_group_name": RG,
        "location": "westeurope",
        "tenant_id": TENANT_ID,
        "app_insights_connection_string": "x",
        **overrides,
    }
    with pytest.raises(ValueError, match=f"SecretStoreArgs.{field}"):
        validate_secret_store_args(SecretStoreArgs(**args))


# ---------------------------------------------------------------------------------------------------
# Azure's rules as validate_* functions
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["kv", "k" * 25, "1kv-grpc", "kv--grpc", "kv-grpc-", "kv_grpc"])
def test_key_vault_names_outside_azures_rule_are_refused(name):
    with pytest.raises(ValueError, match=r"^vault_name: "):
        validate_key_vault_name(name)


@pytest.mark.parametrize("name", ["kv1", "k" * 24, VAULT])
def test_key_vault_names_within_azures_rule_pass(name):
    validate_key_vault_name(name)


@pytest.mark.parametrize(("days", "ok"), [(6, False), (7, True), (90, True), (91, False)])
def test_soft_delete_retention_is_7_to_90_days(days, ok):
    if ok:
        validate_soft_delete_retention(days)
    else:
        with pytest.raises(ValueError, match=r"^soft_delete_retention_days: "):
            validate_soft_delete_retention(days)


def test_soft_delete_retention_reaches_the_vault(run_mocked):
    plan = run_mocked(lambda: build(soft_delete_retention_days=7))
    assert plan.one("azure-native:keyvault:Vault").inputs["properties"]["softDeleteRetentionInDays"] == 7
    with pytest.raises(ValueError, match=r"SecretStoreArgs\.soft_delete_retention_days"):
        validate_secret_store_args(
            SecretStoreArgs(
                vault_name=VAULT,
                resource_group_name=RG,
                location="x",
                tenant_id=TENANT_ID,
                soft_delete_retention_days=120,
            )
        )


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["db_password"], "not a Key Vault secret name"),
        (["x" * 128], "not a Key Vault secret name"),
        (["api-key", "API-KEY"], "listed twice"),
        (["AppInsights-Connection-String"], "written by the component itself"),
    ],
)
def test_secret_names_are_checked(names, message):
    with pytest.raises(ValueError, match=rf"^secret_names\[\d\]: .*{message}"):
        validate_secret_names(names)


@pytest.mark.parametrize("rule", ["not-an-ip", "10.0.0.0/33", "2001:db8::/32"])
def test_ip_rules_must_be_ipv4_addresses_or_networks(rule):
    with pytest.raises(ValueError, match=r"^ip_rules\[0\]: "):
        validate_ip_rules([rule])


def test_a_missing_secret_value_fails_naming_the_secret(run_mocked):
    with pytest.raises(Exception, match="secret_values: no value for the secret 'db-password'"):
        run_mocked(lambda: build({}, secret_names=["db-password"]))


# ---------------------------------------------------------------------------------------------------
# The uniform knobs on SecretStore
# ---------------------------------------------------------------------------------------------------


def test_lock_tags_roles_and_diagnostics_land_on_the_vault(run_mocked):
    tags = {"team": "payments"}
    plan = run_mocked(
        lambda: build(
            tags=tags,
            lock=LockLevel.READ_ONLY,
            role_assignments=[
                RoleAssignmentArgs(
                    principal_id=WORKLOAD_PRINCIPAL,
                    role_definition_id=SECRETS_USER,
                    principal_type=PrincipalType.SERVICE_PRINCIPAL,
                )
            ],
            diagnostics=DiagnosticsArgs(
                workspace_id=WORKSPACE, categories=["AzurePolicyEvaluationDetails"], metrics=False
            ),
            private_endpoint=PrivateEndpointArgs(subnet_id=SUBNET, virtual_network_id=VNET),
        )
    )
    vault = plan.one("azure-native:keyvault:Vault")
    vault_id = f"{RG_ID}/Microsoft.KeyVault/vaults/{VAULT}"
    assert vault.inputs["tags"] == tags
    for type_ in (
        "azure-native:privatedns:PrivateZone",
        "azure-native:privatedns:VirtualNetworkLink",
        "azure-native:network:PrivateEndpoint",
    ):
        assert plan.one(type_).inputs["tags"] == tags
    lock = plan.one("azure-native:authorization:ManagementLockByScope").inputs
    assert lock["scope"] == vault_id and lock["level"] == "ReadOnly" and lock["lockName"] == "lock-readonly"
    (assignment,) = plan.of_type("azure-native:authorization:RoleAssignment")
    assert assignment.inputs["scope"] == vault_id
    assert assignment.inputs["principalId"] == WORKLOAD_PRINCIPAL
    assert assignment.inputs["principalType"] == "ServicePrincipal"
    assert assignment.inputs["roleDefinitionId"].endswith(f"/roleDefinitions/{SECRETS_USER}")
    diagnostics = plan.one("azure-native:monitor:DiagnosticSetting").inputs
    assert diagnostics["logs"] == [{"category": "AzurePolicyEvaluationDetails", "enabled": True}]
    assert "metrics" not in diagnostics


def test_without_diagnostics_there_is_no_diagnostic_setting_and_no_lock(run_mocked):
    plan = run_mocked(lambda: build(diagnostics=None))
    assert plan.of_type("azure-native:monitor:DiagnosticSetting") == []
    assert plan.of_type("azure-native:authorization:ManagementLockByScope") == []
    assert "tags" not in plan.one("azure-native:keyvault:Vault").inputs


def test_without_a_connection_string_no_app_insights_secret_is_written(run_mocked):
    plan = run_mocked(lambda: build(app_insights_connection_string=None))
    assert plan.of_type("azure-native:keyvault:Secret") == []


# ---------------------------------------------------------------------------------------------------
# The program-side adapter (program/adapters/keyvault.py)
# ---------------------------------------------------------------------------------------------------


def test_adapter_maps_the_key_vault_settings_onto_the_args():
    settings = KeyVaultSettings.model_validate(
        {
            "ipRules": IP_RULES,
            "sku": "premium",
            "createMode": "recover",
            "nameGeneration": 2,
            "secrets": ["db-password"],
            "secretValidityDays": 90,
            "privateEndpoint": {"enabled": True, "subnetId": SUBNET, "virtualNetworkId": VNET},
        }
    )
    names = StackNames("grpc", "dev", "westeurope", SUBSCRIPTION_ID)
    args = secret_store_args(
        settings,
        names,
        resource_group_name=RG,
        location="westeurope",
        tenant_id=TENANT_ID,
        app_insights_connection_string="x",
        secret_values={},
    )
    assert args.vault_name == names.key_vault_of_generation(2) != names.key_vault
    assert args.sku is KeyVaultSku.PREMIUM and args.create_mode is VaultCreateMode.RECOVER
    assert args.ip_rules == IP_RULES and args.secret_names == ["db-password"]
    assert args.secret_validity_days == 90
    assert args.private_endpoint == PrivateEndpointArgs(subnet_id=SUBNET, virtual_network_id=VNET)
    plain = secret_store_args(
        KeyVaultSettings(),
        names,
        resource_group_name=RG,
        location="westeurope",
        tenant_id=TENANT_ID,
        app_insights_connection_string="x",
        secret_values={},
    )
    assert plain.private_endpoint is None and plain.soft_delete_retention_days == 90


@pytest.mark.parametrize("name", ["db-password", "db_password", "x" * 127, "x" * 128, "api.key"])
def test_settings_and_the_component_agree_on_secret_names(name):
    try:
        KeyVaultSettings.model_validate({"secrets": [name]})
        settings_ok = True
    except ValueError:
        settings_ok = False
    try:
        validate_secret_names([name])
        rule_ok = True
    except ValueError:
        rule_ok = False
    assert settings_ok == rule_ok
