"""The components are a library: no settings models, no program code, no environment, no config.

A Pulumi program that installs `aks_grpc` builds every component from its Args alone, so nothing under
components/ may reach for the stack's settings, the program package, the process environment or the
stack's Pulumi config (those are the program's: program/ maps them to Args).
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

LIBRARY = sorted((REPO_ROOT / "components").glob("*.py"))


def _imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ("." * node.level) + (node.module or "")
            found.add(base)
            separator = "" if base.endswith(".") else "."
            found |= {f"{base}{separator}{alias.name}" for alias in node.names}
    return found


def _attribute_chains(tree: ast.Module) -> set[str]:
    return {ast.unparse(node) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.name)
def test_a_component_module_stays_inside_the_library(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imports = _imports(tree)
    program_side = sorted(
        i
        for i in imports
        if i.startswith(("program", "components.settings", ".settings", "tools", "tests", "pydantic"))
        or i in {"os.environ", "os.getenv", "__future__.annotations"}
    )
    assert not program_side, f"{path.name} imports program-side code: {program_side}"
    chains = _attribute_chains(tree)
    reaches = sorted(c for c in chains if c in {"os.environ", "os.getenv", "pulumi.Config"})
    assert not reaches, f"{path.name} reads {reaches}: take the value as an Args field instead"


def test_the_boundary_check_sees_a_settings_import_and_an_environment_read(tmp_path: Path) -> None:
    tree = ast.parse("import os\nfrom .settings import ClusterSettings\nx = os.environ['A']\n")
    assert ".settings.ClusterSettings" in _imports(tree)
    assert "os.environ" in _attribute_chains(tree)
