"""Item 4 of issue 15: a component constructor reads as a page of wiring, not as 400 lines."""

import textwrap
from pathlib import Path

from tools import code_shape


def test_no_component_constructor_is_longer_than_a_page() -> None:
    constructors = [
        s for p in code_shape.python_files() for s in code_shape.functions(p) if s.component_constructor
    ]
    assert len(constructors) >= 10, "the scan must find the components' constructors"
    too_long = {
        f"{s.path}: {s.name}": s.lines for s in constructors if s.lines > code_shape.CONSTRUCTOR_LIMIT
    }
    assert not too_long, f"split these into builders or child components: {too_long}"


def test_the_scan_measures_a_component_constructor_and_ignores_other_classes(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(code_shape, "REPO_ROOT", tmp_path)
    body = "\n".join(f"        x{i} = {i}" for i in range(200))
    source = tmp_path / "thing.py"
    source.write_text(
        textwrap.dedent(
            """
            import pulumi

            class Big(pulumi.ComponentResource):
                def __init__(self):
            """
        )
        + body
        + "\n\nclass Plain:\n    def __init__(self):\n"
        + body
        + "\n"
    )
    shapes = {s.name: s for s in code_shape.functions(source)}
    assert shapes["Big.__init__"].component_constructor and shapes["Big.__init__"].lines == 201
    assert not shapes["Plain.__init__"].component_constructor
