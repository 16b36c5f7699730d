"""Each class of bad configuration issue 12 found is refused before any resource exists, naming its key.

One test per class; each asserts the exact config key, so a refusal reported elsewhere (or a traceback)
fails it. The offline-plan tests run `tools.offline_plan.main` in-process, as the user's command would.
"""

import contextlib
import datetime
import io
from pathlib import Path

import pytest

from components.naming import DERIVED_NAMES, SERVICE_KEY
from program.settings import (
    CLUSTER_OWNED_NAMESPACES,
    RESERVED_SECRET_NAMES,
    SettingsError,
    StackSettings,
    load_settings,
)
from tools import offline_plan

BASE = {"environment": "dev", "location": "westeurope"}
TODAY = datetime.date(2026, 12, 3)


def problems_for(config: dict) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load_settings({**BASE, **config}, today=TODAY)
    return caught.value.problems


def keys_of(problems: list[str]) -> list[str]:
    return [p.partition(": ")[0] for p in problems]


def plan_cli(tmp_path: Path, stack_yaml: str) -> tuple[int, str]:
    """Run the offline plan on a stack file; (exit code, stderr). A traceback escapes as an exception."""
    stack_file = tmp_path / "Pulumi.test.yaml"
    stack_file.write_text(stack_yaml)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = offline_plan.main(
            ["--stack", "test", "--stack-file", str(stack_file), "--out", str(tmp_path / "out")]
        )
    return code, err.getvalue()


STACK_HEAD = "config:\n  aks-grpc:environment: dev\n  aks-grpc:location: westeurope\n"


# --- crash instead of exit 2 -------------------------------------------------------------------------


def test_plain_text_secret_in_the_stack_file_is_a_settings_error_not_a_traceback(tmp_path):
    code, err = plan_cli(
        tmp_path,
        STACK_HEAD + "  aks-grpc:secrets:\n    db-password: hunter2\n"
        "  aks-grpc:keyVault:\n    secrets: [db-password]\n",
    )
    assert code == 2
    assert "aks-grpc:secrets.db-password: is stored in plain text" in err
    assert "Traceback" not in err and "hunter2" not in err


def test_encrypted_secret_in_the_stack_file_still_plans(tmp_path):
    code, err = plan_cli(
        tmp_path,
        STACK_HEAD + "  aks-grpc:secrets:\n    db-password:\n      secure: v1:AAAA\n"
        "  aks-grpc:keyVault:\n    secrets: [db-password]\n",
    )
    assert (code, err) == (0, "")


def test_ephemeral_os_disk_larger_than_the_vm_holds_is_refused_at_its_key(tmp_path):
    problems = problems_for({"cluster": {"userPool": {"osDiskType": "Ephemeral", "osDiskSizeGb": 400}}})
    assert keys_of(problems) == ["aks-grpc:cluster.userPool.osDiskSizeGb"]
    assert "150 GiB" in problems[0]
    code, err = plan_cli(
        tmp_path,
        STACK_HEAD + "  aks-grpc:cluster:\n    systemPool: {osDiskType: Ephemeral, osDiskSizeGb: 400}\n",
    )
    assert code == 2 and "aks-grpc:cluster.systemPool.osDiskSizeGb:" in err and "Traceback" not in err


# --- not every problem listed --------------------------------------------------------------------------


def test_model_rules_run_although_a_field_of_the_same_model_fails():
    problems = problems_for({"cluster": {"kubernetesVersion": "1.33.3", "systemPool": {"maxPods": 5}}})
    keys = keys_of(problems)
    assert keys[0] == "aks-grpc:cluster.systemPool.maxPods"
    assert keys.count("aks-grpc:cluster.kubernetesVersion") == 2  # end of life + exact patch vs channel


def test_environment_rules_run_although_a_field_fails():
    problems = problems_for(
        {
            "environment": "prod",
            "cluster": {
                "skuTier": "Free",
                "zones": [],
                "sandboxLocalAccounts": True,
                "registry": {"sku": "Basic"},
                "systemPool": {"maxPods": 5},
            },
            "apim": {"sku": "Developer"},
            "services": {"greeter": {"autoscaling": {"minReplicas": 1}}},
        }
    )
    assert sorted(keys_of(problems)) == sorted(
        [
            "aks-grpc:cluster.systemPool.maxPods",
            "aks-grpc:cluster.zones",
            "aks-grpc:cluster.sandboxLocalAccounts",
            "aks-grpc:cluster.skuTier",
            "aks-grpc:cluster.registry.sku",
            "aks-grpc:monitoring.alertEmails",
            "aks-grpc:apim.sku",
            "aks-grpc:services.greeter.autoscaling.minReplicas",
        ]
    )


