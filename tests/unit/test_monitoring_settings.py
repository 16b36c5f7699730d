"""Monitoring and Key Vault settings: each bad value rejected with its full key; secret values never enter."""

import json

import pytest
from pulumi.runtime import config as runtime_config

from program.settings import (
    SettingsError,
    config_from_pulumi,
    config_from_stack_file,
    load_settings,
)

BASE = {"environment": "dev", "location": "westeurope"}
GROUP = "11111111-2222-4333-8444-555555555555"


def problems_for(config: dict) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, **config})
    return caught.value.problems


@pytest.mark.parametrize(
    ("config", "key", "detail"),
    [
        ({"monitoring": {"logRetentionDays": 29}}, "aks-grpc:monitoring.logRetentionDays", "30"),
        ({"monitoring": {"logRetentionDays": 731}}, "aks-grpc:monitoring.logRetentionDays", "730"),
        ({"monitoring": {"alertEmails": ["oncall"]}}, "aks-grpc:monitoring.alertEmails[0]", "oncall"),
        (
            {"monitoring": {"alertEmails": ["a@b.c", "x y@z.io"]}},
            "aks-grpc:monitoring.alertEmails[1]",
            "x y@z.io",
        ),
        (
            {"monitoring": {"alertEmails": ["a@b.io", "A@b.io"]}},
            "aks-grpc:monitoring.alertEmails[1]",
            "twice",
        ),
        (
            {"monitoring": {"containerInsights": {"interval": "31m"}}},
            "aks-grpc:monitoring.containerInsights.interval",
            "31m",
        ),
        (
            {"monitoring": {"containerInsights": {"namespaceFilteringMode": "Include"}}},
            "aks-grpc:monitoring.containerInsights.namespaces",
            "at least one namespace",
        ),
        (
            {"monitoring": {"containerInsights": {"namespaces": ["kube-system"]}}},
            "aks-grpc:monitoring.containerInsights.namespaces",
            "ignored while namespaceFilteringMode is Off",
        ),
        (
            {
                "monitoring": {
                    "containerInsights": {"namespaceFilteringMode": "Exclude", "namespaces": ["Kube_System"]}
                }
            },
            "aks-grpc:monitoring.containerInsights.namespaces[0]",
            "Kube_System",
        ),
        (
            {"monitoring": {"grafana": {"viewerGroupObjectIds": ["platform-team"]}}},
            "aks-grpc:monitoring.grafana.viewerGroupObjectIds[0]",
            "platform-team",
        ),
        (
            {"monitoring": {"grafana": {"enabeld": True}}},
            "aks-grpc:monitoring.grafana.enabeld",
            "unknown key",
        ),
        (
            {"monitoring": {"alerts": {"grpcErrorRatio": 1.5}}},
            "aks-grpc:monitoring.alerts.grpcErrorRatio",
            "1.5",
        ),
        ({"monitoring": {"alerts": {"podRestarts": 0}}}, "aks-grpc:monitoring.alerts.podRestarts", "0"),
        ({"monitoring": {"alerts": {"severity": 5}}}, "aks-grpc:monitoring.alerts.severity", "5"),
        ({"keyVault": {"ipRules": ["10.0.0.0/33"]}}, "aks-grpc:keyVault.ipRules[0]", "10.0.0.0/33"),
        ({"keyVault": {"ipRules": ["10.0.0.1/24"]}}, "aks-grpc:keyVault.ipRules[0]", "10.0.0.1/24"),
        ({"keyVault": {"ipRules": ["my-office"]}}, "aks-grpc:keyVault.ipRules[0]", "my-office"),
        ({"keyVault": {"sku": "gold"}}, "aks-grpc:keyVault.sku", "gold"),
        ({"keyVault": {"secrets": ["db_password"]}}, "aks-grpc:keyVault.secrets[0]", "db_password"),
        (
            {"keyVault": {"secrets": ["appinsights-connection-string"]}},
            "aks-grpc:keyVault.secrets[0]",
            "written by the platform",
        ),
        (
            {"keyVault": {"secrets": ["api-key", "API-KEY"]}, "secrets": {"api-key": True, "API-KEY": True}},
            "aks-grpc:keyVault.secrets[1]",
            "declared twice",
        ),
        (
            {"keyVault": {"privateEndpoint": {"enabled": True}}},
            "aks-grpc:keyVault.privateEndpoint.subnetId",
            "required",
        ),
        (
            {
                "keyVault": {
                    "privateEndpoint": {"enabled": True, "subnetId": "subnet-1", "virtualNetworkId": "v"}
                }
            },
            "aks-grpc:keyVault.privateEndpoint.subnetId",
            "subnet-1",
        ),
        ({"keyVault": {"secretValidityDays": 7}}, "aks-grpc:keyVault.secretValidityDays", "30"),
    ],
)
def test_bad_monitoring_or_key_vault_setting_is_rejected_naming_its_key(config, key, detail):
    problems = problems_for(config)
    assert any(p.startswith(f"{key}:") and detail in p for p in problems), problems


def test_production_must_route_alerts_somewhere():
    problems = problems_for({"environment": "prod"})
    assert any(p.startswith("aks-grpc:monitoring.alertEmails:") for p in problems), problems


def test_monitoring_defaults_live_in_the_model():
    settings = load_settings(BASE)
    monitoring = settings.monitoring
    assert monitoring.log_retention_days == 30
    assert monitoring.grafana.enabled is False
    assert monitoring.container_insights.namespace_filtering_mode == "Off"
    assert monitoring.alerts.grpc_p99_latency_ms == 500
    assert settings.key_vault.secrets == []
    assert settings.key_vault.private_endpoint.enabled is False


