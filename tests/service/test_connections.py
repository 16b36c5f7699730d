"""Connection limits seen from a real socket: idle connections are closed, ping floods refused."""

from __future__ import annotations

import time

from service_harness import ServerProcess
from stalled_streams import StalledStreams

ENHANCE_YOUR_CALM = 0xB  # HTTP/2 error code grpc-core sends with "too_many_pings"


def _wait_for_goaway(connection: StalledStreams, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if connection.goaways or connection.closed_by_server:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_an_idle_connection_is_closed_after_max_connection_idle(start_server) -> None:
    server: ServerProcess = start_server(MAX_CONNECTION_IDLE_SECONDS="1")
    with StalledStreams("127.0.0.1", server.grpc_port, streams=0, connections=1) as idle:
        closed_after = _wait_for_goaway(idle, seconds=10)
    assert closed_after is not None, "an idle connection must be closed"
    assert 0.5 <= closed_after <= 5, closed_after
    assert idle.goaways, "closed with a GOAWAY, not just a dropped socket"
    assert b"idle" in idle.goaways[0][1]


def test_client_pings_faster_than_the_enforced_interval_get_the_connection_closed(
    server: ServerProcess,
) -> None:
    # The defaults: pings without data at most every 10 s, 2 strikes.
    with StalledStreams("127.0.0.1", server.grpc_port, streams=0, connections=1) as flood:
        for _ in range(6):
            if not flood.ping():
                break
            time.sleep(0.05)
        assert _wait_for_goaway(flood, seconds=5) is not None
    assert flood.goaways, "expected a GOAWAY"
    code, debug = flood.goaways[0]
    assert code == ENHANCE_YOUR_CALM
    assert b"too_many_pings" in debug
