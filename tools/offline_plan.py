"""The offline plan: run the whole program under Pulumi's mock engine with a stack's real config.

    python -m tools.offline_plan --stack dev [--out build/dev] [--stack-file path/to/Pulumi.x.yaml]

Writes `resources.json` (every registered resource with the inputs the engine receives and its lifecycle
options: protect, ignoreChanges, replaceOnChanges, deleteBeforeReplace),
`manifests.yaml` (every Kubernetes object) and `plan.txt` (the resource tree and counts). Needs no
cloud credentials, Pulumi CLI or provider plugins. Exit 0 on success, 2 on invalid settings or an
unknown stack.
"""

import argparse
import json
import runpy
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml

from program.settings import SettingsError, config_from_stack_file, load_settings
from tools.mock_engine import Plan, RecordedResource, run_program

REPO_ROOT = Path(__file__).resolve().parent.parent
STACKS_DIR = REPO_ROOT / "stacks"
PLACEHOLDER = "offline-plan-placeholder"


class PlanError(Exception):
    """A problem the user must fix; printed without a traceback, exit code 2."""


def available_stacks(stacks_dir: Path = STACKS_DIR) -> list[str]:
    return sorted(
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in stacks_dir.glob("Pulumi.*.yaml")
    )


def _replace_secure(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ...}` values (encrypted in the stack file) with a placeholder."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return PLACEHOLDER, True
        found = False
        result = {}
        for k, v in value.items():
            result[k], secret = _replace_secure(v)
            found = found or secret
        return result, found
    if isinstance(value, list):
        pairs = [_replace_secure(v) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    return value, False


def read_stack_file_config(stack_file: Path) -> Mapping[str, Any]:
    """A stack file's `config:` block as written (`{secure: ...}` values still encrypted)."""
    try:
        document = yaml.safe_load(stack_file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PlanError(f"{stack_file}: not valid YAML: {exc}") from None
    if not isinstance(document, Mapping):
        raise PlanError(f"{stack_file}: a stack file is a mapping with a `config` block")
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        raise PlanError(f"{stack_file}: `config` must be a mapping")
    return config


def read_stack_config(stack_file: Path) -> tuple[dict[str, Any], list[str]]:
    """A stack file's `config:` block with secure values replaced; also the secret keys."""
    config = read_stack_file_config(stack_file)
    values: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        values[key], secret = _replace_secure(value)
        if secret:
            secret_keys.append(key)
    return values, secret_keys


def plan_stack(stack: str, stack_file: Path | None = None) -> Plan:
    """Validate a stack's settings, then run the program under the mock engine."""
    if stack_file is None:
        stack_file = STACKS_DIR / f"Pulumi.{stack}.yaml"
        if not stack_file.exists():
            raise PlanError(f"unknown stack {stack!r}; stacks that exist: {', '.join(available_stacks())}")
    config, secret_keys = read_stack_config(stack_file)
    try:
        # The file as written: whether each `aks-grpc:secrets` value is encrypted is known only there.
        load_settings(config_from_stack_file(read_stack_file_config(stack_file)))
    except SettingsError as error:
        raise PlanError(f"{stack_file}: {error}") from None
    try:
        return run_program(
            lambda: runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__"),
            config,
            stack=stack,
            secret_keys=secret_keys,
        )
    except pulumi.RunError as error:
        # The program's own settings check (__main__.py) ends it with RunError: same report, same exit.
        raise PlanError(f"{stack_file}: {error}") from None
    except ValueError as error:
        # A component refused its arguments: a rule program/settings/ should have checked first.
        raise PlanError(
            f"{stack_file}: invalid stack settings:\n  - a component refused them, and the settings rules "
            f"missed it (please report it): {error}"
        ) from None


# ---------------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------------


def resources_json(plan: Plan) -> str:
    return json.dumps([r.as_json() for r in plan.resources], indent=2, sort_keys=True) + "\n"


def manifests_yaml(plan: Plan) -> str:
    objects = plan.kubernetes_objects()
    header = f"# Kubernetes objects of stack {plan.stack!r} ({len(objects)}), in the order the program creates them.\n"
    if not objects:
        return header
    return header + "---\n" + yaml.safe_dump_all(objects, sort_keys=False, default_flow_style=False)


def plan_tree(plan: Plan) -> str:
    children: dict[str | None, list[RecordedResource]] = {}
    for resource in plan.resources:
        children.setdefault(resource.parent, []).append(resource)
    lines: list[str] = [f"Offline plan of stack {plan.stack!r}: {len(plan.resources)} resources", ""]

    def walk(parent: str | None, depth: int) -> None:
        for resource in children.get(parent, []):
            kind = "" if resource.custom else "  [component]"
            if resource.options.get("protect"):
                kind += "  [protect]"
            lines.append(f"{'  ' * depth}{resource.type}  {resource.name}{kind}")
            walk(resource.urn, depth + 1)

    walk(None, 0)
    counts = Counter(r.type for r in plan.resources)
    lines += ["", "Resources per type:"]
    lines += [f"  {count:4d}  {resource_type}" for resource_type, count in sorted(counts.items())]
    lines += ["", f"Kubernetes objects: {len(plan.kubernetes_objects())}"]
    return "\n".join(lines) + "\n"


def write_plan(plan: Plan, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "resources.json").write_text(resources_json(plan))
    (out / "manifests.yaml").write_text(manifests_yaml(plan))
    (out / "plan.txt").write_text(plan_tree(plan))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.offline_plan", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="output folder (default build/<stack>)")
    parser.add_argument(
        "--stack-file", type=Path, help="use this stack file instead of stacks/Pulumi.<stack>.yaml"
    )
    args = parser.parse_args(argv)
    out = args.out or REPO_ROOT / "build" / args.stack
    started = time.perf_counter()
    try:
        plan = plan_stack(args.stack, args.stack_file)
    except PlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_plan(plan, out)
    sys.stdout.write(plan_tree(plan))
    print(f"\nWrote {out}/resources.json, manifests.yaml, plan.txt in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
