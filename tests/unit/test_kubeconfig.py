"""The provider's kubeconfig: kubelogin exec plugin, per login mode, with the environment override."""

import base64

import pytest
import yaml

from components.azure_ids import AKS_AAD_SERVER_APP_ID
from components.kubeconfig import (
    KubeloginMode,
    cluster_endpoint,
    decode_credential,
    kubelogin_args,
    kubelogin_kubeconfig,
)
from program.adapters.cluster import LOGIN_MODE_ENV, effective_login_mode
from tools.mock_engine import FAKE_CA_DATA, fake_kubeconfig

TENANT = "00000000-0000-4000-8000-000000000002"
CLIENT = "00000000-0000-4000-8000-000000000004"
SERVER = "https://aks-grpc-dev-weu-fake.hcp.westeurope.azmk8s.io:443"


def _build(mode: str, **kwargs: str) -> dict:
    text = kubelogin_kubeconfig(
        cluster_name="aks-grpc-dev-weu",
        server=SERVER,
        certificate_authority_data=FAKE_CA_DATA,
        login_mode=mode,
        **kwargs,
    )
    return yaml.safe_load(text)


def _exec(document: dict) -> dict:
    return document["users"][0]["user"]["exec"]


def test_kubeconfig_is_valid_yaml_with_one_consistent_context():
    document = _build("azurecli")
    assert document["apiVersion"] == "v1" and document["kind"] == "Config"
    context = document["contexts"][0]
    assert document["current-context"] == context["name"] == "aks-grpc-dev-weu"
    assert context["context"]["cluster"] == document["clusters"][0]["name"]
    assert context["context"]["user"] == document["users"][0]["name"]
    assert document["clusters"][0]["cluster"] == {
        "server": SERVER,
        "certificate-authority-data": FAKE_CA_DATA,
    }


def test_exec_block_runs_kubelogin_get_token_with_the_aks_server_id():
    exec_block = _exec(_build("azurecli"))
    assert exec_block["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert exec_block["command"] == "kubelogin"
    args = exec_block["args"]
    assert args[0] == "get-token"
    assert (
        args[args.index("--server-id") + 1] == AKS_AAD_SERVER_APP_ID == "6dae42f8-4368-4678-94ff-3960e28e3630"
    )


def test_azurecli_mode_passes_no_tenant_or_client():
    # kubelogin convert-kubeconfig -l azurecli does the same: the CLI knows its tenant (kubelogin#123).
    assert _exec(_build("azurecli", tenant_id=TENANT, client_id=CLIENT))["args"] == [
        "get-token",
        "--login",
        "azurecli",
        "--server-id",
        AKS_AAD_SERVER_APP_ID,
    ]


def test_workloadidentity_mode_passes_client_and_tenant():
    assert _exec(_build("workloadidentity", tenant_id=TENANT, client_id=CLIENT))["args"] == [
        "get-token",
        "--login",
        "workloadidentity",
        "--server-id",
        AKS_AAD_SERVER_APP_ID,
        "--client-id",
        CLIENT,
        "--tenant-id",
        TENANT,
    ]


def test_workloadidentity_mode_leaves_client_to_the_environment_when_unknown():
    args = kubelogin_args("workloadidentity", tenant_id=TENANT)
    assert "--client-id" not in args and args[-2:] == ["--tenant-id", TENANT]


def test_spn_mode_passes_client_and_tenant_but_never_a_secret():
    args = _exec(_build("spn", tenant_id=TENANT, client_id=CLIENT))["args"]
    assert args[:5] == ["get-token", "--login", "spn", "--server-id", AKS_AAD_SERVER_APP_ID]
    assert args[args.index("--client-id") + 1] == CLIENT
    assert args[args.index("--tenant-id") + 1] == TENANT
    assert not any("secret" in a or "password" in a for a in args)


@pytest.mark.parametrize("missing", ["client_id", "tenant_id"])
def test_spn_mode_requires_client_and_tenant(missing):
    kwargs = {"client_id": CLIENT, "tenant_id": TENANT}
    kwargs[missing] = ""
    with pytest.raises(ValueError, match=missing):
        kubelogin_args("spn", **kwargs)


def test_unknown_login_mode_is_rejected():
    with pytest.raises(ValueError, match="devicecode"):
        kubelogin_args("devicecode")


def test_environment_variable_overrides_the_configured_mode():
    assert effective_login_mode("azurecli", {LOGIN_MODE_ENV: "workloadidentity"}) is (
        KubeloginMode.WORKLOAD_IDENTITY
    )
    assert effective_login_mode("azurecli", {}) is KubeloginMode.AZURE_CLI
    assert effective_login_mode("spn", {LOGIN_MODE_ENV: ""}) is KubeloginMode.SPN


def test_the_login_mode_enum_and_its_value_give_the_same_arguments():
    for mode in KubeloginMode:
        assert kubelogin_args(mode, tenant_id=TENANT, client_id=CLIENT) == kubelogin_args(
            mode.value, tenant_id=TENANT, client_id=CLIENT
        )


def test_the_component_module_reads_no_environment():
    import inspect

    import components.kubeconfig

    source = inspect.getsource(components.kubeconfig)
    assert "os.environ" not in source and "import os" not in source


def test_environment_override_name_is_the_one_ci_sets():
    assert LOGIN_MODE_ENV == "AKS_GRPC_KUBELOGIN_MODE"


def test_invalid_environment_override_names_the_variable():
    with pytest.raises(ValueError, match="AKS_GRPC_KUBELOGIN_MODE"):
        effective_login_mode("azurecli", {LOGIN_MODE_ENV: "msi"})


def test_endpoint_is_read_from_the_aks_user_credentials():
    text = fake_kubeconfig("aks-x", SERVER, "clusterUser_aks-x")
    credential = base64.b64encode(text.encode()).decode()
    endpoint = cluster_endpoint(decode_credential(credential))
    assert endpoint.server == SERVER
    assert endpoint.certificate_authority_data == FAKE_CA_DATA


def test_credentials_without_a_cluster_are_rejected():
    with pytest.raises(ValueError, match="certificate-authority-data"):
        cluster_endpoint("apiVersion: v1\nclusters: []\n")


def test_plain_http_server_is_rejected():
    with pytest.raises(ValueError, match="server"):
        kubelogin_kubeconfig(
            cluster_name="c",
            server="http://x",
            certificate_authority_data=FAKE_CA_DATA,
            login_mode="azurecli",
        )
