"""Helpers to run the real server (``python -m service``) as a subprocess on free ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

STARTUP_TIMEOUT = 30.0
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("APPLICATIONINSIGHTS_", "OTEL_", "GRPC_"))
    }
    env.update(PYTHONUNBUFFERED="1", BIND_ADDRESS="127.0.0.1", LOG_LEVEL="INFO")
    env.update(overrides)
    return env


def health_status(channel: grpc.Channel, service: str = "", timeout: float = 5.0) -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout).status


@dataclass
class ServerProcess:
    proc: subprocess.Popen[bytes]
    grpc_port: int
    metrics_port: int
    tls_port: int | None
    stdout_path: Path
    stderr_path: Path
    channels: list[grpc.Channel] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def channel(self) -> grpc.Channel:
        channel = grpc.insecure_channel(self.target)
        self.channels.append(channel)
        return channel

    def channel_cached(self) -> grpc.Channel:
        """One shared channel (for hypothesis, which calls the test body many times)."""
        if not self.channels:
            self.channel()
        return self.channels[0]

    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def logs(self) -> list[dict]:
        """Every stdout line, parsed: fails the test if any line is not a JSON object."""
        return [json.loads(line) for line in self.stdout().splitlines() if line.strip()]

    def scrape(self) -> str:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)

    def wait_serving(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        channel = self.channel()
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(
                    f"server exited with {code} during startup:\n{self.stdout()}\n{self.stderr()}"
                )
            try:
                if health_status(channel, "", timeout=1.0) == SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"server not SERVING after {STARTUP_TIMEOUT}s:\n{self.stdout()}\n{self.stderr()}"
                )
            time.sleep(0.05)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
