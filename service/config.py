"""Server configuration from environment variables, validated up front.

Every problem is collected and reported at once, each naming its variable, the bad value and what
is allowed; ``python -m service`` prints them and exits with code 2 (no traceback).
docs/service.md holds the reference table; keep it in step with ``ENV_DEFAULTS`` below.
"""

from __future__ import annotations

import logging
import math
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# Name -> default (as the string an operator would write). None: unset by default.
ENV_DEFAULTS: dict[str, str | None] = {
    "GRPC_PORT": "50051",
    "GRPC_TLS_PORT": "50443",
    "TLS_CERT_FILE": None,
    "TLS_KEY_FILE": None,
    "METRICS_PORT": "9464",
    "BIND_ADDRESS": "::",
    "SHUTDOWN_GRACE_SECONDS": "20",
    "DRAIN_DELAY_SECONDS": "0.5",
    "MAX_CONNECTION_AGE_SECONDS": "300",
    "MAX_CONNECTION_AGE_GRACE_SECONDS": "30",
    "MAX_CONNECTION_IDLE_SECONDS": "120",
    "KEEPALIVE_TIME_SECONDS": "60",
    "KEEPALIVE_TIMEOUT_SECONDS": "20",
    "KEEPALIVE_MIN_CLIENT_INTERVAL_SECONDS": "10",
    "KEEPALIVE_MAX_PING_STRIKES": "2",
    "MAX_CONCURRENT_STREAMS": "100",
    "MAX_CONCURRENT_RPCS": "1000",
    "SERVER_THREADS": "8",
    "SERVER_MAX_THREADS": "1024",
    "MAX_RECEIVE_MESSAGE_BYTES": "65536",
    "MAX_SEND_MESSAGE_BYTES": "65536",
    "MAX_NAME_LENGTH": "256",
    "STREAM_REPLY_COUNT": "10",
    "STREAM_REPLY_INTERVAL_SECONDS": "0",
    "LOG_LEVEL": "INFO",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": None,
    "APPLICATIONINSIGHTS_CONNECTION_STRING_FILE": None,
    "APPLICATIONINSIGHTS_STORAGE_DIRECTORY": None,
    "OTEL_SERVICE_NAME": "helloworld-greeter",
    "TRACES_SAMPLE_RATIO": "0.001",
    "TRACES_EXTRA_EXPORTER": None,
}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
EXTRA_EXPORTERS = ("console", "discard")


