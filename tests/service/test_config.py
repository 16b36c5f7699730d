"""Configuration: documented defaults, and bad values exit 2 naming the variable (no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from service_harness import REPO_ROOT, base_env

from service.config import ENV_DEFAULTS, ConfigError, load_settings
from service.server import server_options


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings({})
    assert (settings.grpc_port, settings.grpc_tls_port, settings.metrics_port) == (50051, 50443, 9464)
    assert not settings.tls_enabled and not settings.tracing_enabled
    assert settings.keepalive_time_seconds < 240  # below the Azure load balancer's idle timeout
    docs = (REPO_ROOT / "docs" / "service.md").read_text()
    for name, default in ENV_DEFAULTS.items():
        assert f"`{name}`" in docs, f"{name} is not documented in docs/service.md"
        if default is not None:
            assert f"`{name}` | `{default}`" in docs, f"docs/service.md: {name} default is not `{default}`"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GRPC_PORT": "http"}, "GRPC_PORT"),
        ({"GRPC_PORT": "70000"}, "GRPC_PORT"),
        ({"METRICS_PORT": "-1"}, "METRICS_PORT"),
        ({"SHUTDOWN_GRACE_SECONDS": "-5"}, "SHUTDOWN_GRACE_SECONDS"),
        ({"SHUTDOWN_GRACE_SECONDS": "nan"}, "SHUTDOWN_GRACE_SECONDS"),
        ({"DRAIN_DELAY_SECONDS": "soon"}, "DRAIN_DELAY_SECONDS"),
        ({"MAX_CONNECTION_AGE_SECONDS": "-1"}, "MAX_CONNECTION_AGE_SECONDS"),
        ({"KEEPALIVE_TIME_SECONDS": "300"}, "KEEPALIVE_TIME_SECONDS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"MAX_NAME_LENGTH": "0"}, "MAX_NAME_LENGTH"),
        ({"TLS_CERT_FILE": "/nonexistent/tls.crt", "TLS_KEY_FILE": "/nonexistent/tls.key"}, "TLS_CERT_FILE"),
        (
            {"APPLICATIONINSIGHTS_CONNECTION_STRING_FILE": "/nonexistent/cs"},
            "APPLICATIONINSIGHTS_CONNECTION_STRING_FILE",
        ),
        ({"TRACES_EXTRA_EXPORTER": "jaeger"}, "TRACES_EXTRA_EXPORTER"),
        ({"GRPC_PORT": "9464"}, "METRICS_PORT"),
    ],
)
def test_bad_value_is_reported_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert any(named in problem for problem in raised.value.problems), raised.value.problems


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings({"GRPC_PORT": "x", "METRICS_PORT": "y", "LOG_LEVEL": "z"})
    assert len(raised.value.problems) == 3


def test_tls_needs_both_files(tmp_path: Path) -> None:
    cert = tmp_path / "tls.crt"
    cert.write_text("not a cert")
    with pytest.raises(ConfigError, match="TLS_KEY_FILE is not set"):
        load_settings({"TLS_CERT_FILE": str(cert)})
    key = tmp_path / "tls.key"
    key.write_text("not a key")
    with pytest.raises(ConfigError, match="not a matching PEM certificate"):
        load_settings({"TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)})


def test_connection_string_sources_are_exclusive_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "cs"
    path.write_text("InstrumentationKey=00000000-0000-0000-0000-000000000000\n")
    settings = load_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING_FILE": str(path)})
    assert settings.applicationinsights_connection_string == path.read_text().strip()
    assert settings.tracing_enabled
    with pytest.raises(ConfigError, match="both set"):
        load_settings(
            {
                "APPLICATIONINSIGHTS_CONNECTION_STRING_FILE": str(path),
                "APPLICATIONINSIGHTS_CONNECTION_STRING": "InstrumentationKey=x",
            }
        )
    path.write_text("hunter2")
    with pytest.raises(ConfigError, match="no InstrumentationKey"):
        load_settings({"APPLICATIONINSIGHTS_CONNECTION_STRING_FILE": str(path)})


def test_server_options_carry_connection_age_keepalive_and_limits() -> None:
    options = dict(server_options(load_settings({"MAX_CONNECTION_AGE_SECONDS": "120"})))
    assert options["grpc.max_connection_age_ms"] == 120_000
    assert options["grpc.max_connection_age_grace_ms"] == 30_000
    assert options["grpc.keepalive_time_ms"] == 60_000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.max_concurrent_streams"] == 100
    assert options["grpc.max_receive_message_length"] == 65536
    assert "grpc.max_connection_age_ms" not in dict(
        server_options(load_settings({"MAX_CONNECTION_AGE_SECONDS": "0"}))
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GRPC_PORT": "not-a-port"}, "GRPC_PORT"),
        ({"SHUTDOWN_GRACE_SECONDS": "-1"}, "SHUTDOWN_GRACE_SECONDS"),
    ],
)
def test_python_m_service_exits_2_with_a_message_and_no_traceback(env: dict[str, str], named: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=REPO_ROOT,
        env=base_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_port_in_use_fails_startup_with_exit_1(start_server) -> None:
    first = start_server()
    second = start_server(wait=False, GRPC_PORT=str(first.grpc_port))
    assert second.wait(timeout=60) == 1
    assert any(e["message"].startswith("startup failed") for e in second.logs())
