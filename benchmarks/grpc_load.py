"""Closed-loop gRPC load generator on loopback, bounded in time.

Measures, in one run and with identical client settings:
  bare-aio         a grpc.aio server with the same Greeter handler and no interceptors
  bare-sync        a sync grpc.server (thread pool) with the same handler and no interceptors
  service          ``python -m service`` as deployed without a connection string: metrics
                   interceptor on, tracing off
  service-sampled  the same with tracing on, 10% head sampling (spans dropped in-process)
  service-traced   the same with every RPC traced (always_on; spans dropped in-process)
plus server-streaming messages/s against the service.

The server under test is pinned to CPU 0 and the client to the remaining CPUs (Linux
sched_setaffinity), so "RPS on one core" means one server core. The client sends pre-serialised
bytes (identity serializers) to keep its own cost low, and reports the server's CPU use so you can
see whether the server (not the client) was the bottleneck.

    venv/bin/python benchmarks/grpc_load.py            # defaults: about 2 minutes in all

Not a test: nothing here asserts; the figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent import futures
from dataclasses import asdict, dataclass

import grpc

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from service.generated import helloworld_pb2, helloworld_pb2_grpc  # noqa: E402

SAY_HELLO = "/helloworld.Greeter/SayHello"
SAY_HELLO_STREAM = "/helloworld.Greeter/SayHelloStreamReply"
MAX_DURATION_SECONDS = 60.0
_IDENTITY = {"request_serializer": None, "response_deserializer": None}


# ----------------------------------------------------------------------------- bare servers
class _AioGreeter(helloworld_pb2_grpc.GreeterServicer):
    async def SayHello(self, request, context):
        return helloworld_pb2.HelloReply(message=f"Hello, {request.name or 'world'}!")


class _SyncGreeter(helloworld_pb2_grpc.GreeterServicer):
    def SayHello(self, request, context):
        return helloworld_pb2.HelloReply(message=f"Hello, {request.name or 'world'}!")


async def _serve_bare_aio(port: int) -> None:
    server = grpc.aio.server()
    helloworld_pb2_grpc.add_GreeterServicer_to_server(_AioGreeter(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop(0)


def _serve_bare_sync(port: int, workers: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    helloworld_pb2_grpc.add_GreeterServicer_to_server(_SyncGreeter(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    server.wait_for_termination()


# ----------------------------------------------------------------------------- helpers
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pin(pid: int, cpus: set[int]) -> None:
    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, cpus)


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(SAY_HELLO, **_IDENTITY)
        while True:
            try:
                call(helloworld_pb2.HelloRequest(name="warm").SerializeToString(), timeout=2)
                return
            except grpc.RpcError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@dataclass
class Result:
    target: str
    kind: str
    concurrency: int
    seconds: float
    count: int
    errors: int
    per_second: float
    p50_ms: float | None
    p99_ms: float | None
    server_cpu_percent: float
    client_cpu_percent: float = 0.0


async def _unary_load(port: int, concurrency: int, warmup: float, duration: float, channels: int):
    payload = helloworld_pb2.HelloRequest(name="bench").SerializeToString()
    chans = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(channels)]
    calls = [c.unary_unary(SAY_HELLO, **_IDENTITY) for c in chans]
    latencies: list[float] = []
    errors = 0
    measuring = False
    stop = False

    async def worker(i: int) -> None:
        nonlocal errors
        call = calls[i % len(calls)]
        while not stop:
            t0 = time.perf_counter()
            try:
                await call(payload, timeout=10)
            except grpc.RpcError:
                errors += measuring
                continue
            if measuring:
                latencies.append(time.perf_counter() - t0)

    tasks = [asyncio.create_task(worker(i)) for i in range(concurrency)]
    await asyncio.sleep(warmup)
    measuring = True
    latencies.clear()
    started = time.perf_counter()
    await asyncio.sleep(duration)
    measuring = False
    elapsed = time.perf_counter() - started
    count = len(latencies)
    stop = True
    await asyncio.gather(*tasks)
    for c in chans:
        await c.close()
    return count, errors, elapsed, latencies


async def _stream_load(port: int, concurrency: int, warmup: float, duration: float):
    payload = helloworld_pb2.HelloRequest(name="bench").SerializeToString()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    call = channel.unary_stream(SAY_HELLO_STREAM, **_IDENTITY)
    messages = 0
    errors = 0
    measuring = False
    stop = False

    async def worker() -> None:
        nonlocal messages, errors
        while not stop:
            try:
                async for _ in call(payload, timeout=30):
                    messages += measuring
            except grpc.RpcError:
                errors += measuring

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(warmup)
    measuring = True
    before = messages
    started = time.perf_counter()
    await asyncio.sleep(duration)
    measuring = False
    elapsed = time.perf_counter() - started
    count = messages - before
    stop = True
    await asyncio.gather(*tasks)
    await channel.close()
    return count, errors, elapsed


class _FakeContext:
    def code(self):
        return None

    def is_active(self):
        return True


def _interceptor_cost_us(calls: int = 50_000) -> float:
    """Per-call cost of the service's metrics wrapper around a unary handler (no network, no grpc)."""
    from prometheus_client import CollectorRegistry

    from service.metrics import MetricsInterceptor, ServerMetrics

    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    details = type("Details", (), {"method": "/helloworld.Greeter/SayHello", "invocation_metadata": ()})()
    interceptor = MetricsInterceptor(ServerMetrics(CollectorRegistry()))
    context = _FakeContext()

    def timed(fn) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn(b"", context)
            best = min(best, time.perf_counter() - t0)
        return best

    def wrapped(request, ctx):
        wrapped_handler = interceptor.intercept_service(lambda _: handler, details)
        assert wrapped_handler is not None
        return wrapped_handler.unary_unary(request, ctx)

    return (timed(wrapped) - timed(handler.unary_unary)) / calls * 1e6


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index] * 1000.0


