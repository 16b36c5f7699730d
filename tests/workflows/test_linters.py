"""The linters people run on these files pass, offline, and each one catches a broken copy.

hadolint (service/Dockerfile, .hadolint.yaml), zizmor (the workflows and the composite action,
.github/zizmor.yml, `--offline`: no GitHub API calls) and shellcheck (every shell script) come as
wheels that ship their binaries (requirements-lint.txt). actionlint runs in ci.yml only: see
requirements-lint.txt for why.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SHELL_SCRIPTS = sorted(
    p
    for p in [*REPO_ROOT.glob("**/*.sh"), REPO_ROOT / ".ci" / "run"]
    if p.is_file() and not {"venv", "build", "node_modules"} & set(p.relative_to(REPO_ROOT).parts)
)


def run(tool: str, *args: str | Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    binary = BIN / tool
    assert binary.exists(), f"{tool} is not installed in the venv (requirements-lint.txt)"
    return subprocess.run(
        [str(binary), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_dockerfile_passes_hadolint_with_the_required_oci_labels() -> None:
    result = run("hadolint", "--config", REPO_ROOT / ".hadolint.yaml", REPO_ROOT / "service" / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("breakage", "rule"),
    [
        (
            lambda text: text.replace(
                'LABEL org.opencontainers.image.title="grpc-greeter" \\\n', "LABEL \\\n"
            ),
            "DL3049",
        ),
        (
            lambda text: (
                text.replace(
                    "ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm", "ARG PYTHON_IMAGE=python:latest"
                )
                + "FROM python:latest\n"
            ),
            "DL3007",
        ),
        (
            lambda text: text.replace(
                "RUN python -m venv /opt/venv", "RUN apt-get install -y curl && python -m venv /opt/venv"
            ),
            "DL3008",
        ),
    ],
    ids=["missing OCI label", "latest base", "unpinned apt package"],
)
def test_hadolint_catches_a_broken_dockerfile(tmp_path: Path, breakage, rule: str) -> None:
    original = (REPO_ROOT / "service" / "Dockerfile").read_text()
    broken = breakage(original)
    assert broken != original
    (tmp_path / "Dockerfile").write_text(broken)
    result = run("hadolint", "--config", REPO_ROOT / ".hadolint.yaml", tmp_path / "Dockerfile")
    assert result.returncode != 0 and rule in result.stdout, result.stdout


def test_the_workflows_and_actions_pass_zizmor_offline() -> None:
    result = run("zizmor", "--offline", "--no-progress", ".github")
    assert result.returncode == 0, result.stdout + result.stderr


def _copy_github_dir(tmp_path: Path) -> Path:
    shutil.copytree(REPO_ROOT / ".github", tmp_path / ".github")
    return tmp_path


@pytest.mark.parametrize(
    ("file", "old", "new", "audit"),
    [
        (
            "workflows/ci.yml",
            "# v6.0.2\n        with:\n          persist-credentials: false\n",
            "# v6.0.2\n",
            "artipacked",
        ),
        (
            "workflows/ci.yml",
            "actions/checkout@de0fac2e4500dabe0009e67214ff5f5447ce83dd # v6.0.2",
            "actions/checkout@v6",
            "unpinned-uses",
        ),
        (
            "workflows/deploy.yml",
            'echo "::error::Set the repository variable ACR_NAME (docs/ci-cd.md)."',
            'echo "${{ github.event.head_commit.message }}"',
            "template-injection",
        ),
    ],
    ids=["persisted checkout credentials", "unpinned action", "template injection"],
)
def test_zizmor_catches_a_broken_workflow(tmp_path: Path, file: str, old: str, new: str, audit: str) -> None:
    root = _copy_github_dir(tmp_path)
    path = root / ".github" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    result = run("zizmor", "--offline", "--no-progress", ".github", cwd=root)
    assert result.returncode != 0 and audit in result.stdout, result.stdout + result.stderr


def test_every_shell_script_passes_shellcheck() -> None:
    names = {p.relative_to(REPO_ROOT).as_posix() for p in SHELL_SCRIPTS}
    assert {".ci/run", "tools/test.sh", ".github/scripts/smoke-test-image.sh"} <= names
    result = run("shellcheck", *SHELL_SCRIPTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_catches_a_broken_script(tmp_path: Path) -> None:
    script = (REPO_ROOT / ".github" / "scripts" / "smoke-test-image.sh").read_text()
    broken = tmp_path / "smoke.sh"
    broken.write_text(script.replace('docker rm --force "$container"', "docker rm --force $container"))
    result = run("shellcheck", broken)
    assert result.returncode != 0 and "SC2086" in result.stdout, result.stdout
