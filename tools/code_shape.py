"""The shape of the code: module sizes and the longest functions, component constructors first.

    venv/bin/python -m tools.code_shape            # table of the longest functions
    venv/bin/python -m tools.code_shape --limit 150 # exit 1 if a ComponentResource constructor is longer

A constructor's length is its source lines, docstring and blank lines included: what a reader scrolls
through. tests/unit/test_code_shape.py holds the limit the issue set (about a page, 150 lines).
"""

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("components", "program", "policy", "tools", "service")
CONSTRUCTOR_LIMIT = 150


@dataclass(frozen=True)
class FunctionShape:
    path: str
    name: str  # Class.method or function
    lines: int
    component_constructor: bool


def _is_component(node: ast.ClassDef) -> bool:
    for base in node.bases:
        text = ast.unparse(base)
        if text.endswith("ComponentResource"):
            return True
    return False


def functions(path: Path) -> list[FunctionShape]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    relative = path.relative_to(REPO_ROOT).as_posix()
    shapes: list[FunctionShape] = []

    def visit(node: ast.AST, prefix: str, component: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.", _is_component(child))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                assert child.end_lineno is not None
                length = child.end_lineno - child.lineno + 1
                constructor = component and child.name == "__init__"
                shapes.append(FunctionShape(relative, prefix + child.name, length, constructor))
                visit(child, f"{prefix}{child.name}.", False)

    visit(tree, "", False)
    return shapes


def python_files(root: Path = REPO_ROOT) -> list[Path]:
    files: list[Path] = []
    for folder in FOLDERS:
        files += sorted(p for p in (root / folder).rglob("*.py") if "generated" not in p.parts)
    return [*files, root / "__main__.py"]


def module_lines(files: list[Path]) -> list[tuple[str, int]]:
    return [
        (p.relative_to(REPO_ROOT).as_posix(), len(p.read_text(encoding="utf-8").splitlines())) for p in files
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.code_shape", description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15, help="how many of the longest functions to list")
    parser.add_argument("--limit", type=int, help="exit 1 if a component constructor is longer than this")
    args = parser.parse_args(argv)
    files = python_files()
    shapes = [s for p in files for s in functions(p)]
    constructors = sorted((s for s in shapes if s.component_constructor), key=lambda s: -s.lines)
    print("# component constructors (lines)")
    for s in constructors:
        print(f"{s.lines:5d}  {s.path}  {s.name}")
    print(f"# longest functions (top {args.top})")
    for s in sorted(shapes, key=lambda s: -s.lines)[: args.top]:
        print(f"{s.lines:5d}  {s.path}  {s.name}")
    print("# largest modules")
    for path, count in sorted(module_lines(files), key=lambda pc: -pc[1])[: args.top]:
        print(f"{count:5d}  {path}")
    if args.limit is not None:
        over = [s for s in constructors if s.lines > args.limit]
        for s in over:
            print(f"too long: {s.path} {s.name} has {s.lines} lines (limit {args.limit})", file=sys.stderr)
        return 1 if over else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
