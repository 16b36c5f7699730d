"""The `aks-grpc` wheel and a consumer virtualenv with it installed, built once per content hash.

Both live under build/ (git-ignored) and are reused while their inputs are unchanged:
- the wheel, keyed by the hash of what goes into it (pyproject.toml, README.md, requirements.txt and
  components/): built with this venv's setuptools from a copy of those files, so stale build/lib
  files can never ship and two test workers never build in the same folder;
- the consumer venv, keyed by requirements.txt and the Python version: created with `python -m venv`
  and filled from PyPI (pip's cache) the first time (about 90 s on the 2-core dev machine); a new
  wheel is then reinstalled into it with `--no-deps` (a few seconds).
A lock file serialises builders (xdist workers, two pytest runs in one checkout).
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD = REPO_ROOT / "build"
WHEEL_INPUTS = ("pyproject.toml", "README.md", "requirements.txt")
PIP_TIMEOUT = 900
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]


def _package_files() -> list[Path]:
    files = [REPO_ROOT / name for name in WHEEL_INPUTS]
    files += sorted(
        p
        for p in (REPO_ROOT / "components").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    return files


def _digest(files: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in files:
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextmanager
def _locked(name: str) -> Iterator[None]:
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT, env=env)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


def build_wheel() -> Path:
    """The `aks_grpc` wheel of the current sources (built at most once per content hash)."""
    key = _digest(_package_files())
    out = BUILD / "wheels" / key
    with _locked("wheels"):
        wheels = sorted(out.glob("*.whl"))
        if wheels:
            return wheels[0]
        for stale in (BUILD / "wheels").glob("*"):
            shutil.rmtree(stale, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="aks-grpc-src-") as source:
            for path in _package_files():
                target = Path(source) / path.relative_to(REPO_ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            partial = out.with_suffix(".partial")
            shutil.rmtree(partial, ignore_errors=True)
            _run([*PIP_WHEEL, "--wheel-dir", str(partial), source])
            partial.replace(out)
        return sorted(out.glob("*.whl"))[0]


def consumer_venv() -> Path:
    """A virtualenv outside the repository with the current wheel and its dependencies installed."""
    wheel = build_wheel()
    python_version = "{}.{}".format(*sys.version_info[:2])
    key = _digest([REPO_ROOT / "requirements.txt"], extra=python_version)
    venv = BUILD / f"consumer-venv-{key}"
    python = venv / "bin" / "python"
    installed = venv / ".aks-grpc-wheel"
    with _locked("consumer-venv"):
        if not (venv / ".complete").exists():
            for stale in BUILD.glob("consumer-venv-*"):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
            # The base interpreter, not this venv's: the consumer venv must not see our site-packages.
            base = getattr(sys, "_base_executable", sys.executable)
            _run([base, "-m", "venv", str(venv)])
            _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], env=_pip_env())
            installed.write_text(wheel.name + "\n" + str(wheel.parent.name))
            (venv / ".complete").write_text("")
        elif installed.read_text() != wheel.name + "\n" + str(wheel.parent.name):
            _run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--no-deps",
                    "--force-reinstall",
                    str(wheel),
                ],
                env=_pip_env(),
            )
            installed.write_text(wheel.name + "\n" + str(wheel.parent.name))
    return venv


def _pip_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env