class ConfigError(Exception):
    """Invalid configuration; ``problems`` lists one message per bad variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    grpc_port: int
    grpc_tls_port: int
    tls_cert_file: str | None
    tls_key_file: str | None
    metrics_port: int
    bind_address: str
    shutdown_grace_seconds: float
    drain_delay_seconds: float
    max_connection_age_seconds: float
    max_connection_age_grace_seconds: float
    max_connection_idle_seconds: float
    keepalive_time_seconds: float
    keepalive_timeout_seconds: float
    keepalive_min_client_interval_seconds: float
    keepalive_max_ping_strikes: int
    max_concurrent_streams: int
    max_concurrent_rpcs: int
    server_threads: int
    server_max_threads: int
    max_receive_message_bytes: int
    max_send_message_bytes: int
    max_name_length: int
    stream_reply_count: int
    stream_reply_interval_seconds: float
    log_level: int
    applicationinsights_connection_string: str | None
    applicationinsights_storage_directory: str | None
    otel_service_name: str
    traces_sample_ratio: float
    traces_extra_exporter: str | None

    @property
    def tls_enabled(self) -> bool:
        return self.tls_cert_file is not None

    @property
    def tracing_enabled(self) -> bool:
        return bool(self.applicationinsights_connection_string or self.traces_extra_exporter)


class _Reader:
    """Reads variables, recording a problem (and returning a placeholder) instead of raising."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        if value is None or value.strip() == "":
            return ENV_DEFAULTS[name]
        return value.strip()

    def _parse(self, name: str, parse: Callable[[str], T], allowed: str, placeholder: T) -> T:
        text = self.raw(name)
        assert text is not None, f"{name} has no default"
        try:
            return parse(text)
        except ValueError:
            self.problems.append(f"{name}={text!r} is invalid: expected {allowed}")
            return placeholder

    def integer(self, name: str, low: int, high: int) -> int:
        def parse(text: str) -> int:
            value = int(text, 10)
            if not low <= value <= high:
                raise ValueError
            return value

        return self._parse(name, parse, f"an integer from {low} to {high}", low)

    def seconds(self, name: str, low: float, high: float) -> float:
        def parse(text: str) -> float:
            value = float(text)
            if not math.isfinite(value) or not low <= value <= high:
                raise ValueError
            return value

        return self._parse(name, parse, f"a number of seconds from {low:g} to {high:g}", low)

    def ratio(self, name: str) -> float:
        def parse(text: str) -> float:
            value = float(text)
            if not 0 <= value <= 1:  # also refuses nan
                raise ValueError
            return value

        return self._parse(name, parse, "a fraction from 0 to 1", 0.0)

    def choice(self, name: str, choices: tuple[str, ...], *, upper: bool) -> str | None:
        text = self.raw(name)
        if text is None:
            return None
        value = text.upper() if upper else text.lower()
        if value not in choices:
            self.problems.append(f"{name}={text!r} is invalid: expected one of {', '.join(choices)}")
            return None
        return value

    def readable_file(self, name: str) -> str | None:
        path = self.raw(name)
        if path is None:
            return None
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            self.problems.append(f"{name}={path!r} is not a readable file: {error.strerror}")
            return None
        return path


def _connection_string(reader: _Reader) -> str | None:
    direct = reader.raw("APPLICATIONINSIGHTS_CONNECTION_STRING")
    path = reader.readable_file("APPLICATIONINSIGHTS_CONNECTION_STRING_FILE")
    if direct and reader.raw("APPLICATIONINSIGHTS_CONNECTION_STRING_FILE"):
        reader.problems.append(
            "APPLICATIONINSIGHTS_CONNECTION_STRING and APPLICATIONINSIGHTS_CONNECTION_STRING_FILE are "
            "both set: set only one"
        )
        return None
    if path is None:
        return direct
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read().strip()
    if "InstrumentationKey=" not in text:
        reader.problems.append(
            f"APPLICATIONINSIGHTS_CONNECTION_STRING_FILE={path!r} does not hold an Application Insights "
            "connection string (no InstrumentationKey=)"
        )
        return None
    return text


def _tls_files(reader: _Reader) -> tuple[str | None, str | None]:
    cert = reader.readable_file("TLS_CERT_FILE")
    key = reader.readable_file("TLS_KEY_FILE")
    cert_set = reader.raw("TLS_CERT_FILE") is not None
    key_set = reader.raw("TLS_KEY_FILE") is not None
    if cert_set != key_set:
        missing = "TLS_KEY_FILE" if cert_set else "TLS_CERT_FILE"
        reader.problems.append(f"{missing} is not set: TLS needs both TLS_CERT_FILE and TLS_KEY_FILE")
        return None, None
    if cert and key:
        problem = check_key_pair(cert, key)
        if problem:
            reader.problems.append(f"TLS_CERT_FILE/TLS_KEY_FILE ({cert}, {key}) {problem}")
            return None, None
    return cert, key


