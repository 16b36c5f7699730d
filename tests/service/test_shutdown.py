"""Graceful shutdown with real signals: health flips first, in-flight RPCs finish, exit code 0."""

from __future__ import annotations

import signal
import threading
import time

import grpc
from service_harness import NOT_SERVING, SERVING, ServerProcess, health_status

from service import health_names
from service.generated import helloworld_pb2, helloworld_pb2_grpc

STREAM_MESSAGES = 10
DRAIN = 1.0
GRACE = 15.0


def test_sigterm_under_load_loses_no_in_flight_rpc_and_exits_zero(start_server) -> None:
    server: ServerProcess = start_server(
        STREAM_REPLY_COUNT=str(STREAM_MESSAGES),
        STREAM_REPLY_INTERVAL_SECONDS="0.2",
        DRAIN_DELAY_SECONDS=str(DRAIN),
        SHUTDOWN_GRACE_SECONDS=str(GRACE),
        SERVER_THREADS="16",
    )
    done = threading.Event()
    sigterm_at: list[float] = []
    stream_results: list[tuple[int, grpc.StatusCode]] = []
    unary_results: list[tuple[float, grpc.StatusCode]] = []
    health_seen: list[tuple[float, str, int]] = []
    lock = threading.Lock()
    first_message = threading.Barrier(5, timeout=30)

    def stream_client() -> None:
        stub = helloworld_pb2_grpc.GreeterStub(server.channel())
        received, code = 0, grpc.StatusCode.OK
        try:
            for _ in stub.SayHelloStreamReply(helloworld_pb2.HelloRequest(name="s"), timeout=60):
                received += 1
                if received == 1:
                    first_message.wait()
        except grpc.RpcError as error:
            code = error.code()
        with lock:
            stream_results.append((received, code))

    def unary_client() -> None:
        stub = helloworld_pb2_grpc.GreeterStub(server.channel())
        while not done.is_set():
            try:
                stub.SayHello(helloworld_pb2.HelloRequest(name="u"), timeout=10)
                code = grpc.StatusCode.OK
            except grpc.RpcError as error:
                code = error.code()
            with lock:
                unary_results.append((time.monotonic(), code))
            if code != grpc.StatusCode.OK:
                time.sleep(0.01)

    def health_poller() -> None:
        channel = server.channel()
        while not done.is_set():
            for name in (health_names.READINESS, health_names.LIVENESS):
                try:
                    status = health_status(channel, name, timeout=2)
                except grpc.RpcError:
                    continue
                with lock:
                    health_seen.append((time.monotonic(), name, status))
            time.sleep(0.02)

    threads = [threading.Thread(target=stream_client) for _ in range(4)]
    threads += [threading.Thread(target=unary_client) for _ in range(4)]
    threads.append(threading.Thread(target=health_poller))
    for thread in threads:
        thread.start()
    try:
        first_message.wait()  # all four streams are in flight
        time.sleep(0.2)
        sigterm_at.append(time.monotonic())
        server.signal(signal.SIGTERM)
        returncode = server.wait(timeout=DRAIN + GRACE + 20)
        exited_after = time.monotonic() - sigterm_at[0]
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)

    assert returncode == 0, server.stdout() + server.stderr()
    assert exited_after < DRAIN + GRACE
    # Every stream that was in flight at SIGTERM completed with all its messages.
    assert stream_results == [(STREAM_MESSAGES, grpc.StatusCode.OK)] * 4
    # Unary RPCs either completed, or were refused without running: UNAVAILABLE from the drain gate
    # or the closed connection. Never CANCELLED (grpc/grpc#41785, service/drain.py), INTERNAL,
    # UNKNOWN or DEADLINE_EXCEEDED.
    codes = [code for _, code in unary_results]
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}
    # The server's own count at exit proves no started handler was lost: every SayHello the server
    # started, it finished OK, and exactly as many as the clients saw succeed.
    (summary,) = [e for e in server.logs() if e["message"] == "shutdown complete"]
    say_hello = summary["rpcs"]["helloworld.Greeter/SayHello"]
    assert say_hello == {"started": codes.count(grpc.StatusCode.OK), "OK": codes.count(grpc.StatusCode.OK)}
    assert summary["rpcs"]["helloworld.Greeter/SayHelloStreamReply"] == {"started": 4, "OK": 4}
    t0 = sigterm_at[0]
    served_after_sigterm = [t for t, code in unary_results if t > t0 and code == grpc.StatusCode.OK]
    assert served_after_sigterm, "RPCs must still be served during the drain delay"
    # Readiness flipped to NOT_SERVING while the server was still answering; liveness never did.
    not_ready = [
        t for t, name, status in health_seen if name == health_names.READINESS and status == NOT_SERVING
    ]
    assert not_ready and min(not_ready) > t0
    assert min(not_ready) < max(served_after_sigterm)
    assert {s for _, name, s in health_seen if name == health_names.LIVENESS} == {SERVING}
    messages = [entry["message"] for entry in server.logs()]
    order = ["shutdown: readiness NOT_SERVING", "shutdown: refusing new RPCs", "shutdown complete"]
    assert [m for m in messages if m in order] == order


