"""Tracing: spans for Greeter RPCs (not health or reflection), Azure exporter from a file, JSON logs."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from service_harness import SERVING, ServerProcess, health_status

from service.generated import helloworld_pb2, helloworld_pb2_grpc


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def _spans(stderr: str) -> list[dict]:
    return [json.loads(line)["span"] for line in stderr.splitlines() if line.startswith('{"span"')]


def _exercise(server: ServerProcess) -> None:
    channel = server.channel()
    stub = helloworld_pb2_grpc.GreeterStub(channel)
    assert stub.SayHello(helloworld_pb2.HelloRequest(name="t"), timeout=10).message == "Hello, t!"
    with pytest.raises(grpc.RpcError):
        stub.SayHello(helloworld_pb2.HelloRequest(name="x" * 100), timeout=10)
    assert health_status(channel) == SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    list(reflection.ServerReflectionInfo(iter([request]), timeout=10))


def test_connection_string_file_enables_tracing_without_errors(start_server, tmp_path: Path) -> None:
    # The exporter is pointed at a closed local port: sending fails fast (no network here), and
    # that must not crash the server or log at ERROR.
    path = tmp_path / "applicationinsights-connection-string"
    path.write_text(
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
        f"IngestionEndpoint=http://127.0.0.1:{_closed_port()}/\n"
    )
    server: ServerProcess = start_server(
        APPLICATIONINSIGHTS_CONNECTION_STRING_FILE=str(path),
        TRACES_EXTRA_EXPORTER="console",
        TRACES_SAMPLE_RATIO="1",
        MAX_NAME_LENGTH="10",
        LOG_LEVEL="DEBUG",
    )
    _exercise(server)
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0

    spans = _spans(server.stderr())
    assert sorted(s["name"] for s in spans) == ["/helloworld.Greeter/SayHello"] * 2  # no health/reflection
    codes = sorted(s["attributes"]["rpc.grpc.status_code"] for s in spans)
    assert codes == [grpc.StatusCode.OK.value[0], grpc.StatusCode.INVALID_ARGUMENT.value[0]]
    assert {s["resource"]["attributes"]["service.name"] for s in spans} == {"helloworld-greeter"}

    logs = server.logs()  # every stdout line is a JSON object
    messages = [e["message"] for e in logs]
    assert "tracing to Azure Monitor" in messages
    assert [e for e in logs if e["level"] in ("ERROR", "CRITICAL")] == []
    other_stderr = [line for line in server.stderr().splitlines() if not line.startswith('{"span"')]
    assert not any("Traceback" in line for line in other_stderr), other_stderr
    # Logs written inside an RPC carry that RPC's trace and span ids.
    (rejected,) = [e for e in logs if e["message"] == "rejected request: name too long"]
    (failed_span,) = [s for s in spans if s["attributes"]["rpc.grpc.status_code"] != 0]
    assert f"0x{rejected['trace_id']}" == failed_span["context"]["trace_id"]
    assert f"0x{rejected['span_id']}" == failed_span["context"]["span_id"]


def test_tracing_is_off_without_a_connection_string(start_server) -> None:
    server: ServerProcess = start_server(MAX_NAME_LENGTH="10", LOG_LEVEL="DEBUG")
    _exercise(server)
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    assert _spans(server.stderr()) == []
    logs = server.logs()
    assert "tracing off: no Application Insights connection string configured" in [e["message"] for e in logs]
    assert all("trace_id" not in e for e in logs)
    assert [e for e in logs if e["level"] in ("WARNING", "ERROR", "CRITICAL")] == []


def test_no_log_line_per_rpc_at_info(server: ServerProcess) -> None:
    stub = helloworld_pb2_grpc.GreeterStub(server.channel())
    before = len(server.logs())
    for _ in range(20):
        stub.SayHello(helloworld_pb2.HelloRequest(name="quiet"), timeout=10)
    assert len(server.logs()) == before


def test_root_calls_are_sampled_at_the_ratio_and_calls_with_a_parent_follow_its_decision(
    start_server,
) -> None:
    ratio, roots = 0.2, 300
    server: ServerProcess = start_server(TRACES_EXTRA_EXPORTER="console", TRACES_SAMPLE_RATIO=str(ratio))
    stub = helloworld_pb2_grpc.GreeterStub(server.channel())
    for _ in range(roots):
        stub.SayHello(helloworld_pb2.HelloRequest(name="r"), timeout=10)
    parent_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    for flags in ("01", "00"):
        for _ in range(20):
            metadata = (("traceparent", f"00-{parent_trace}-00f067aa0ba902b7-{flags}"),)
            stub.SayHello(helloworld_pb2.HelloRequest(name=flags), timeout=10, metadata=metadata)
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    spans = _spans(server.stderr())
    child = [s for s in spans if s["parent_id"]]
    root = [s for s in spans if not s["parent_id"]]
    # Sampled parents: every call traced, in the caller's trace; unsampled parents: none.
    assert len(child) == 20
    assert {s["context"]["trace_id"] for s in child} == {f"0x{parent_trace}"}
    # Roots: about ratio * roots (binomial, sd ~7), each with a trace id the provider's
    # TraceIdRatioBased sampler would also sample (its rule: low 64 bits below ratio * 2**64).
    assert 25 <= len(root) <= 100, len(root)
    assert all(int(s["context"]["trace_id"], 16) & (2**64 - 1) < ratio * 2**64 for s in root)