def check_key_pair(cert_file: str, key_file: str) -> str | None:
    """None if the PEM certificate chain and private key load and match, else why not."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as error:
        return f"are not a matching PEM certificate and private key: {error}"
    return None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment; raises ConfigError listing every problem."""
    r = _Reader(os.environ if environ is None else environ)
    port_max = 65535
    settings = Settings(
        grpc_port=r.integer("GRPC_PORT", 1, port_max),
        grpc_tls_port=r.integer("GRPC_TLS_PORT", 1, port_max),
        tls_cert_file=None,
        tls_key_file=None,
        metrics_port=r.integer("METRICS_PORT", 1, port_max),
        bind_address=r.raw("BIND_ADDRESS") or "::",
        shutdown_grace_seconds=r.seconds("SHUTDOWN_GRACE_SECONDS", 0, 3600),
        drain_delay_seconds=r.seconds("DRAIN_DELAY_SECONDS", 0, 3600),
        max_connection_age_seconds=r.seconds("MAX_CONNECTION_AGE_SECONDS", 0, 86400 * 7),
        max_connection_age_grace_seconds=r.seconds("MAX_CONNECTION_AGE_GRACE_SECONDS", 0, 86400),
        max_connection_idle_seconds=r.seconds("MAX_CONNECTION_IDLE_SECONDS", 0, 86400),
        keepalive_time_seconds=r.seconds("KEEPALIVE_TIME_SECONDS", 10, 239),
        keepalive_timeout_seconds=r.seconds("KEEPALIVE_TIMEOUT_SECONDS", 1, 600),
        keepalive_min_client_interval_seconds=r.seconds("KEEPALIVE_MIN_CLIENT_INTERVAL_SECONDS", 1, 3600),
        keepalive_max_ping_strikes=r.integer("KEEPALIVE_MAX_PING_STRIKES", 0, 100),
        max_concurrent_streams=r.integer("MAX_CONCURRENT_STREAMS", 1, 1_000_000),
        max_concurrent_rpcs=r.integer("MAX_CONCURRENT_RPCS", 1, 1_000_000),
        server_threads=r.integer("SERVER_THREADS", 1, 1024),
        server_max_threads=r.integer("SERVER_MAX_THREADS", 1, 100_000),
        max_receive_message_bytes=r.integer("MAX_RECEIVE_MESSAGE_BYTES", 1024, 64 * 1024 * 1024),
        max_send_message_bytes=r.integer("MAX_SEND_MESSAGE_BYTES", 1024, 64 * 1024 * 1024),
        max_name_length=r.integer("MAX_NAME_LENGTH", 1, 1_000_000),
        stream_reply_count=r.integer("STREAM_REPLY_COUNT", 1, 100_000),
        stream_reply_interval_seconds=r.seconds("STREAM_REPLY_INTERVAL_SECONDS", 0, 60),
        log_level=logging.getLevelName(r.choice("LOG_LEVEL", LOG_LEVELS, upper=True) or "INFO"),
        applicationinsights_connection_string=_connection_string(r),
        applicationinsights_storage_directory=r.raw("APPLICATIONINSIGHTS_STORAGE_DIRECTORY"),
        otel_service_name=r.raw("OTEL_SERVICE_NAME") or "helloworld-greeter",
        traces_sample_ratio=r.ratio("TRACES_SAMPLE_RATIO"),
        traces_extra_exporter=r.choice("TRACES_EXTRA_EXPORTER", EXTRA_EXPORTERS, upper=False),
    )
    if settings.server_max_threads < settings.server_threads:
        r.problems.append(
            f"SERVER_MAX_THREADS={settings.server_max_threads} is below SERVER_THREADS="
            f"{settings.server_threads}: the pool can only grow"
        )
    cert, key = _tls_files(r)
    ports = {"GRPC_PORT": settings.grpc_port, "METRICS_PORT": settings.metrics_port}
    if cert:
        ports["GRPC_TLS_PORT"] = settings.grpc_tls_port
    by_port: dict[int, list[str]] = {}
    for name, port in ports.items():
        by_port.setdefault(port, []).append(name)
    for port, names in by_port.items():
        if len(names) > 1 and not any(f"{n}=" in p for p in r.problems for n in names):
            r.problems.append(f"{' and '.join(names)} are both {port}: each listener needs its own port")
    if r.problems:
        raise ConfigError(r.problems)
    return Settings(**{**settings.__dict__, "tls_cert_file": cert, "tls_key_file": key})
