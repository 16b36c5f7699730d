"""The image smoke test CI runs before any push (.github/scripts/) works against the real server.

There is no Docker engine here, so the container part of smoke-test-image.sh is checked by shellcheck
(tests/workflows/test_linters.py) and the client part is run exactly as the script runs it inside the
container (`python - HOST:PORT TIMEOUT` from the directory holding `service/`), against a real
`python -m service` process.
"""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.service_harness import REPO_ROOT, ServerProcess, base_env, free_port

SCRIPTS = REPO_ROOT / ".github" / "scripts"


def run_smoke_client(target: str, timeout_seconds: str) -> subprocess.CompletedProcess[str]:
    with (SCRIPTS / "grpc_smoke.py").open() as script:
        return subprocess.run(
            [sys.executable, "-", target, timeout_seconds],
            stdin=script,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def running_server(tmp_path: Path) -> Iterator[ServerProcess]:
    env = base_env(GRPC_PORT=str(free_port()), METRICS_PORT=str(free_port()))
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service"], cwd=REPO_ROOT, env=env, stdout=stdout, stderr=stderr
        )
    server = ServerProcess(proc, int(env["GRPC_PORT"]), int(env["METRICS_PORT"]), None, out, err)
    yield server
    server.close()


def test_the_smoke_client_passes_on_a_serving_greeter(running_server: ServerProcess) -> None:
    # No wait_serving first: the client itself waits for every health name, as it must in CI.
    result = run_smoke_client(running_server.target, "30")
    assert result.returncode == 0, result.stderr
    assert "SayHello -> 'Hello, smoke-test" in result.stdout


def test_the_smoke_client_fails_when_nothing_serves() -> None:
    result = run_smoke_client(f"127.0.0.1:{free_port()}", "2")
    assert result.returncode == 1
    assert "health check ''" in result.stderr


def test_the_smoke_script_runs_the_client_inside_the_image_it_was_given() -> None:
    script = (SCRIPTS / "smoke-test-image.sh").read_text()
    assert 'docker run --detach --read-only --tmpfs /tmp --user 10001:10001 "$image"' in script
    assert '<"$here/grpc_smoke.py"' in script
    assert "docker rm --force" in script
