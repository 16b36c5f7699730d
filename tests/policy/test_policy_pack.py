"""The pack against the real program: every policy over every stack's offline plan, plus the pack's wiring
(`__main__.py`, PulumiPolicy.yaml) and its documentation."""

import importlib
import inspect
import re
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi_policy
import pytest
import yaml
from policy_harness import evaluate_plan
from pulumi_policy import EnforcementLevel

from policy.policies import ALL_POLICIES, TAGGABLE_TYPES, azure_type
from tests.conftest import PLANNED_STACKS
from tools.mock_engine import Plan
from tools.offline_plan import available_stacks

REPO = Path(__file__).resolve().parents[2]
STACKS = available_stacks()
PACKAGE = "aksgrpc_policy"  # policy/__main__.py PACKAGE: the pack's own name when the CLI runs it


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_offline_plan_has_no_mandatory_violation(stack: str, stack_plan: Callable[[str], Plan]) -> None:
    findings = evaluate_plan(stack_plan(stack), ALL_POLICIES)
    advisory = [f for f in findings if f.level == EnforcementLevel.ADVISORY]
    mandatory = [f for f in findings if f.level == EnforcementLevel.MANDATORY]
    print(f"\npolicy report for stack {stack}: {len(mandatory)} mandatory, {len(advisory)} advisory")
    for finding in advisory:
        print(f"  {finding}")
    assert not mandatory, "mandatory policy violations:\n" + "\n".join(str(f) for f in mandatory)


def _sdk_takes_tags(token: str) -> bool:
    module, _, name = token.partition(":")
    resource_class: Any = getattr(importlib.import_module(f"pulumi_azure_native.{module}"), name)
    return "tags" in inspect.signature(resource_class._internal_init).parameters


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_every_taggable_type_in_the_plan_is_known_to_the_tag_policy(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    # The pack cannot import the provider SDK (own small venv), so it keeps a list; this keeps it honest.
    tokens = {azure_type(r.type) for r in stack_plan(stack).resources if r.custom} - {None}
    unknown = sorted(t for t in tokens if t and _sdk_takes_tags(t) and t not in TAGGABLE_TYPES)
    assert unknown == [], "add these to policy.tags.TAGGABLE_TYPES"


def test_taggable_types_all_take_tags_in_the_sdk() -> None:
    assert [t for t in sorted(TAGGABLE_TYPES) if not _sdk_takes_tags(t)] == []


def test_pack_main_builds_the_pack_from_all_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    built: dict[str, Any] = {}

    def fake_pack(**kwargs: Any) -> None:  # the real PolicyPack starts a server and never returns
        built.update(kwargs)

    def loaded_pack_modules() -> list[str]:
        return [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]

    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    for module in loaded_pack_modules():
        monkeypatch.delitem(sys.modules, module)
    try:
        # The CLI runs the pack directory the same way (pulumi.policy.__main__: runpy.run_path).
        runpy.run_path(str(REPO / "policy"), run_name="__main__")
        # The pack loaded its own copy of the modules (as the CLI would), not the tests' `policy` package.
        assert built["policies"] is sys.modules[f"{PACKAGE}.policies"].ALL_POLICIES
    finally:
        for module in loaded_pack_modules():
            sys.modules.pop(module, None)
    assert built["name"] == "aks-grpc"
    assert [p.name for p in built["policies"]] == [p.name for p in ALL_POLICIES]


def test_pulumi_policy_yaml_runs_python_in_the_packs_own_virtualenv() -> None:
    document = yaml.safe_load((REPO / "policy" / "PulumiPolicy.yaml").read_text())
    assert document["runtime"]["name"] == "python"
    assert document["runtime"]["options"]["virtualenv"] == "venv"
    assert document["description"]
    requirements = (REPO / "policy" / "requirements.txt").read_text()
    assert re.search(r"^pulumi-policy>=[\d.]+,<\d+$", requirements, re.M)
    assert re.search(r"^pulumi>=[\d.]+,<\d+$", requirements, re.M)


def test_docs_table_lists_every_policy_with_its_enforcement_level() -> None:
    text = (REPO / "docs" / "policy.md").read_text()
    rows = {
        cells[0].strip("` "): cells
        for line in text.splitlines()
        if line.startswith("|") and (cells := [c.strip() for c in line.strip("|").split("|")])
    }
    for policy in ALL_POLICIES:
        assert policy.name in rows, f"docs/policy.md has no row for {policy.name}"
        level = policy.enforcement_level.value if policy.enforcement_level else ""
        assert any(cell.lower() == level for cell in rows[policy.name]), (
            f"{policy.name}: document it as {level}"
        )


@pytest.mark.parametrize("stack", PLANNED_STACKS)
def test_the_egress_policy_passes_the_plan_and_flags_it_without_the_egress_rule(
    stack: str, stack_plan: Callable[[str], Plan]
) -> None:
    import copy

    from policy_harness import plan_stack_args, violations

    from policy.policies import keyvault_admits_cluster_egress

    plan = stack_plan(stack)
    assert violations(keyvault_admits_cluster_egress, plan_stack_args(plan)) == []
    broken = copy.deepcopy(plan)
    vault = next(r for r in broken.resources if r.type == "azure-native:keyvault:Vault")
    vault.inputs["properties"]["networkAcls"]["ipRules"] = []
    vault.dependencies = [d for d in vault.dependencies if "PublicIPAddress" not in d]
    assert violations(keyvault_admits_cluster_egress, plan_stack_args(broken))
