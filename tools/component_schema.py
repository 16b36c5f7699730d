"""The package's Pulumi schema (schema.json), from Pulumi's component schema analyzer.

    python -m tools.component_schema            # every public component: accepted, or why not
    python -m tools.component_schema --write    # write schema.json from components/provider.py's list
    python -m tools.component_schema --check    # exit 1 when schema.json is not what the code gives

The analyzer (`pulumi.provider.experimental.analyzer`) is what `component_provider_host` runs when
Pulumi loads the plugin (PulumiPlugin.yaml): it derives the schema from the type annotations of each
component's `args` and of its class-level attributes (the outputs). It stops at the first type it
cannot map; this tool analyses every component alone and, when one fails, every field of its Args and
outputs (and of nested Args types) on its own, so one run lists every field to fix.
"""

import argparse
import dataclasses
import enum
import inspect
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

import pulumi
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.schema import generate_schema

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import components  # noqa: E402
from components.provider import PACKAGE_NAME, PACKAGE_VERSION, SCHEMA_COMPONENTS  # noqa: E402

SCHEMA_FILE = REPO_ROOT / "schema.json"
REGENERATE = "run python -m tools.component_schema --write"

Component = type[pulumi.ComponentResource]


def public_components() -> list[Component]:
    """Every ComponentResource the package exports (`components.__all__`), in that order."""
    found = [getattr(components, name) for name in components.__all__]
    return [c for c in found if inspect.isclass(c) and issubclass(c, pulumi.ComponentResource)]


def package_schema(selected: list[Component]) -> dict[str, Any]:
    """The Pulumi package schema the component provider serves for `selected`."""
    result = Analyzer(PACKAGE_NAME).analyze(selected)
    dependencies = sorted(result["dependencies"], key=lambda d: f"{d.name}{d.version}")
    spec = generate_schema(
        PACKAGE_NAME,
        PACKAGE_VERSION,
        None,
        result["component_definitions"],
        result["type_definitions"],
        dependencies,
    )
    return spec.to_json()


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def without_dependency_versions(text: str) -> str:
    """The schema with the SDK versions it refers to masked (`/azure-native/v3.29.0/` -> `/azure-native/v*/`).

    The analyzer writes the versions of the installed provider SDKs (requirements.txt gives ranges),
    so a newer SDK in a fresh venv changes them without any change here: `--check` and the test
    compare the rest.
    """
    schema = json.loads(re.sub(r'("/[a-z0-9-]+/v)[^/"]+(/schema\.json)', r"\1*\2", text))
    for dependency in schema.get("dependencies", []):
        dependency["version"] = "*"
    return render(schema)


def _annotations(owner: type) -> dict[str, Any]:
    """The annotations the analyzer reads: the class and its bases, public names only."""
    found: dict[str, Any] = {}
    for cls in reversed(owner.__mro__):
        if cls in (object, pulumi.Resource, pulumi.ComponentResource):
            continue
        found.update(inspect.get_annotations(cls))
    return {k: v for k, v in found.items() if not k.startswith("_")}


def _nested_types(annotation: Any) -> list[type]:
    """User-defined classes inside an annotation (`list[X] | None` -> [X]) the analyzer recurses into."""
    if inspect.isclass(annotation) and typing.get_origin(annotation) is None:
        builtin = annotation.__module__ in ("builtins", "typing")
        skip = builtin or issubclass(annotation, enum.Enum | pulumi.Resource)
        return [] if skip else [annotation]
    return [t for arg in typing.get_args(annotation) for t in _nested_types(arg)]


