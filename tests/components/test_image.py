"""The program builds and pushes its own image when none is configured, and uses a configured one as is.

Checked on the whole program's engine inputs (the dev and prod plans configure no image) and on the pure
helpers of components/image.py: the content tag, the registry token exchange and the arg checks.
"""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from components.common import PrincipalType
from components.image import (
    ACR_TOKEN_USERNAME,
    ServiceImageArgs,
    registry_refresh_token,
    source_tree_tag,
    validate_service_image_args,
)
from program.settings import SettingsError, load_settings
from tests.conftest import REPO_ROOT, STACKS
from tests.program.test_first_deploy import plan_with
from tools.mock_engine import DEPLOYER_OBJECT_ID, FAKE_ACR_REFRESH_TOKEN, FAKE_ENTRA_TOKEN, Plan

IMAGE = "docker-build:index:Image"
COMPONENT = "aksgrpc:index:ServiceImage"
REGISTRY = "azure-native:containerregistry:Registry"
ROLE = "azure-native:authorization:RoleAssignment"
SLEEP = "time:index/sleep:Sleep"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
CI_IMAGE = "crgrpcshared.azurecr.io/grpc-greeter@sha256:" + "ab" * 32


def _workload_container(plan: Plan) -> dict:
    deployment = next(d for d in plan.of_type(DEPLOYMENT) if d.name == "greeter-deployment")
    return deployment.inputs["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize("stack", STACKS)
def test_the_plan_builds_service_for_linux_amd64_and_pushes_it_to_the_stacks_registry(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    plan = stack_plan(stack)
    build = plan.one(IMAGE)
    login_server = plan.outputs["registryLoginServer"]
    assert build.inputs["context"] == {"location": "service"}
    assert build.inputs["dockerfile"] == {"location": "service/Dockerfile"}
    assert build.inputs["platforms"] == ["linux/amd64"]
    assert build.inputs["push"] is True
    assert build.inputs["tags"] == [f"{login_server}/grpc-greeter:{source_tree_tag(REPO_ROOT / 'service')}"]


@pytest.mark.parametrize("stack", STACKS)
def test_the_deployment_runs_the_pushed_digest_of_the_build(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    plan = stack_plan(stack)
    build = plan.one(IMAGE)
    ref = plan.outputs["workloadImage"]  # the build's `ref` output, as the program exports it
    assert ref.startswith(build.inputs["tags"][0] + "@sha256:")
    assert len(ref.rsplit("@sha256:", 1)[1]) == 64
    container = _workload_container(plan)
    assert container["image"] == ref
    deployment = next(d for d in plan.of_type(DEPLOYMENT) if d.name == "greeter-deployment")
    tag = build.inputs["tags"][0].rsplit(":", 1)[1]
    assert deployment.inputs["metadata"]["labels"]["app.kubernetes.io/version"] == tag


@pytest.mark.parametrize("stack", STACKS)
def test_registry_login_is_the_exchanged_entra_token_kept_secret(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    plan = stack_plan(stack)
    build = plan.one(IMAGE)
    login_server = plan.outputs["registryLoginServer"]
    # The password never reaches the state in plain text: the engine receives it as a secret.
    assert build.inputs["registries"] == "[secret]"
    assert build.secret_inputs()["registries"] == [
        {"address": login_server, "username": ACR_TOKEN_USERNAME, "password": FAKE_ACR_REFRESH_TOKEN}
    ]
    exchanges = [args for token, args in plan.invokes if token == "http:index/getHttp:getHttp"]
    assert [a["url"] for a in exchanges] == [f"https://{login_server}/oauth2/exchange"]
    assert any(token == "azure-native:authorization:getClientToken" for token, _ in plan.invokes)
    assert FAKE_ENTRA_TOKEN not in json.dumps([r.inputs for r in plan.resources])


@pytest.mark.parametrize("stack", STACKS)
def test_the_build_waits_for_the_deployers_acr_push_to_propagate(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    plan = stack_plan(stack)
    registry = plan.one(REGISTRY)
    pushes = [r for r in plan.of_type(ROLE) if r.inputs["roleDefinitionId"].endswith(ACR_PUSH)]
    assert len(pushes) == 1
    assert pushes[0].inputs["principalId"] == DEPLOYER_OBJECT_ID
    assert pushes[0].inputs["scope"].endswith(f"/registries/{registry.inputs['registryName']}")
    sleep = next(s for s in plan.of_type(SLEEP) if s.name == "greeter-image-acr-push-propagation")
    assert pushes[0].urn in sleep.dependencies
    assert sleep.urn in plan.one(IMAGE).dependencies


def test_a_configured_image_is_used_as_is_and_nothing_is_built(tmp_path: Path) -> None:
    plan = plan_with(tmp_path, "dev", services={"greeter": {"image": CI_IMAGE}})
    assert plan.of_type(IMAGE) == []
    assert plan.of_type(COMPONENT) == []
    assert not [r for r in plan.of_type(ROLE) if r.inputs["roleDefinitionId"].endswith(ACR_PUSH)]
    assert not [token for token, _ in plan.invokes if token == "http:index/getHttp:getHttp"]
    assert _workload_container(plan)["image"] == CI_IMAGE


def _tree(root: Path) -> Path:
    (root / "generated").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "server.py").write_text("print('hi')\n")
    (root / "generated" / "stub.py").write_text("x = 1\n")
    return root


def test_an_unchanged_tree_keeps_its_tag_and_any_change_gets_a_new_one(tmp_path: Path) -> None:
    first = source_tree_tag(_tree(tmp_path / "a"))
    assert first == source_tree_tag(_tree(tmp_path / "b"))  # another checkout, same bytes
    assert first.startswith("src-") and len(first) == len("src-") + 16
    changed = _tree(tmp_path / "c")
    (changed / "generated" / "stub.py").write_text("x = 2\n")
    assert source_tree_tag(changed) != first
    renamed = _tree(tmp_path / "d")
    (renamed / "server.py").rename(renamed / "main.py")
    assert source_tree_tag(renamed) != first


def test_bytecode_caches_and_dockerignored_files_do_not_change_the_tag(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "a")
    first = source_tree_tag(tree)
    (tree / "__pycache__").mkdir()
    (tree / "__pycache__" / "server.cpython-311.pyc").write_bytes(b"\0")
    (tree / ".dockerignore").write_text("# local notes\nnotes.txt\n")
    with_ignore = source_tree_tag(tree)  # the .dockerignore itself is part of the context
    (tree / "notes.txt").write_text("scratch")
    assert source_tree_tag(tree) == with_ignore
    assert with_ignore != first


def test_the_dockerfile_counts_even_when_dockerignore_lists_it(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "a")
    (tree / ".dockerignore").write_text("Dockerfile\n.dockerignore\n")
    first = source_tree_tag(tree)
    (tree / "Dockerfile").write_text("FROM scratch\nUSER 10001\n")
    assert source_tree_tag(tree) != first


def test_the_repositorys_service_dockerignore_keeps_caches_out() -> None:
    lines = (REPO_ROOT / "service" / ".dockerignore").read_text().splitlines()
    assert {"**/__pycache__", "**/*.pyc"} <= set(lines)


def test_a_refused_token_exchange_fails_with_the_registry_and_status() -> None:
    assert registry_refresh_token('{"refresh_token": "rt"}', 200.0, "cr.azurecr.io") == "rt"
    with pytest.raises(ValueError, match=r"cr\.azurecr\.io/oauth2/exchange answered 401"):
        registry_refresh_token('{"errors": []}', 401, "cr.azurecr.io")
    with pytest.raises(ValueError, match="without a refresh_token"):
        registry_refresh_token("{}", 200, "cr.azurecr.io")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("context", "does-not-exist", "context: does-not-exist is not a directory"),
        ("dockerfile", "Containerfile", "dockerfile: Containerfile not found"),
        ("platform", "linux/sparc", "platform: 'linux/sparc'"),
        ("repository", "Greeter", "repository: 'Greeter'"),
        ("deployer_principal_type", "Robot", "deployer_principal_type: 'Robot' is not a principal type"),
        ("deployer_principal_type", PrincipalType.GROUP, "deployer_principal_type: a group cannot run"),
    ],
)
def test_service_image_args_are_checked_naming_the_field(field: str, value: object, message: str) -> None:
    values = dict(
        context=str(REPO_ROOT / "service"),
        registry_id="/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/cr",
        registry_login_server="cr.azurecr.io",
        subscription_id="s",
        deployer_object_id="o",
    )
    validate_service_image_args(ServiceImageArgs(**values))  # type: ignore[arg-type]
    values[field] = value
    with pytest.raises(ValueError, match=message):
        validate_service_image_args(ServiceImageArgs(**values))  # type: ignore[arg-type]


def test_no_placeholder_image_is_configured_by_default() -> None:
    greeter = load_settings({"environment": "dev", "location": "westeurope"}).services["greeter"]
    assert greeter.image is None
    assert greeter.image_reference == ""


@pytest.mark.parametrize("image", ["cr.azurecr.io/grpc-greeter:latest", "cr.azurecr.io/grpc-greeter"])
def test_a_configured_image_must_be_a_digest_or_a_tag_other_than_latest(image: str) -> None:
    with pytest.raises(SettingsError, match=r"aks-grpc:services\.greeter\.image: "):
        load_settings(
            {"environment": "dev", "location": "westeurope", "services": {"greeter": {"image": image}}}
        )