def test_grace_expiry_cancels_a_stream_that_would_not_finish_and_still_exits_zero(start_server) -> None:
    server: ServerProcess = start_server(
        STREAM_REPLY_COUNT="1000", STREAM_REPLY_INTERVAL_SECONDS="0.5", SHUTDOWN_GRACE_SECONDS="1"
    )
    stub = helloworld_pb2_grpc.GreeterStub(server.channel())
    stream = stub.SayHelloStreamReply(helloworld_pb2.HelloRequest(name="long"), timeout=60)
    next(stream)
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=20) == 0
    try:
        received = 1 + sum(1 for _ in stream)
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()
        received = -1
    assert code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE), (code, received)


def test_sigint_shuts_down_gracefully_too(start_server) -> None:
    server: ServerProcess = start_server()
    assert health_status(server.channel()) == SERVING
    server.signal(signal.SIGINT)
    assert server.wait(timeout=20) == 0
    assert "shutdown complete" in [entry["message"] for entry in server.logs()]


def test_a_second_signal_cuts_the_drain_delay_short(start_server) -> None:
    server: ServerProcess = start_server(DRAIN_DELAY_SECONDS="600")
    channel = server.channel()
    server.signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while health_status(channel, health_names.READINESS) != NOT_SERVING:  # draining, still answering
        assert time.monotonic() < deadline
        time.sleep(0.05)
    server.signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0  # far less than the 600 s drain delay


def test_a_second_signal_right_after_the_first_is_not_lost(start_server) -> None:
    # Two different signals back to back (the same one twice may coalesce in the kernel): the
    # second lands before the shutdown has begun, and must still cut the drain delay short.
    server: ServerProcess = start_server(DRAIN_DELAY_SECONDS="600")
    assert health_status(server.channel()) == SERVING
    server.signal(signal.SIGTERM)
    server.signal(signal.SIGINT)
    assert server.wait(timeout=30) == 0


DRAIN_RUNS = 4
DRAIN_CLIENTS = 6


def _drive_and_sigterm(
    server: ServerProcess, seconds_before: float
) -> list[tuple[float, float, grpc.StatusCode]]:
    """Unary load from several real clients; SIGTERM; returns (started, sigterm, code) per call."""
    done = threading.Event()
    calls: list[tuple[float, grpc.StatusCode]] = []
    lock = threading.Lock()

    def client() -> None:
        # A channel (connection) of its own per client, so calls interleave across connections.
        channel = grpc.insecure_channel(server.target, options=[("grpc.use_local_subchannel_pool", 1)])
        server.channels.append(channel)
        stub = helloworld_pb2_grpc.GreeterStub(channel)
        while not done.is_set():
            started = time.monotonic()
            try:
                stub.SayHello(helloworld_pb2.HelloRequest(name="d"), timeout=10)
                code = grpc.StatusCode.OK
            except grpc.RpcError as error:
                code = error.code()
            with lock:
                calls.append((started, code))
            if code == grpc.StatusCode.UNAVAILABLE:
                time.sleep(0.005)

    threads = [threading.Thread(target=client) for _ in range(DRAIN_CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(seconds_before)
        sigterm_at = time.monotonic()
        server.signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, server.stdout()
        time.sleep(0.1)  # calls after the exit: refused, so UNAVAILABLE
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)
    return [(started, sigterm_at, code) for started, code in calls]


def test_default_drain_loses_no_rpc_started_before_sigterm_in_repeated_runs(start_server) -> None:
    # The default environment: no DRAIN_DELAY_SECONDS, no SHUTDOWN_GRACE_SECONDS.
    outcomes = []
    for run in range(DRAIN_RUNS):
        server: ServerProcess = start_server()
        calls = _drive_and_sigterm(server, seconds_before=0.3 + 0.1 * run)
        before = [code for started, sigterm, code in calls if started < sigterm]
        after = [code for started, sigterm, code in calls if started >= sigterm]
        assert len(before) > 50, "the load must be running when SIGTERM arrives"
        # Every call a client started before SIGTERM completed.
        assert set(before) == {grpc.StatusCode.OK}, (
            run,
            sorted(c.name for c in before if c != grpc.StatusCode.OK),
        )
        # Calls started after it were served (during the drain) or refused, never cancelled.
        assert set(after) <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, (run, {c.name for c in after})
        assert grpc.StatusCode.OK in after, "the drain window keeps serving after SIGTERM"
        outcomes.append(
            (len(before), after.count(grpc.StatusCode.OK), after.count(grpc.StatusCode.UNAVAILABLE))
        )
    assert len(outcomes) == DRAIN_RUNS