def _server_command(target: str, port: int, args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if target == "bare-aio":
        return [sys.executable, __file__, "--serve", "bare-aio", "--port", str(port)], env
    if target == "bare-sync":
        cmd = [sys.executable, __file__, "--serve", "bare-sync", "--port", str(port)]
        return [*cmd, "--sync-workers", str(args.sync_workers)], env
    env.update(
        GRPC_PORT=str(port),
        METRICS_PORT=str(_free_port()),
        LOG_LEVEL="WARNING",
        STREAM_REPLY_COUNT=str(args.stream_messages),
        STREAM_REPLY_INTERVAL_SECONDS="0",
        DRAIN_DELAY_SECONDS="0",
        SHUTDOWN_GRACE_SECONDS="1",
    )
    env.pop("APPLICATIONINSIGHTS_CONNECTION_STRING", None)
    env.pop("APPLICATIONINSIGHTS_CONNECTION_STRING_FILE", None)
    if target == "service-traced":
        # Every RPC sampled and exported to an in-process exporter that drops the spans: the full
        # tracing cost (span creation, context propagation, batch processing) minus the network.
        env.update(TRACES_EXTRA_EXPORTER="discard", OTEL_TRACES_SAMPLER="always_on")
    elif target == "service-sampled":
        # Tracing on with 10% head sampling: the cost an operator pays with a sampler configured.
        env.update(
            TRACES_EXTRA_EXPORTER="discard",
            OTEL_TRACES_SAMPLER="parentbased_traceidratio",
            OTEL_TRACES_SAMPLER_ARG="0.1",
        )
    return [sys.executable, "-m", "service"], env


def run_target(target: str, args: argparse.Namespace) -> list[Result]:
    port = _free_port()
    cmd, env = _server_command(target, port, args)
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    server_cpu = {cpus[0]}
    client_cpus = set(cpus[1:]) or server_cpu
    _pin(proc.pid, server_cpu)
    _pin(0, client_cpus)
    results = []
    try:
        _wait_ready(port)
        cpu0, client0 = _cpu_seconds(proc.pid), time.process_time()
        t0 = time.perf_counter()
        count, errors, elapsed, lat = asyncio.run(
            _unary_load(port, args.concurrency, args.warmup, args.duration, args.channels)
        )
        wall = time.perf_counter() - t0
        cpu = (_cpu_seconds(proc.pid) - cpu0) / wall * 100
        client_cpu = (time.process_time() - client0) / wall * 100
        lat.sort()
        results.append(
            Result(
                target,
                "unary",
                args.concurrency,
                round(elapsed, 2),
                count,
                errors,
                round(count / elapsed, 1),
                _percentile(lat, 0.50),
                _percentile(lat, 0.99),
                round(cpu),
                round(client_cpu),
            )
        )
        if target == "service" and args.stream_duration > 0:
            cpu0, client0 = _cpu_seconds(proc.pid), time.process_time()
            t0 = time.perf_counter()
            count, errors, elapsed = asyncio.run(
                _stream_load(port, args.stream_concurrency, args.warmup, args.stream_duration)
            )
            wall = time.perf_counter() - t0
            cpu = (_cpu_seconds(proc.pid) - cpu0) / wall * 100
            client_cpu = (time.process_time() - client0) / wall * 100
            results.append(
                Result(
                    target,
                    "server-stream msgs",
                    args.stream_concurrency,
                    round(elapsed, 2),
                    count,
                    errors,
                    round(count / elapsed, 1),
                    None,
                    None,
                    round(cpu),
                    round(client_cpu),
                )
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _pin(0, set(cpus))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Closed-loop gRPC load generator (loopback).")
    parser.add_argument(
        "--targets",
        default="bare-aio,bare-sync,service,service-sampled,service-traced",
        help="comma-separated: bare-aio, bare-sync, service, service-sampled, service-traced",
    )
    parser.add_argument("--duration", type=float, default=4.0, help="measured seconds per target (max 60)")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured seconds before each run")
    parser.add_argument("--concurrency", type=int, default=64, help="outstanding unary RPCs")
    parser.add_argument("--channels", type=int, default=4, help="client channels (connections)")
    parser.add_argument("--stream-duration", type=float, default=2.0, help="0 skips the streaming run")
    parser.add_argument("--stream-concurrency", type=int, default=8)
    parser.add_argument("--stream-messages", type=int, default=100, help="messages per stream")
    parser.add_argument("--sync-workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="repeat all targets, interleaved (1-5)")
    parser.add_argument("--json", action="store_true", help="print results as JSON lines")
    parser.add_argument("--serve", choices=["bare-aio", "bare-sync"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve == "bare-aio":
        asyncio.run(_serve_bare_aio(args.port))
        return 0
    if args.serve == "bare-sync":
        _serve_bare_sync(args.port, args.sync_workers)
        return 0
    for name in ("duration", "stream_duration", "warmup"):
        value = getattr(args, name)
        if not 0 <= value <= MAX_DURATION_SECONDS:
            parser.error(f"--{name.replace('_', '-')} must be between 0 and {MAX_DURATION_SECONDS:g}")
    if args.duration <= 0:
        parser.error("--duration must be > 0")
    if not 1 <= args.rounds <= 5:
        parser.error("--rounds must be between 1 and 5")

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    print(
        f"# python {sys.version.split()[0]}, grpcio {grpc.__version__}, cpus {os.cpu_count()}, "
        f"concurrency {args.concurrency}, channels {args.channels}, duration {args.duration}s, "
        f"rounds {args.rounds} (targets interleaved), load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    all_results: list[Result] = []
    numbered: list[tuple[int, Result]] = []
    for round_no in range(1, args.rounds + 1):
        for target in targets:
            for r in run_target(target, args):
                all_results.append(r)
                numbered.append((round_no, r))
                if args.json:
                    print(json.dumps({"round": round_no, **asdict(r)}), flush=True)
                else:
                    lat = "" if r.p50_ms is None else f"  p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms"
                    print(
                        f"round {round_no}  {r.target:15} {r.kind:19} {r.per_second:9.1f}/s{lat}  "
                        f"errors {r.errors}  server cpu {r.server_cpu_percent}%  "
                        f"client cpu {r.client_cpu_percent}%",
                        flush=True,
                    )
    print(
        f"# median over rounds (load average now {os.getloadavg()[0]:.2f}; "
        "other work on this machine skews every figure)"
    )
    medians: dict[tuple[str, str], float] = {}
    for target in targets:
        for kind in ("unary", "server-stream msgs"):
            runs = [r for r in all_results if r.target == target and r.kind == kind]
            if not runs:
                continue
            medians[(target, kind)] = statistics.median(r.per_second for r in runs)
            line = f"{target:15} {kind:19} {medians[(target, kind)]:9.1f}/s"
            if kind == "unary":
                line += (
                    f"  p50 {statistics.median(r.p50_ms or 0 for r in runs):6.2f} ms"
                    f"  p99 {statistics.median(r.p99_ms or 0 for r in runs):6.2f} ms"
                )
            print(line)
    unary_by_round = {(n, r.target): r.per_second for n, r in numbered if r.kind == "unary"}
    print("# unary throughput relative to the bare servers: median of the per-round ratios [min-max]")
    for target in ("service", "service-sampled", "service-traced"):
        for bare in ("bare-sync", "bare-aio"):
            ratios = [
                unary_by_round[(n, target)] / unary_by_round[(n, bare)] * 100
                for n in range(1, args.rounds + 1)
                if unary_by_round.get((n, target)) and unary_by_round.get((n, bare))
            ]
            if ratios:
                print(
                    f"# {target:15} / {bare:9} = {statistics.median(ratios):5.1f}%  "
                    f"[{min(ratios):.1f}-{max(ratios):.1f}]"
                )
    if "service" in targets:
        print(
            f"# metrics interceptor, in-process: {_interceptor_cost_us():.1f} us per unary call "
            "on top of the handler"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
