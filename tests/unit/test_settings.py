"""Stack settings: unknown keys rejected, every problem reported at once with its full config key."""

from pathlib import Path

import pytest
import yaml

from program.settings import SettingsError, config_from_pulumi, config_from_stack_file, load_settings

BASE = {"environment": "dev", "location": "westeurope"}
STACKS = Path(__file__).resolve().parents[2] / "stacks"


def problems_for(config: dict) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, **config})
    return caught.value.problems


@pytest.mark.parametrize(
    ("config", "key", "detail"),
    [
        ({"environment": "Dev"}, "aks-grpc:environment", '"Dev"'),
        ({"environment": "production-eu"}, "aks-grpc:environment", "production-eu"),
        ({"location": "West Europe"}, "aks-grpc:location", "West Europe"),
        ({"workloadName": "9lives"}, "aks-grpc:workloadName", "9lives"),
        ({"tags": {"project": "mine"}}, "aks-grpc:tags.project", "set by the platform"),
        ({"tags": {"team": "x" * 300}}, "aks-grpc:tags.team", "256"),
        ({"clusterr": {}}, "aks-grpc:clusterr", "unknown key"),
        ({"cluster": {"kubernetesVerison": "1.33"}}, "aks-grpc:cluster.kubernetesVerison", "unknown key"),
        ({"cluster": "big"}, "aks-grpc:cluster", "big"),
        ({"cluster": {"kubernetesVersion": "latest"}}, "aks-grpc:cluster.kubernetesVersion", "latest"),
        ({"cluster": {"kubeloginMode": "password"}}, "aks-grpc:cluster.kubeloginMode", "azurecli"),
        ({"keyVault": {"ipRules": ["10.0.0.300"]}}, "aks-grpc:keyVault.ipRules[0]", "10.0.0.300"),
        ({"apim": {"publisherEmail": "not-an-email"}}, "aks-grpc:apim.publisherEmail", "not-an-email"),
        ({"monitoring": {"logRetentionDays": 7}}, "aks-grpc:monitoring.logRetentionDays", "30"),
        (
            {"services": {"greeter": {"autoscaling": {"mode": "magic"}}}},
            "aks-grpc:services.greeter.autoscaling.mode",
            "keda",
        ),
    ],
)
def test_bad_setting_is_rejected_naming_its_key(config, key, detail):
    problems = problems_for(config)
    matching = [p for p in problems if p.startswith(f"{key}:")]
    assert matching, f"no problem names {key}: {problems}"
    assert any(detail in p for p in matching), f"{detail!r} not explained in {matching}"


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"cluster": {"disable_run_command": True}}, "aks-grpc:cluster.disable_run_command"),
        ({"cluster": {"systemPool": {"max_pods": 50}}}, "aks-grpc:cluster.systemPool.max_pods"),
        ({"keyVault": {"ip_rules": ["203.0.113.7"]}}, "aks-grpc:keyVault.ip_rules"),
        ({"workload_name": "greeter"}, "aks-grpc:workload_name"),
    ],
)
def test_snake_case_keys_are_unknown_keys_not_aliases(config, key):
    problems = problems_for(config)
    assert any(p.startswith(f"{key}: unknown key") for p in problems), problems


def test_unknown_key_lists_the_allowed_keys():
    (problem,) = problems_for({"cluster": {"kubernetesVerison": "1.33"}})
    assert "kubernetesVersion" in problem.split("allowed keys:")[1]


def test_every_problem_is_reported_at_once():
    problems = problems_for(
        {
            "environment": "PROD",
            "bogus": 1,
            "apim": {"publisherEmail": "x"},
            "keyVault": {"ipRules": ["nope"]},
        }
    )
    keys = {p.split(":", 2)[0] + ":" + p.split(":", 2)[1] for p in problems}
    assert {
        "aks-grpc:environment",
        "aks-grpc:bogus",
        "aks-grpc:apim.publisherEmail",
        "aks-grpc:keyVault.ipRules[0]",
    } <= keys


def test_missing_required_keys_are_named():
    with pytest.raises(SettingsError) as caught:
        load_settings({})
    assert "aks-grpc:environment: is required" in caught.value.problems
    assert "aks-grpc:location: is required" in caught.value.problems


def test_defaults_live_in_the_model():
    settings = load_settings(BASE)
    assert settings.workload_name == "grpc"
    assert settings.cluster.kubelogin_mode == "azurecli"
    assert settings.standard_tags == {"environment": "dev", "project": "aks-grpc", "managed-by": "pulumi"}


def test_configured_tags_join_the_standard_tags():
    settings = load_settings({**BASE, "tags": {"cost-center": "42"}})
    assert settings.standard_tags["cost-center"] == "42"
    assert settings.standard_tags["managed-by"] == "pulumi"


@pytest.mark.parametrize("stack_file", sorted(STACKS.glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_every_stack_file_is_valid(stack_file):
    config = yaml.safe_load(stack_file.read_text())["config"]
    load_settings(config_from_stack_file(config))


def test_stack_file_keys_of_other_namespaces_are_left_to_their_providers():
    assert config_from_stack_file({"azure-native:location": "x", "aks-grpc:environment": "dev"}) == {
        "environment": "dev"
    }


def test_program_config_parses_objects_but_keeps_scalars_as_strings(monkeypatch):
    import pulumi.runtime

    pulumi.runtime.set_all_config(
        {"aks-grpc:cluster": '{"kubernetesVersion": "1.33"}', "aks-grpc:environment": "dev", "other:key": "1"}
    )
    try:
        assert config_from_pulumi() == {"cluster": {"kubernetesVersion": "1.33"}, "environment": "dev"}
        pulumi.runtime.set_all_config({"aks-grpc:workloadName": "1.30"})
        assert config_from_pulumi() == {"workloadName": "1.30"}
    finally:
        pulumi.runtime.set_all_config({})


def test_nested_models_default_through_validation_so_their_problems_keep_their_key():
    from pydantic import BaseModel

    from program.settings import StackSettings

    def walk(model: type[BaseModel], path: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                assert field.default_factory is dict, f"{path}{name}: use nested() as its default"
                walk(annotation, f"{path}{name}.")

    walk(StackSettings, "")