def _field_problems(owner: type, is_output: bool, where: str, seen: set[type]) -> list[str]:
    problems: list[str] = []
    for name, annotation in _annotations(owner).items():
        try:
            Analyzer(PACKAGE_NAME).analyze_property(
                annotation, owner, name, can_be_plain=not is_output, is_component_output=is_output
            )
            continue
        except Exception as exc:  # the analyzer raises plain Exception, TypeError, ValueError...
            error = f"{type(exc).__name__}: {exc}"
        nested = [t for t in _nested_types(annotation) if t not in seen]
        inner: list[str] = []
        kind = "output" if is_output else "input"
        field = f"{where}{owner.__name__}.{name} ({kind} `{_spelled(annotation)}`)"
        for nested_type in nested:
            seen.add(nested_type)
            if not (dataclasses.is_dataclass(nested_type) or _annotations(nested_type)):
                continue
            found = _field_problems(nested_type, is_output, f"{where}{name} -> ", seen)
            if hasattr(nested_type, "model_fields"):  # a pydantic (settings) model: one line, not dozens
                found = [
                    f"{field}: a pydantic model, {len(found)} of its fields cannot be mapped, e.g. {found[0]}"
                ]
            inner += found
        problems += inner or [f"{field}: {error}"]
    return problems


def _spelled(annotation: Any) -> str:
    text = annotation.__name__ if inspect.isclass(annotation) else str(annotation)
    return text.replace("typing.", "").replace("collections.abc.", "")


def component_problems(component: Component) -> list[str]:
    """Why the analyzer refuses `component`, one line per field it cannot map ([] when it accepts it)."""
    try:
        Analyzer(PACKAGE_NAME).analyze([component])
        return []
    except Exception as exc:
        whole = f"{type(exc).__name__}: {exc}"
    args_type = inspect.get_annotations(component.__init__).get("args")
    if args_type is None:
        return [f"{component.__name__}.__init__ has no annotated `args` parameter"]
    seen: set[type] = {args_type, component}
    problems = _field_problems(args_type, False, "", seen) + _field_problems(component, True, "", seen)
    return problems or [whole]


def report(candidates: list[Component]) -> tuple[list[str], bool]:
    """Lines of the report for `candidates`, and whether every listed (schema) component passes."""
    listed_ok = True
    lines: list[str] = []
    for component in candidates:
        problems = component_problems(component)
        listed = component in SCHEMA_COMPONENTS
        if not problems:
            note = (
                "in schema.json"
                if listed
                else "accepted: add it to SCHEMA_COMPONENTS (components/provider.py)"
            )
            lines.append(f"ok    {component.__name__} ({note})")
            continue
        listed_ok = listed_ok and not listed
        lines.append(f"FAIL  {component.__name__}{' (listed in SCHEMA_COMPONENTS)' if listed else ''}")
        lines += [f"        {p}" for p in problems]
    try:
        Analyzer(PACKAGE_NAME).analyze(SCHEMA_COMPONENTS)
    except Exception as exc:  # e.g. two listed components with a type of the same name
        listed_ok = False
        lines.append(f"FAIL  the listed components together: {type(exc).__name__}: {exc}")
    return lines, listed_ok


def schema_is_current(text: str) -> bool:
    """Whether schema.json is `text` (the generated schema), SDK versions aside."""
    if not SCHEMA_FILE.exists():
        return False
    return without_dependency_versions(SCHEMA_FILE.read_text()) == without_dependency_versions(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="write schema.json")
    action.add_argument("--check", action="store_true", help="compare schema.json with the code")
    options = parser.parse_args(argv)

    lines, listed_ok = report(public_components())
    if not (options.write or options.check) or not listed_ok:
        print("\n".join(lines))
    if not listed_ok:
        print("a component in SCHEMA_COMPONENTS is refused by the analyzer (see above)", file=sys.stderr)
        return 1
    text = render(package_schema(SCHEMA_COMPONENTS))
    if options.write:
        SCHEMA_FILE.write_text(text)
        print(f"wrote {SCHEMA_FILE.relative_to(REPO_ROOT)} ({len(SCHEMA_COMPONENTS)} components)")
    elif options.check and not schema_is_current(text):
        print(f"schema.json is out of date: {REGENERATE}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
