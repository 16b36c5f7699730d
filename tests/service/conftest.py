"""Fixtures that run the real server (``python -m service``) as a subprocess on free ports."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_harness import REPO_ROOT, ServerProcess, base_env, free_port


class ServerFactory:
    """Starts servers with env overrides and waits for health SERVING; ``close`` kills them all."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[ServerProcess] = []

    def __call__(self, tls: bool = False, wait: bool = True, **env: str) -> ServerProcess:
        for attempt in range(3):  # a free port can be taken between probing and binding: retry
            full_env = base_env(**{"GRPC_PORT": str(free_port()), "METRICS_PORT": str(free_port()), **env})
            if tls:
                full_env.setdefault("GRPC_TLS_PORT", str(free_port()))
            n = len(self.started)
            out, err = self.directory / f"server{n}.stdout", self.directory / f"server{n}.stderr"
            with out.open("wb") as stdout, err.open("wb") as stderr:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "service"],
                    cwd=REPO_ROOT,
                    env=full_env,
                    stdout=stdout,
                    stderr=stderr,
                )
            server = ServerProcess(
                proc,
                int(full_env["GRPC_PORT"]),
                int(full_env["METRICS_PORT"]),
                int(full_env["GRPC_TLS_PORT"]) if tls else None,
                out,
                err,
            )
            self.started.append(server)
            if not wait:
                return server
            try:
                server.wait_serving()
                return server
            except RuntimeError:
                if attempt == 2 or "startup failed" not in server.stdout():
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        for server in self.started:
            server.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """A server per test, for tests that change configuration or stop the server."""
    factory = ServerFactory(tmp_path)
    yield factory
    factory.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module for tests that only make RPCs (MAX_NAME_LENGTH=64, 5 stream replies)."""
    factory = ServerFactory(tmp_path_factory.mktemp("shared-server"))
    yield factory(MAX_NAME_LENGTH="64", STREAM_REPLY_COUNT="5")
    factory.close()


@pytest.fixture
def server(shared_server: ServerProcess) -> ServerProcess:
    return shared_server
