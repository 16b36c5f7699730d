"""The docs say what the code does: the two commands, CI, and the generated configuration table."""

from pathlib import Path

from tools.config_reference import README, readme_with_table

ROOT = Path(__file__).resolve().parents[2]


def test_readme_configuration_reference_matches_the_settings_models():
    text = README.read_text()
    assert readme_with_table(text) == text, "run: python -m tools.config_reference --write"


def test_readme_gives_the_two_commands_and_ci_runs_the_test_command():
    text = README.read_text()
    assert "bash tools/plan.sh dev" in text
    assert "bash tools/test.sh" in text
    assert "exec bash tools/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_pulumi_project_file_matches_the_design():
    import yaml

    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "aks-grpc"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert project["stackConfigDir"] == "stacks"


def test_config_keys_named_in_the_docs_exist():
    """A renamed setting must not leave a runbook pointing at a key that no longer exists."""
    import re

    from tools.config_reference import rows

    known = {key.replace("[].", ".") for key, *_ in rows()}
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        if page.name == "decisions.md":  # discusses misspelled keys on purpose
            continue
        for match in re.finditer(r"`aks-grpc:([A-Za-z][A-Za-z0-9.<>\[\]]*)", page.read_text()):
            key = re.sub(r"\[\d*\]", "", match.group(1)).rstrip(".")
            if key == "secrets" or key.startswith("secrets."):
                continue  # encrypted values, named by the user (docs/secrets.md)
            assert key in known, f"{page.name} names aks-grpc:{key}, which is not a setting"