def test_declared_secret_without_a_value_names_the_command_to_set_it():
    problems = problems_for({"keyVault": {"secrets": ["db-password"]}})
    assert problems == [
        "aks-grpc:keyVault.secrets[0]: db-password has no value; set it with "
        "`pulumi config set --secret --path 'aks-grpc:secrets.db-password' <value>`"
    ]


def test_secret_value_that_is_not_declared_is_rejected():
    problems = problems_for({"secrets": {"stray": True}})
    assert problems == [
        "aks-grpc:secrets.stray: has a value but is not declared in aks-grpc:keyVault.secrets"
    ]


def test_secret_value_stored_in_plain_text_is_rejected():
    problems = problems_for({"keyVault": {"secrets": ["api-key"]}, "secrets": {"api-key": False}})
    assert problems == [
        "aks-grpc:secrets.api-key: is stored in plain text; set it again with `pulumi config set --secret`"
    ]


def test_stack_file_secret_values_reach_the_loader_as_names_only():
    stack_config = {
        "aks-grpc:environment": "dev",
        "aks-grpc:location": "westeurope",
        "aks-grpc:keyVault": {"secrets": ["db-password"]},
        "aks-grpc:secrets": {"db-password": {"secure": "v1:CIPHERTEXT"}},
    }
    config = config_from_stack_file(stack_config)
    assert config["secrets"] == {"db-password": True}
    assert "CIPHERTEXT" not in json.dumps(config)
    settings = load_settings(config)
    assert settings.key_vault.secrets == ["db-password"]
    assert "CIPHERTEXT" not in settings.model_dump_json()


def test_stack_file_with_one_encrypted_secrets_object_defers_the_name_check():
    config = config_from_stack_file(
        {**{f"aks-grpc:{k}": v for k, v in BASE.items()}, "aks-grpc:secrets": {"secure": "v1:X"}}
    )
    assert "v1:X" not in json.dumps(config)
    assert load_settings({**config, "keyVault": {"secrets": ["db-password"]}}).key_vault.secrets == [
        "db-password"
    ]


def test_program_config_keeps_secret_values_out_of_the_settings(monkeypatch):
    monkeypatch.setattr(runtime_config, "get_config_env", lambda: {})
    runtime_config.set_all_config(
        {
            "aks-grpc:environment": "dev",
            "aks-grpc:location": "westeurope",
            "aks-grpc:keyVault": json.dumps({"secrets": ["db-password"]}),
            "aks-grpc:secrets": json.dumps({"db-password": "s3cr3t-value"}),
        },
        ["aks-grpc:secrets"],
    )
    try:
        config = config_from_pulumi()
    finally:
        runtime_config.set_all_config({}, [])
    assert config["secrets"] == {"db-password": True}
    assert "s3cr3t-value" not in json.dumps(config)
    assert load_settings(config).key_vault.secrets == ["db-password"]


def test_program_config_with_an_unencrypted_secrets_object_fails(monkeypatch):
    monkeypatch.setattr(runtime_config, "get_config_env", lambda: {})
    monkeypatch.delenv("PULUMI_CONFIG_SECRET_KEYS", raising=False)
    runtime_config.set_all_config(
        {
            **{f"aks-grpc:{k}": v for k, v in BASE.items()},
            "aks-grpc:secrets": json.dumps({"api-key": "plain"}),
        },
        [],
    )
    try:
        config = config_from_pulumi()
    finally:
        runtime_config.set_all_config({}, [])
    with pytest.raises(SettingsError, match="plain text"):
        load_settings({**config, "keyVault": {"secrets": ["api-key"]}})


def test_grafana_viewer_groups_accept_guids():
    settings = load_settings(
        {**BASE, "monitoring": {"grafana": {"enabled": True, "viewerGroupObjectIds": [GROUP]}}}
    )
    assert settings.monitoring.grafana.viewer_group_object_ids == [GROUP]


def _prod_config(grafana: dict) -> dict:
    """The real prod stack file with its Grafana block replaced."""
    import yaml

    from tools.offline_plan import STACKS_DIR

    config = config_from_stack_file(yaml.safe_load((STACKS_DIR / "Pulumi.prod.yaml").read_text())["config"])
    return {**config, "monitoring": {**config["monitoring"], "grafana": grafana}}


def test_prod_grafana_without_an_admin_group_is_refused():
    with pytest.raises(SettingsError) as caught:
        load_settings(_prod_config({"enabled": True, "viewerGroupObjectIds": [GROUP]}))
    assert caught.value.problems == [
        "aks-grpc:monitoring.grafana.adminGroupObjectIds: prod Grafana needs at least one Entra group "
        "object id that gets Grafana Admin"
    ]


def test_prod_grafana_with_an_admin_group_and_dev_grafana_without_one_pass():
    settings = load_settings(_prod_config({"enabled": True, "adminGroupObjectIds": [GROUP]}))
    assert settings.monitoring.grafana.admin_group_object_ids == [GROUP]
    assert load_settings(_prod_config({"enabled": False})).monitoring.grafana.enabled is False
    assert load_settings({**BASE, "monitoring": {"grafana": {"enabled": True}}}).monitoring.grafana.enabled


def test_the_prod_stack_names_a_grafana_admin_group():
    import yaml

    from tools.offline_plan import STACKS_DIR

    config = config_from_stack_file(yaml.safe_load((STACKS_DIR / "Pulumi.prod.yaml").read_text())["config"])
    grafana = load_settings(config).monitoring.grafana
    assert grafana.enabled and grafana.admin_group_object_ids
