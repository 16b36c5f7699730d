"""The Prometheus scrape shows exactly the RPCs the test made."""

from __future__ import annotations

import time

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from service_harness import ServerProcess

from service.generated import helloworld_pb2, helloworld_pb2_grpc

GREETER = "helloworld.Greeter"


def _samples(text: str, name: str) -> dict[tuple[str, str], float]:
    """Greeter samples of one metric, keyed by (method, code-or-empty)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("grpc_service") == GREETER:
                out[(sample.labels["grpc_method"], sample.labels.get("grpc_code", ""))] = sample.value
    return out


def test_scrape_counts_match_the_calls_made(start_server) -> None:
    server: ServerProcess = start_server(STREAM_REPLY_COUNT="3", MAX_NAME_LENGTH="10")
    stub = helloworld_pb2_grpc.GreeterStub(server.channel())
    for i in range(7):
        stub.SayHello(helloworld_pb2.HelloRequest(name=f"n{i}"), timeout=10)
    for _ in range(2):
        with pytest.raises(grpc.RpcError):
            stub.SayHello(helloworld_pb2.HelloRequest(name="x" * 11), timeout=10)
    for _ in range(4):
        assert len(list(stub.SayHelloStreamReply(helloworld_pb2.HelloRequest(name="s"), timeout=10))) == 3

    text = server.scrape()
    assert _samples(text, "grpc_server_started_total") == {
        ("SayHello", ""): 9,
        ("SayHelloStreamReply", ""): 4,
    }
    assert _samples(text, "grpc_server_handled_total") == {
        ("SayHello", "OK"): 7,
        ("SayHello", "INVALID_ARGUMENT"): 2,
        ("SayHelloStreamReply", "OK"): 4,
    }
    assert _samples(text, "grpc_server_handling_seconds_count") == {
        ("SayHello", ""): 9,
        ("SayHelloStreamReply", ""): 4,
    }
    assert _samples(text, "grpc_server_msg_sent_total") == {
        ("SayHello", ""): 7,
        ("SayHelloStreamReply", ""): 12,
    }
    assert "process_cpu_seconds_total" in text  # the default process collector is exported too


def test_a_cancelled_stream_is_counted_as_cancelled(start_server) -> None:
    server: ServerProcess = start_server(STREAM_REPLY_COUNT="50", STREAM_REPLY_INTERVAL_SECONDS="0.2")
    stub = helloworld_pb2_grpc.GreeterStub(server.channel())
    stream = stub.SayHelloStreamReply(helloworld_pb2.HelloRequest(name="c"), timeout=30)
    next(stream)
    stream.cancel()
    for _ in range(100):  # the server notices the cancellation asynchronously
        handled = _samples(server.scrape(), "grpc_server_handled_total")
        if handled:
            break
        time.sleep(0.1)
    assert handled == {("SayHelloStreamReply", "CANCELLED"): 1}