def test_a_rule_about_a_field_that_failed_is_not_reported_with_its_default():
    # minCount failed: the min <= max rule would compare the default (2) with maxCount 1.
    problems = problems_for({"cluster": {"systemPool": {"minCount": "two", "maxCount": 1}}})
    assert keys_of(problems) == ["aks-grpc:cluster.systemPool.minCount"]


# --- accepted but wrong --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gateway", "key"),
    [
        ({"cpuRequest": "3", "cpuLimit": "2"}, "aks-grpc:apim.gateway.cpuLimit"),
        ({"memoryRequest": "3Gi", "memoryLimit": "2Gi"}, "aks-grpc:apim.gateway.memoryLimit"),
    ],
)
def test_gateway_request_above_its_limit_is_refused(gateway, key):
    assert keys_of(problems_for({"apim": {"gateway": gateway}})) == [key]


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"cluster": {"disable_run_command": True}}, "aks-grpc:cluster.disable_run_command"),
        ({"workload_name": "grpc"}, "aks-grpc:workload_name"),
        ({"apim": {"gateway": {"cpu_request": "1"}}}, "aks-grpc:apim.gateway.cpu_request"),
    ],
)
def test_snake_case_keys_are_unknown_keys(config, key):
    problems = problems_for(config)
    assert keys_of(problems) == [key]
    assert "unknown key" in problems[0]


def test_stack_settings_read_by_alias_refuse_field_names():
    with pytest.raises(ValueError, match="disable_run_command"):
        StackSettings.model_validate(
            {**BASE, "cluster": {"disable_run_command": True}}, by_alias=True, by_name=False
        )


def test_service_name_is_bounded_by_the_tightest_name_it_becomes():
    namespace = "grpc-greeter"
    room = 64 - len(".svc.cluster.local") - 1 - len(namespace)  # the backend certificate's common name
    ingress = {"host": "grpc.example.com"}
    load_settings({**BASE, "services": {"a" * room: {"namespace": namespace, "ingress": ingress}}})
    name = "a" * (room + 1)
    problems = problems_for({"services": {name: {"namespace": namespace, "ingress": ingress}}})
    assert keys_of(problems) == [f"aks-grpc:services.{name}"]
    assert f"at most {room + len(namespace)} characters" in problems[0]


def test_a_service_name_must_start_with_a_letter():
    assert keys_of(problems_for({"services": {"1greeter": {}}})) == ["aks-grpc:services.1greeter"]
    assert keys_of(problems_for({"apim": {"gateway": {"name": "9gw"}}})) == ["aks-grpc:apim.gateway.name"]


def test_gateway_federated_credential_name_bounds_gateway_name_and_namespace():
    problems = problems_for({"apim": {"gateway": {"name": "g" * 60, "namespace": "n" * 60}}})
    assert keys_of(problems) == ["aks-grpc:apim.gateway.namespace"]
    assert "120" in problems[0]


@pytest.mark.parametrize("derived", DERIVED_NAMES, ids=lambda d: d.template)
def test_every_derived_name_is_checked_against_its_rule(derived):
    # Every part of the name at its longest and starting with a digit breaks each table rule; a per-service
    # name is checked for a service whose own name is fine but whose parts are not.
    config: dict = {}
    service = "s" + "a" * 57  # a valid service name, long enough to break every length rule it is part of
    reported = []
    for key in derived.keys:
        concrete = key.replace(SERVICE_KEY, f"services.{service}")
        reported.append(concrete)
        if key == SERVICE_KEY:
            config.setdefault("services", {}).setdefault(service, {"namespace": "n" * 20})
            continue
        node = config
        *parents, leaf = concrete.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = "9" + "a" * 62
    if derived.when.endswith("ingress.host"):
        config.setdefault("services", {}).setdefault(service, {})["ingress"] = {"host": "grpc.example.com"}
        config["cluster"] = {"istio": {"externalIngressGateway": True}}
    assert f"aks-grpc:{reported[0]}" in keys_of(problems_for(config))


