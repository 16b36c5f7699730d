"""The whole program under the mock engine, for every stack file in stacks/."""

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PLANNED_STACKS, REPO_ROOT, STACKS, stack_file
from tools.offline_plan import manifests_yaml, plan_stack, plan_tree, read_stack_config, resources_json

REQUIRED_TAGS = {"environment", "project", "managed-by"}


def _takes_tags(resource_type: str) -> bool:
    _, module, class_name = resource_type.split(":")
    cls = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), class_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


def test_there_is_a_dev_and_a_prod_stack():
    assert {"dev", "prod"} <= set(STACKS)


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_every_taggable_azure_resource_carries_the_stack_tags(stack, stack_plan):
    plan = stack_plan(stack)
    config, _ = read_stack_config(stack_file(stack))
    environment = config["aks-grpc:environment"]
    taggable = [
        r for r in plan.resources if r.custom and r.type.startswith("azure-native:") and _takes_tags(r.type)
    ]
    assert taggable, "the plan has no taggable Azure resource"
    for resource in taggable:
        tags = resource.inputs.get("tags") or {}
        assert set(tags) >= REQUIRED_TAGS, f"{resource.type} {resource.name} lacks tags: {tags}"
        assert tags["environment"] == environment, resource.urn


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_every_resource_sits_in_the_tree_with_a_unique_urn(stack, stack_plan):
    plan = stack_plan(stack)
    urns = [r.urn for r in plan.resources]
    assert len(urns) == len(set(urns))
    known = set(urns)
    for resource in plan.resources:
        if resource.type != "pulumi:pulumi:Stack":
            assert resource.parent in known, f"{resource.urn} has no known parent"
        for dependency in resource.dependencies:
            assert dependency in known, f"{resource.urn} waits on unknown {dependency}"


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_components_use_the_project_type_tokens(stack, stack_plan):
    components = [r for r in stack_plan(stack).resources if not r.custom and r.type != "pulumi:pulumi:Stack"]
    for component in components:
        assert component.type.startswith("aksgrpc:"), component.type


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_all_resources_live_in_the_stack_resource_group(stack, stack_plan):
    plan = stack_plan(stack)
    (group,) = plan.of_type("azure-native:resources:ResourceGroup")
    for resource in plan.resources:
        name = resource.inputs.get("resourceGroupName")
        if resource.custom and resource.type.startswith("azure-native:") and name is not None:
            assert name == group.inputs["resourceGroupName"], resource.urn


def _first_difference(first: list[dict], second: list[dict]) -> str:
    if [r["urn"] for r in first] != [r["urn"] for r in second]:
        index = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a["urn"] != b["urn"])
        return f"resource order differs at {index}: {first[index]['urn']} vs {second[index]['urn']}"
    for a, b in zip(first, second, strict=True):
        if a != b:
            extra = sorted(set(a["dependencies"]) ^ set(b["dependencies"]))
            return f"{a['urn']} differs; dependencies in one run only: {extra}"
    return "identical records"


def test_two_plans_of_the_same_stack_are_byte_identical(stack_plan):
    first = stack_plan("dev")  # the session's plan (computed earlier, maybe in another worker)
    second = plan_stack("dev")  # a run of its own
    assert resources_json(first) == resources_json(second), _first_difference(
        json.loads(resources_json(first)), json.loads(resources_json(second))
    )
    assert manifests_yaml(first) == manifests_yaml(second)
    assert plan_tree(first) == plan_tree(second)


def test_resources_json_has_the_documented_shape(stack_plan):
    records = json.loads(resources_json(stack_plan("dev")))
    assert records, "empty plan"
    for record in records:
        assert set(record) == {
            "urn",
            "type",
            "name",
            "custom",
            "parent",
            "provider",
            "dependencies",
            "options",
            "inputs",
        }
        assert isinstance(record["dependencies"], list)
        assert set(record["options"]) == {
            "protect",
            "ignoreChanges",
            "replaceOnChanges",
            "deleteBeforeReplace",
        }


def _run_plan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.offline_plan", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


MODULES_MARKER = "azure-native submodules executed: "


@pytest.fixture(scope="module")
def plan_command(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One fresh interpreter runs the plan command for dev, then reports which azure-native submodules
    it executed (one process serves both tests below: each costs a cold import of the SDKs)."""
    out = tmp_path_factory.mktemp("plan-command")
    code = (
        "import json, sys; from tools.offline_plan import main; code = main(['--stack', 'dev', '--out', sys.argv[1]]);"
        "loaded = sorted({m.split('.')[1] for m, mod in list(sys.modules.items())"
        " if m.startswith('pulumi_azure_native.') and type(mod).__name__ != '_LazyModule'});"
        f"print({MODULES_MARKER!r} + json.dumps(loaded)); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(out)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    return result, out


def test_plan_command_writes_the_three_files(plan_command):
    result, out = plan_command
    assert result.returncode == 0, result.stderr
    for name in ("resources.json", "manifests.yaml", "plan.txt"):
        assert (out / name).stat().st_size > 0
    assert (out / "plan.txt").read_text() in result.stdout
    assert "Resources per type:" in result.stdout


def test_plan_of_a_stack_file_with_an_unknown_cluster_key_exits_2_naming_it(tmp_path):
    import yaml

    document = yaml.safe_load((REPO_ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    cluster = document["config"].setdefault("aks-grpc:cluster", {})
    cluster["nodeCuont"] = 3
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    result = _run_plan("--stack", "dev", "--stack-file", str(stack_file), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "aks-grpc:cluster.nodeCuont: unknown key" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out").exists()


def test_plan_of_an_unknown_stack_lists_the_stacks_that_exist():
    result = _run_plan("--stack", "staging-typo")
    assert result.returncode == 2
    assert "unknown stack 'staging-typo'" in result.stderr
    for stack in STACKS:
        assert stack in result.stderr


def test_program_imports_only_the_azure_native_submodules_it_uses(plan_command):
    # azure-native registers every submodule lazily; only the ones the program touches get executed.
    result, _ = plan_command
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith(MODULES_MARKER))
    loaded = json.loads(line.removeprefix(MODULES_MARKER))
    # azure-native has ~257 submodules; importing all of them costs ~14 s.
    assert len(loaded) <= 20, loaded
    assert "compute" not in loaded and "web" not in loaded, loaded


def test_settings_problems_stop_the_program_before_any_resource(run_mocked, monkeypatch):
    import runpy

    import pulumi

    from tools import mock_engine

    monitors: list[mock_engine.RecordingMonitor] = []

    class WatchedMonitor(mock_engine.RecordingMonitor):
        def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
            super().__init__(mocks)
            monitors.append(self)

    monkeypatch.setattr(mock_engine, "RecordingMonitor", WatchedMonitor)

    def program() -> None:
        runpy.run_path(str(Path(REPO_ROOT) / "__main__.py"), run_name="__main__")

    with pytest.raises(pulumi.RunError) as caught:
        run_mocked(
            program, {"aks-grpc:environment": "dev", "aks-grpc:location": "westeurope", "aks-grpc:bogus": "1"}
        )
    assert "aks-grpc:bogus: unknown key" in str(caught.value)
    (monitor,) = monitors
    assert [r.type for r in monitor.recorded] == ["pulumi:pulumi:Stack"], "a resource was registered"
