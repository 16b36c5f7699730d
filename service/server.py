"""Build, run and gracefully stop the Greeter server.

Server model: the sync grpc.server (faster than grpc.aio here) on an elastic thread pool
(service/workers.py) so clients that send HEADERS and never a body cannot starve health checks and
new calls; chosen by measurement (benchmarks/README.md, docs/decisions.md ("The reference gRPC service")).

Shutdown on SIGTERM/SIGINT: readiness (and the overall "" status) flip to NOT_SERVING, then
DRAIN_DELAY_SECONDS (default 0.5 s) while RPCs are still served, then new RPCs are refused with
UNAVAILABLE and in-flight RPCs and streams get SHUTDOWN_GRACE_SECONDS to finish (service/drain.py
says why this is not grpc's stop()); then traces are flushed and the process exits 0. A second
signal skips whatever is left of the drain delay.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import REGISTRY, CollectorRegistry

from service import health_names
from service.config import ConfigError, Settings, load_settings
from service.drain import DrainGate
from service.greeter import SERVICE_NAME, Greeter, add_to_server
from service.interceptor import ServiceInterceptor
from service.logs import configure_logging
from service.metrics import ServerMetrics
from service.tls import RotatingCertificate
from service.tracing import SamplingDecision, configure_tracing
from service.workers import ElasticThreadPool

log = logging.getLogger("service")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
EXIT_CONFIG = 2
EXIT_STARTUP = 1


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """Channel arguments for running behind Kubernetes Services and the Azure load balancer."""
    ms = 1000
    options = [
        # Server keepalive pings well inside the Azure LB's 4-minute idle timeout, also on idle
        # connections (permit_without_calls, unlimited pings without data), so the LB never drops
        # a quiet long-lived connection silently.
        ("grpc.keepalive_time_ms", int(settings.keepalive_time_seconds * ms)),
        ("grpc.keepalive_timeout_ms", int(settings.keepalive_timeout_seconds * ms)),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
        # Enforcement of client keepalive: pings closer together than this (C-core's default is
        # 5 min, which answers a 1-minute client keepalive with GOAWAY "too_many_pings") count as
        # strikes, and more than max_ping_strikes of them close the connection.
        (
            "grpc.http2.min_recv_ping_interval_without_data_ms",
            int(settings.keepalive_min_client_interval_seconds * ms),
        ),
        ("grpc.http2.max_ping_strikes", settings.keepalive_max_ping_strikes),
        ("grpc.max_concurrent_streams", settings.max_concurrent_streams),
        ("grpc.max_receive_message_length", settings.max_receive_message_bytes),
        ("grpc.max_send_message_length", settings.max_send_message_bytes),
        # A port clash must fail loudly instead of two processes sharing the port.
        ("grpc.so_reuseport", 0),
    ]
    if settings.max_connection_idle_seconds > 0:
        # A connection with no RPC for this long gets GOAWAY: idle clients do not pin ~30 KiB each.
        options.append(("grpc.max_connection_idle_ms", int(settings.max_connection_idle_seconds * ms)))
    if settings.max_connection_age_seconds > 0:
        # Clients reconnect (and so rebalance across pods) after this age; grpc adds +-10% jitter.
        options += [
            ("grpc.max_connection_age_ms", int(settings.max_connection_age_seconds * ms)),
            ("grpc.max_connection_age_grace_ms", int(settings.max_connection_age_grace_seconds * ms)),
        ]
    return options


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass
class App:
    settings: Settings
    server: grpc.Server
    health: health.HealthServicer
    tracer_provider: TracerProvider | None
    certificate: RotatingCertificate | None
    metrics: ServerMetrics
    pool: ElasticThreadPool
    gate: DrainGate

    def set_health(self, names: tuple[str, ...], status: int) -> None:
        for name in names:
            self.health.set(name, status)


def build_app(settings: Settings, registry: CollectorRegistry = REGISTRY) -> App:
    """Create the server with every service, interceptor and port; nothing is started yet."""
    metrics = ServerMetrics(registry)
    tracer_provider = configure_tracing(settings)
    gate = DrainGate()
    sampling = None
    if tracer_provider is not None:
        sampling = SamplingDecision(tracer_provider, settings.traces_sample_ratio)
    pool = ElasticThreadPool(settings.server_threads, settings.server_max_threads)
    server = grpc.server(
        pool,
        interceptors=(ServiceInterceptor(gate, metrics, sampling),),
        options=server_options(settings),
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
    )
    greeter = Greeter(
        settings.max_name_length, settings.stream_reply_count, settings.stream_reply_interval_seconds
    )
    add_to_server(greeter, server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    for name in health_names.ALL_NAMES:
        health_servicer.set(name, NOT_SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    server.add_insecure_port(_address(settings.bind_address, settings.grpc_port))
    certificate = None
    if settings.tls_enabled:
        assert settings.tls_cert_file and settings.tls_key_file
        certificate = RotatingCertificate(settings.tls_cert_file, settings.tls_key_file)
        server.add_secure_port(
            _address(settings.bind_address, settings.grpc_tls_port), certificate.credentials()
        )
    return App(settings, server, health_servicer, tracer_provider, certificate, metrics, pool, gate)


def start(app: App) -> None:
    s = app.settings
    app.server.start()
    # Everything built so far (modules, protobuf descriptors, the OpenTelemetry SDK, ~40,000 objects)
    # lives as long as the process: frozen, the full collections under load stop walking it
    # (each took 10-20 ms holding the GIL; benchmarks/README.md).
    gc.collect()
    gc.freeze()
    app.metrics.serve(s.bind_address, s.metrics_port)
    app.set_health(health_names.ALL_NAMES, SERVING)
    log.info(
        "serving",
        extra={
            "grpc_port": s.grpc_port,
            "grpc_tls_port": s.grpc_tls_port if s.tls_enabled else None,
            "metrics_port": s.metrics_port,
            "tracing": s.tracing_enabled,
            "threads": s.server_threads,
            "frozen_objects": gc.get_freeze_count(),
        },
    )


def shutdown(app: App) -> None:
    s = app.settings
    started = time.monotonic()
    log.info("shutdown: readiness NOT_SERVING", extra={"drain_delay_seconds": s.drain_delay_seconds})
    app.set_health(health_names.DRAINED_NAMES, NOT_SERVING)
    if s.drain_delay_seconds > 0:
        # A second signal ends the drain delay early.
        signal.sigtimedwait(STOP_SIGNALS, s.drain_delay_seconds)
    log.info("shutdown: refusing new RPCs", extra={"grace_seconds": s.shutdown_grace_seconds})
    app.gate.refuse_new_calls()
    # Calls started before this point finish; new ones are answered UNAVAILABLE (service/drain.py).
    if not app.pool.wait_settled(s.shutdown_grace_seconds):
        log.warning("shutdown: grace expired, cancelling the calls still running")
        app.server.stop(0).wait()
    if app.tracer_provider is not None:
        app.tracer_provider.force_flush(timeout_millis=5000)
        app.tracer_provider.shutdown()
    # Per-method started/handled counts: lets an operator (and the shutdown test) check that every
    # RPC a handler started also finished.
    log.info(
        "shutdown complete",
        extra={
            "seconds": round(time.monotonic() - started, 3),
            "rpcs": app.metrics.totals(),
            "peak_threads": app.pool.peak_threads,
            "refused": app.gate.refused,
        },
    )


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
"""The kubelet sends SIGTERM; SIGINT is Ctrl-C on a workstation."""


def _block_stop_signals() -> None:
    """Hold SIGTERM/SIGINT pending for `signal.sigwait` instead of running a handler.

    Called before any thread starts, so every thread (grpc-core's included) inherits the mask and
    the signals wait for the main thread. No handler means no lock taken inside one: a handler that
    sets a `threading.Event` can deadlock when the signal lands while the main thread holds that
    event's lock, and a second signal that lands early is never lost.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def main(environ: dict[str, str] | None = None) -> int:
    try:
        settings = load_settings(environ)
    except ConfigError as error:
        print(f"service: {error}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    try:
        _block_stop_signals()
        app = build_app(settings)
        start(app)
    except (RuntimeError, OSError) as error:  # e.g. a port already in use
        log.error("startup failed: %s", error)
        return EXIT_STARTUP
    signal.sigwait(STOP_SIGNALS)
    shutdown(app)
    # Exit without grpc-core's shutdown (it would answer calls still arriving with CANCELLED,
    # service/drain.py): the kernel closes the sockets, so those clients see UNAVAILABLE.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