@pytest.mark.parametrize("namespace", ["apim-gateway"])
def test_service_namespace_equal_to_the_gateway_namespace_is_refused(namespace):
    problems = problems_for({"services": {"greeter": {"namespace": namespace}}})
    assert keys_of(problems) == ["aks-grpc:apim.gateway.namespace"]
    assert "services.greeter.namespace" in problems[0]
    load_settings({**BASE, "services": {"greeter": {"namespace": namespace}}, "apim": {"enabled": False}})


@pytest.mark.parametrize(
    "namespace", [*CLUSTER_OWNED_NAMESPACES, "aks-istio-system", "aks-istio-ingress", "kube-anything"]
)
@pytest.mark.parametrize(
    ("area", "key"),
    [("service", "aks-grpc:services.greeter.namespace"), ("gateway", "aks-grpc:apim.gateway.namespace")],
)
def test_a_namespace_the_cluster_owns_is_refused(namespace, area, key):
    config = (
        {"services": {"greeter": {"namespace": namespace}}}
        if area == "service"
        else {"apim": {"gateway": {"namespace": namespace}}}
    )
    assert keys_of(problems_for(config)) == [key]


@pytest.mark.parametrize("name", [*RESERVED_SECRET_NAMES, "APIM-GRPC-SUBSCRIPTION-KEY"])
def test_a_declared_secret_named_like_one_the_stack_writes_is_refused(name):
    problems = problems_for({"keyVault": {"secrets": [name]}, "secrets": {name: True}})
    assert keys_of(problems) == ["aks-grpc:keyVault.secrets[0]"]


def test_a_declared_secret_named_like_the_ingress_certificate_is_refused():
    problems = problems_for(
        {
            "keyVault": {"secrets": ["ingress-tls"]},
            "secrets": {"ingress-tls": True},
            "services": {"greeter": {"ingress": {"host": "grpc.example.com"}}},
            "cluster": {"istio": {"externalIngressGateway": True}},
        }
    )
    assert keys_of(problems) == ["aks-grpc:keyVault.secrets[0]"]


def test_a_declared_secret_named_like_any_service_backend_tls_secret_is_refused():
    problems = problems_for(
        {
            "keyVault": {"secrets": ["orders-tls"]},
            "secrets": {"orders-tls": True},
            "services": {"greeter": {}, "orders": {"proto": "examples/protos/orders.proto"}},
        }
    )
    assert keys_of(problems) == ["aks-grpc:keyVault.secrets[0]"]
    assert "services.orders" in problems[0]


def test_api_host_equal_to_a_service_ingress_host_is_refused():
    problems = problems_for(
        {
            "apim": {"apiHost": "grpc.example.com", "apiHostCertificateId": "grpc-cert"},
            "services": {"greeter": {"ingress": {"host": "grpc.example.com"}}},
        }
    )
    assert keys_of(problems) == ["aks-grpc:apim.apiHost"]


# --- minor ---------------------------------------------------------------------------------------------


def test_an_empty_tag_name_is_reported_at_a_readable_key():
    problems = problems_for({"tags": {"": "x"}})
    assert keys_of(problems) == ['aks-grpc:tags[""]']


def test_unknown_keys_under_apim_jwt_list_the_allowed_keys():
    problems = problems_for(
        {"apim": {"jwt": {"openidConfigUrl": "https://login.example.com/x", "audiences": ["a"], "aud": "a"}}}
    )
    assert problems == [
        "aks-grpc:apim.jwt.aud: unknown key; allowed keys: audiences, issuers, openidConfigUrl"
    ]


# --- the configuration reference says what is refused -------------------------------------------------


def test_the_configuration_reference_names_what_each_rule_refuses():
    from tools.config_reference import README, REFUSED_BY_RULES, rows

    keys = {key for key, *_ in rows()}
    assert set(REFUSED_BY_RULES) <= keys, set(REFUSED_BY_RULES) - keys
    text = README.read_text()
    assert "| key | type | default | meaning | refused |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `aks-grpc:apim.gateway.cpuLimit`"))
    assert row.rstrip(" |").endswith("below `cpuRequest`")


def test_a_component_refusal_the_settings_missed_exits_2_without_a_traceback(tmp_path, monkeypatch):
    # Fault injection: a component validator refusing what the settings accepted (a missing rule).
    import components.aks

    def refuse(*_: object) -> None:
        raise ValueError("settings.userPool: refused by the component")

    monkeypatch.setattr(components.aks, "validate_aks_cluster_args", refuse)
    code, err = plan_cli(tmp_path, STACK_HEAD)
    assert code == 2
    assert "refused by the component" in err and "please report it" in err and "Traceback" not in err
