"""The Deployment the program renders and what the service does agree (service/config.py, server.py)."""

import pytest

from components import manifests as m
from program.adapters import services as services_adapter
from program.adapters.services import server_tuning, shutdown_policy
from program.settings import GrpcServiceSettings
from service import health_names
from service.config import ENV_DEFAULTS, load_settings
from service.server import server_options

# Set by the manifest as file paths that exist only in the pod (Key Vault CSI mount).
_FILE_VARIABLES = ("TLS_CERT_FILE", "TLS_KEY_FILE", "APPLICATIONINSIGHTS_CONNECTION_STRING_FILE")
AZURE_LB_IDLE_TIMEOUT_SECONDS = 240  # Azure Load Balancer's default TCP idle timeout (4 minutes)

WORKLOADS = {
    "defaults": GrpcServiceSettings(namespace="grpc-greeter"),
    "custom": GrpcServiceSettings(
        namespace="grpc-greeter",
        shutdown={"preStopSeconds": 3, "drainDelaySeconds": 2, "shutdownGraceSeconds": 40},
        maxConnectionIdleSeconds=0,
        keepaliveTimeSeconds=30,
        keepaliveMaxPingStrikes=0,
        tracesSampleRatio=0.25,
    ),
}


def _service_settings(workload: GrpcServiceSettings):
    timing = m.shutdown_timing(shutdown_policy(workload))
    env = m.container_env("greeter", server_tuning(workload), timing)
    return env, timing, load_settings({k: v for k, v in env.items() if k not in _FILE_VARIABLES})


@pytest.mark.parametrize("name", WORKLOADS)
def test_every_variable_the_deployment_sets_is_one_the_service_reads_and_accepts(name: str) -> None:
    env, _, _ = _service_settings(WORKLOADS[name])
    assert set(env) <= set(ENV_DEFAULTS)  # a misspelt variable would silently fall back to a default


@pytest.mark.parametrize("name", WORKLOADS)
def test_the_service_runs_with_the_drain_grace_and_connection_limits_the_workload_configures(
    name: str,
) -> None:
    workload = WORKLOADS[name]
    _, timing, service = _service_settings(workload)
    assert service.drain_delay_seconds == timing.drain_delay_seconds == workload.shutdown.drain_delay_seconds
    assert service.shutdown_grace_seconds == timing.shutdown_grace_seconds
    assert service.max_connection_age_seconds == workload.max_connection_age_seconds
    assert service.max_connection_age_grace_seconds == workload.max_connection_age_grace_seconds
    assert service.max_connection_idle_seconds == workload.max_connection_idle_seconds
    assert service.keepalive_time_seconds == workload.keepalive_time_seconds
    assert service.keepalive_timeout_seconds == workload.keepalive_timeout_seconds
    assert service.keepalive_min_client_interval_seconds == workload.keepalive_min_client_interval_seconds
    assert service.keepalive_max_ping_strikes == workload.keepalive_max_ping_strikes
    assert service.traces_sample_ratio == workload.traces_sample_ratio
    options = dict(server_options(service))
    assert options["grpc.keepalive_time_ms"] == workload.keepalive_time_seconds * 1000
    assert options["grpc.http2.max_ping_strikes"] == workload.keepalive_max_ping_strikes
    assert options.get("grpc.max_connection_idle_ms", 0) == workload.max_connection_idle_seconds * 1000
    assert options["grpc.max_connection_age_ms"] == workload.max_connection_age_seconds * 1000


@pytest.mark.parametrize("name", WORKLOADS)
def test_the_kubelet_waits_for_prestop_drain_grace_and_the_trace_flush(name: str) -> None:
    _, timing, service = _service_settings(WORKLOADS[name])
    # service/server.py `shutdown`: drain, stop(grace), then a trace flush of at most 5 s.
    service_exit = service.drain_delay_seconds + service.shutdown_grace_seconds + 5
    assert timing.termination_grace_period_seconds >= timing.pre_stop_seconds + service_exit
    # The preStop sleep comes first: the pod leaves the endpoints while it still serves normally.
    assert timing.pre_stop_seconds > 0 or service.drain_delay_seconds > 0


def test_the_service_default_drain_is_not_zero() -> None:
    # An environment without DRAIN_DELAY_SECONDS (someone running the image elsewhere) still drains.
    assert load_settings({}).drain_delay_seconds > 0


@pytest.mark.parametrize("name", WORKLOADS)
def test_server_keepalive_pings_beat_the_load_balancer_idle_timeout(name: str) -> None:
    _, _, service = _service_settings(WORKLOADS[name])
    assert service.keepalive_time_seconds + service.keepalive_timeout_seconds < AZURE_LB_IDLE_TIMEOUT_SECONDS
    # Envoy's own TCP keepalive towards the pod enforces less often than the server allows.
    assert service.keepalive_min_client_interval_seconds <= 60


def test_probes_ask_the_health_names_the_service_reports_on_the_port_it_listens_on() -> None:
    workload = WORKLOADS["defaults"]
    env, _, service = _service_settings(workload)
    probes = {"startup": m.startup_probe(), "readiness": m.readiness_probe(), "liveness": m.liveness_probe()}
    for probe in probes.values():
        assert probe.grpc.port == service.grpc_port == int(env["GRPC_PORT"])
        assert probe.grpc.service in health_names.ALL_NAMES
    # Readiness flips on SIGTERM (the pod leaves the endpoints); liveness must not (no restart mid-drain).
    assert probes["readiness"].grpc.service in health_names.DRAINED_NAMES
    assert probes["liveness"].grpc.service not in health_names.DRAINED_NAMES
    # A liveness failure takes period * failures: far above the time a probe needs with slow clients
    # held (tests/service/test_slow_clients.py: < 100 ms), so a handful of them cannot restart a pod.
    liveness = probes["liveness"]
    assert liveness.timeout_seconds >= 1


def test_the_service_own_default_ports_are_the_library_defaults() -> None:
    # Run without the manifest's environment (locally, in a plain `docker run`), the server listens
    # where the Deployment, Service and policies expect it.
    defaults = m.ServicePortsArgs()
    service = load_settings({})
    assert (service.grpc_port, service.grpc_tls_port, service.metrics_port) == (
        defaults.grpc,
        defaults.tls,
        defaults.metrics,
    )
    assert (ENV_DEFAULTS["GRPC_PORT"], ENV_DEFAULTS["GRPC_TLS_PORT"], ENV_DEFAULTS["METRICS_PORT"]) == (
        str(m.GRPC_PORT),
        str(m.TLS_PORT),
        str(m.METRICS_PORT),
    )


def test_the_service_listens_on_configured_ports_the_probes_ask() -> None:
    workload = GrpcServiceSettings(
        namespace="grpc-greeter", ports={"grpc": 8080, "tls": 8443, "metrics": 9100}
    )
    ports = services_adapter.service_ports(workload)
    timing = m.shutdown_timing(shutdown_policy(workload))
    env = m.container_env("greeter", server_tuning(workload), timing, ports)
    service = load_settings({k: v for k, v in env.items() if k not in _FILE_VARIABLES})
    assert (service.grpc_port, service.grpc_tls_port, service.metrics_port) == (8080, 8443, 9100)
    assert m.readiness_probe(ports.grpc).grpc.port == service.grpc_port


def test_the_stack_default_sampling_ratio_is_the_service_default() -> None:
    # An image run without the stack (docker run, another cluster) samples as the stack would.
    assert (
        float(ENV_DEFAULTS["TRACES_SAMPLE_RATIO"] or "nan")
        == GrpcServiceSettings(namespace="g").traces_sample_ratio
    )
