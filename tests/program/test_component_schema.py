"""schema.json is what Pulumi's component schema analyzer makes of the listed components.

The list is `SCHEMA_COMPONENTS` in components/provider.py (what the provider hosts); the tool
`python -m tools.component_schema` reports every public component that the analyzer refuses, with
each field it cannot map.
"""

import inspect
import json
import re
import runpy
import tomllib
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import yaml
from pulumi.provider.experimental.component import ComponentProvider

from components.provider import PACKAGE_NAME, PACKAGE_VERSION, SCHEMA_COMPONENTS
from tests.conftest import REPO_ROOT
from tools.component_schema import (
    REGENERATE,
    SCHEMA_FILE,
    component_problems,
    package_schema,
    public_components,
    render,
    report,
    schema_is_current,
    without_dependency_versions,
)


def test_the_committed_schema_is_what_the_analyzer_gives() -> None:
    generated = render(package_schema(SCHEMA_COMPONENTS))
    assert SCHEMA_FILE.exists(), f"schema.json is missing: {REGENERATE}"
    assert schema_is_current(generated), f"schema.json is out of date: {REGENERATE}"
    assert without_dependency_versions(SCHEMA_FILE.read_text()) == without_dependency_versions(generated)


def test_the_schema_lists_the_hosted_components_under_the_package_name() -> None:
    schema = package_schema(SCHEMA_COMPONENTS)
    assert schema["name"] == PACKAGE_NAME and schema["version"] == PACKAGE_VERSION
    assert set(schema["resources"]) == {f"{PACKAGE_NAME}:index:{c.__name__}" for c in SCHEMA_COMPONENTS}
    assert all(r["isComponent"] for r in schema["resources"].values())


def test_the_schema_version_is_the_distributions() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == PACKAGE_VERSION


def test_every_listed_component_is_public_and_accepted() -> None:
    public = public_components()
    assert SCHEMA_COMPONENTS, "the provider hosts no component"
    for component in SCHEMA_COMPONENTS:
        assert component in public, f"{component.__name__} is hosted but not exported by the package"
        assert component_problems(component) == []
    lines, listed_ok = report(public)
    assert listed_ok, "\n".join(lines)
    reported = [line.split()[1] for line in lines if not line.startswith(" ")]
    assert sorted(reported) == sorted(c.__name__ for c in public), "every public component is reported once"


def test_the_provider_entry_point_hosts_the_listed_components() -> None:
    plugin = yaml.safe_load((REPO_ROOT / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"
    entry = REPO_ROOT / plugin["main"]
    assert entry.is_file() and entry != REPO_ROOT / "__main__.py", "the stack program is not the plugin"
    # Imported, not run: the module only starts the provider when run as a script.
    namespace = runpy.run_path(str(entry), run_name="provider_entry")
    assert namespace["main"].__module__ == "components.provider"
    # What `component_provider_host` serves, built as it builds it (no engine needed).
    provider = ComponentProvider(SCHEMA_COMPONENTS, PACKAGE_NAME, None, PACKAGE_VERSION)
    assert provider.schema is not None
    assert render(package_schema(SCHEMA_COMPONENTS)) == render(json.loads(provider.schema))


# A component of each kind of mistake the analyzer refuses, to check the report names every field.


@dataclass
class _NestedProbeArgs:
    mode: Literal["a", "b"] = "a"


@dataclass
class _ProbeArgs:
    name: pulumi.Input[str]
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    nested: _NestedProbeArgs | None = None
    size: int = 1


class _Probe(pulumi.ComponentResource):
    ok: pulumi.Output[str]
    child: pulumi.Resource

    def __init__(self, name: str, args: _ProbeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("aksgrpc:test:Probe", name, None, opts)


def test_the_report_names_every_field_the_analyzer_refuses() -> None:
    problems = component_problems(_Probe)
    assert len(problems) == 3, problems
    assert problems[0].startswith("_ProbeArgs.depends_on (input `list[pulumi.resource.Resource]`)")
    assert problems[1].startswith("nested -> _NestedProbeArgs.mode (input `Literal['a', 'b']`)")
    assert problems[2].startswith("_Probe.child (output `Resource`)")


def test_each_component_registers_under_the_token_the_schema_advertises() -> None:
    """A program in another language asks the provider for `aksgrpc:index:<Type>` (the analyzer puts every
    component in the `index` module); the provider builds the class, which registers itself with its own
    token, and the engine takes that URN. Both must be the same string."""
    schema = json.loads((REPO_ROOT / SCHEMA_FILE).read_text(encoding="utf-8"))
    registered: dict[str, str] = {}
    for component in SCHEMA_COMPONENTS:
        source = inspect.getsource(component.__init__)
        match = re.search(r'super\(\).__init__\(\s*"([^"]+)"', source)
        assert match, f"{component.__name__}.__init__ must call super().__init__ with a literal type token"
        registered[component.__name__] = match.group(1)
    advertised = {token.rsplit(":", 1)[1]: token for token in schema["resources"]}
    assert registered == advertised
