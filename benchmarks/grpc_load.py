"""Closed-loop gRPC load generator on loopback, bounded in time.

Measures, in one run and with identical client settings:
  bare-aio    a grpc.aio server with the same Greeter handler and no interceptors
  bare-sync   a sync grpc.server (thread pool) with the same handler and no interceptors
  service     ``python -m service`` with all its interceptors (metrics, logging context, and
              tracing when --traced is given: spans are recorded and dropped in-process)
plus server-streaming messages/s against the service.

The server under test is pinned to CPU 0 and the client to the remaining CPUs (Linux
sched_setaffinity), so "RPS on one core" means one server core. The client sends pre-serialised
bytes (identity serializers) to keep its own cost low, and reports the server's CPU use so you can
see whether the server (not the client) was the bottleneck.

    venv/bin/python benchmarks/grpc_load.py --duration 10 --concurrency 64

Not a test: nothing here asserts; the figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
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
    async def SayHello(self, request, context):  # noqa: N802 (gRPC method name)
        return helloworld_pb2.HelloReply(message=f"Hello, {request.name or 'world'}!")


class _SyncGreeter(helloworld_pb2_grpc.GreeterServicer):
    def SayHello(self, request, context):  # noqa: N802 (gRPC method name)
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
        try:
            os.sched_setaffinity(pid, cpus)
        except OSError:
            pass


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


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, int(round(q * (len(sorted_values) - 1))))
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
        env.update(SERVICE_TRACE_EXPORTER="discard", OTEL_TRACES_SAMPLER="always_on")
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
        cpu0 = _cpu_seconds(proc.pid)
        t0 = time.perf_counter()
        count, errors, elapsed, lat = asyncio.run(
            _unary_load(port, args.concurrency, args.warmup, args.duration, args.channels)
        )
        cpu = (_cpu_seconds(proc.pid) - cpu0) / (time.perf_counter() - t0) * 100
        lat.sort()
        results.append(
            Result(target, "unary", args.concurrency, round(elapsed, 2), count, errors,
                   round(count / elapsed, 1), _percentile(lat, 0.50), _percentile(lat, 0.99), round(cpu))
        )
        if target.startswith("service") and args.stream_duration > 0:
            cpu0 = _cpu_seconds(proc.pid)
            t0 = time.perf_counter()
            count, errors, elapsed = asyncio.run(
                _stream_load(port, args.stream_concurrency, args.warmup, args.stream_duration)
            )
            cpu = (_cpu_seconds(proc.pid) - cpu0) / (time.perf_counter() - t0) * 100
            results.append(
                Result(target, "server-stream msgs", args.stream_concurrency, round(elapsed, 2), count,
                       errors, round(count / elapsed, 1), None, None, round(cpu))
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
    parser.add_argument("--targets", default="bare-aio,bare-sync,service,service-traced",
                        help="comma-separated: bare-aio, bare-sync, service, service-traced")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per target (max 60)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each run")
    parser.add_argument("--concurrency", type=int, default=64, help="outstanding unary RPCs")
    parser.add_argument("--channels", type=int, default=4, help="client channels (connections)")
    parser.add_argument("--stream-duration", type=float, default=5.0, help="0 skips the streaming run")
    parser.add_argument("--stream-concurrency", type=int, default=8)
    parser.add_argument("--stream-messages", type=int, default=100, help="messages per stream")
    parser.add_argument("--sync-workers", type=int, default=16)
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

    print(f"# python {sys.version.split()[0]}, grpcio {grpc.__version__}, cpus {os.cpu_count()}, "
          f"concurrency {args.concurrency}, channels {args.channels}, duration {args.duration}s",
          flush=True)
    all_results: list[Result] = []
    for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
        for r in run_target(target, args):
            all_results.append(r)
            if args.json:
                print(json.dumps(asdict(r)), flush=True)
            else:
                lat = "" if r.p50_ms is None else f"  p50 {r.p50_ms:.2f} ms  p99 {r.p99_ms:.2f} ms"
                print(f"{r.target:15} {r.kind:19} {r.per_second:9.1f}/s{lat}  errors {r.errors}  "
                      f"server cpu {r.server_cpu_percent}%", flush=True)
    unary = {r.target: r.per_second for r in all_results if r.kind == "unary"}
    for target in ("service", "service-traced"):
        if target in unary and "bare-aio" in unary and unary["bare-aio"]:
            print(f"# {target} / bare-aio = {unary[target] / unary['bare-aio'] * 100:.1f}%")
    _ = statistics  # keep import for ad-hoc use
    return 0


if __name__ == "__main__":
    sys.exit(main())
