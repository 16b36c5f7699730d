"""Clients that send a call's HEADERS and never its body do not stop the server answering others.

Real sockets speak HTTP/2 to the real server (tests/service/stalled_streams.py); a real grpc client
on a fresh channel (what the kubelet's gRPC probe does) must then get Health/Check and SayHello
answered within a 100 ms deadline, and the server's memory must stay bounded.
"""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from service_harness import SERVING, ServerProcess
from stalled_streams import StalledStreams

from service.generated import helloworld_pb2, helloworld_pb2_grpc

DEADLINE = 0.1  # seconds: the answer time the issue asks for
MAX_CONCURRENT_STREAMS = 100  # per connection, the service's default (MAX_CONCURRENT_STREAMS)
ATTEMPTS = 3  # per fresh client; other work shares this machine's two cores


def _rss_kib(server: ServerProcess) -> int:
    with open(f"/proc/{server.proc.pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def _fresh_client_answers(server: ServerProcess) -> tuple[bool, list[str]]:
    """Health/Check then SayHello on a new channel, each with a 100 ms deadline (connect included)."""
    seen = []
    for _ in range(ATTEMPTS):
        with grpc.insecure_channel(server.target) as channel:
            started = time.perf_counter()
            try:
                health = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=DEADLINE
                )
                greeter = helloworld_pb2_grpc.GreeterStub(channel)
                reply = greeter.SayHello(helloworld_pb2.HelloRequest(name="fresh"), timeout=DEADLINE)
            except grpc.RpcError as error:
                seen.append(error.code().name)
                continue
            seen.append(f"{(time.perf_counter() - started) * 1000:.1f} ms")
            if health.status == SERVING and reply.message == "Hello, fresh!":
                return True, seen
    return False, seen


@pytest.fixture(scope="module")
def slow_client_server(tmp_path_factory: pytest.TempPathFactory):
    from conftest import ServerFactory

    factory = ServerFactory(tmp_path_factory.mktemp("slow-clients"))
    yield factory()  # the default environment
    factory.close()


@pytest.mark.parametrize(
    ("streams", "connections"),
    [(8, 1), (8, 4), (64, 4), (64, 1), (256, 8), (256, 1)],
    ids=lambda v: str(v),
)
def test_stalled_request_bodies_do_not_stop_health_checks_or_new_calls(
    slow_client_server: ServerProcess, streams: int, connections: int
) -> None:
    server = slow_client_server
    rss_before = _rss_kib(server)
    host, port = "127.0.0.1", server.grpc_port
    with StalledStreams(host, port, streams, connections) as stalled:
        time.sleep(0.3)  # the server has the HEADERS and is waiting for bodies
        # Every stream is held, except those beyond the per-connection limit, which are refused.
        expected_held = min(streams, connections * MAX_CONCURRENT_STREAMS)
        assert stalled.closed_by_server == 0
        assert stalled.held == expected_held, (stalled.held, stalled.refused)
        for _ in range(3):
            answered, seen = _fresh_client_answers(server)
            assert answered, f"{streams} stalled streams on {connections} connection(s): {seen}"
        assert stalled.held == expected_held  # the answers did not come from dropping the slow clients
        grown_kib = _rss_kib(server) - rss_before
    # Bounded memory: a held stream costs a parked thread and its call state, well under 256 KiB.
    assert grown_kib < 256 * expected_held, f"RSS grew {grown_kib} KiB for {expected_held} streams"
    # And the server still answers after the slow clients went away.
    answered, seen = _fresh_client_answers(server)
    assert answered, seen
