"""Closed-loop gRPC load generator on loopback, bounded in time.

Measures, in one run, with identical client settings and the targets interleaved round by round,
at each number of streams per connection (``--streams-per-connection``, default 1 and 10, over
``--connections`` separate TCP connections):
  bare-sync        a sync grpc.server (ThreadPoolExecutor) with the same handler, no interceptors
  bare-aio         a grpc.aio server with the same handler and no interceptors
  service          ``python -m service`` without tracing: metrics interceptor, health, reflection,
                   elastic pool, keepalive/idle/age options
  service-default  the service with tracing on at its default sampling (TRACES_SAMPLE_RATIO
                   unset), spans exported in-process to an exporter that drops them
  service-traced   the same with every root call traced (TRACES_SAMPLE_RATIO=1)
plus server-streaming messages/s against the service.

The server under test is pinned to CPU 0 and the client to the remaining CPUs (Linux
sched_setaffinity), so "RPS" means per server core. The client sends pre-serialised bytes
(identity serializers) to keep its own cost low, and reports the server's CPU use so you can see
whether the server (not the client) was the bottleneck.

    venv/bin/python benchmarks/grpc_load.py            # defaults: about 10 minutes in all

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


def _serve_bare_sync(port: int, workers: int, elastic: bool = False) -> None:
    if elastic:  # the service's handler pool, without anything else of the service
        from service.workers import ElasticThreadPool

        pool: futures.Executor = ElasticThreadPool(workers, 1024)
    else:
        pool = futures.ThreadPoolExecutor(max_workers=workers)
    server = grpc.server(pool)
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


# Without a local subchannel pool, channels to the same target share one TCP connection.
_OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


async def _unary_load(port: int, concurrency: int, warmup: float, duration: float, channels: int):
    payload = helloworld_pb2.HelloRequest(name="bench").SerializeToString()
    chans = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=_OWN_CONNECTION) for _ in range(channels)]
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


def _metrics_wrapper_cost_us(calls: int = 50_000) -> float:
    """Per-call cost of the service's metrics wrapper around a unary handler (no network, no grpc)."""
    from prometheus_client import CollectorRegistry

    from service.metrics import ServerMetrics, with_metrics

    handler = grpc.unary_unary_rpc_method_handler(lambda request, context: request)
    wrapped_handler = with_metrics(ServerMetrics(CollectorRegistry()), handler, SAY_HELLO)
    context = _FakeContext()

    def timed(fn) -> float:
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn(b"", context)
            best = min(best, time.perf_counter() - t0)
        return best

    return (timed(wrapped_handler.unary_unary) - timed(handler.unary_unary)) / calls * 1e6


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index] * 1000.0


def _server_command(target: str, port: int, args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if target == "bare-aio":
        return [sys.executable, __file__, "--serve", "bare-aio", "--port", str(port)], env
    if target in ("bare-sync", "bare-elastic"):
        cmd = [sys.executable, __file__, "--serve", target, "--port", str(port)]
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
    env.pop("TRACES_SAMPLE_RATIO", None)
    if target == "service-traced":
        # Every root call sampled and exported to an in-process exporter that drops the spans: the
        # full tracing cost (span creation, context propagation, batch processing) minus the network.
        env.update(TRACES_EXTRA_EXPORTER="discard", TRACES_SAMPLE_RATIO="1")
    elif target == "service-unsampled":
        # Tracing on, nothing sampled: what the sampling decision and the interceptor chain cost.
        env.update(TRACES_EXTRA_EXPORTER="discard", TRACES_SAMPLE_RATIO="0")
    elif target == "service-default":
        # Tracing on at the service's default root sampling ratio: what a deployment pays.
        env.update(TRACES_EXTRA_EXPORTER="discard")
    return [sys.executable, "-m", "service"], env


def run_target(target: str, args: argparse.Namespace, concurrency: int) -> list[Result]:
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
            _unary_load(port, concurrency, args.warmup, args.duration, args.channels)
        )
        wall = time.perf_counter() - t0
        cpu = (_cpu_seconds(proc.pid) - cpu0) / wall * 100
        client_cpu = (time.process_time() - client0) / wall * 100
        lat.sort()
        results.append(
            Result(
                target,
                "unary",
                concurrency,
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
        if target == "service" and args.stream_duration > 0 and concurrency == args.channels:
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


def profile(target: str, args: argparse.Namespace, concurrency: int) -> None:
    """Sample the server with py-spy under load (``--gil``: only the thread holding the GIL, so
    threads parked in a wait are not counted); print the top functions by own and inclusive time."""
    port = _free_port()
    cmd, env = _server_command(target, port, args)
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL)
    cpus = sorted(os.sched_getaffinity(0))
    _pin(proc.pid, {cpus[0]})
    _pin(0, set(cpus[1:]) or {cpus[0]})
    out = f"/tmp/grpc-load-{target}-{os.getpid()}.folded"
    try:
        _wait_ready(port)
        spy = subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(proc.pid),
                "--duration",
                str(int(args.duration)),
                "--rate",
                "250",
                "--gil",  # only the thread holding the GIL: where the Python-level CPU goes
                "--format",
                "raw",
                "--output",
                out,
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        asyncio.run(_unary_load(port, concurrency, args.warmup, args.duration + 1, args.channels))
        spy.wait(timeout=30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        _pin(0, set(cpus))
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    with open(out) as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            total += int(count)
            # The leaf frame, without its line number: where the samples were taken.
            leaf = frames[-1].rsplit(":", 1)[0] if frames else "?"
            own[leaf] = own.get(leaf, 0) + int(count)
            for name in {frame.rsplit(":", 1)[0] for frame in frames}:
                inclusive[name] = inclusive.get(name, 0) + int(count)
    print(f"# py-spy, {target}, {concurrency} streams over {args.channels} connections: {total} samples")
    for title, table in (("own", own), ("inclusive", inclusive)):
        print(f"# top by {title} samples")
        for function, samples in sorted(table.items(), key=lambda kv: -kv[1])[:15]:
            print(f"{samples / total * 100:5.1f}%  {function}")


TARGETS = (
    "bare-sync",
    "bare-aio",
    "bare-elastic",
    "service",
    "service-unsampled",
    "service-default",
    "service-traced",
)
DEFAULT_TARGETS = ("bare-sync", "bare-aio", "bare-elastic", "service", "service-default", "service-traced")


def _report(targets: list[str], numbered: list[tuple[int, Result]], rounds: int, level: int) -> None:
    runs_of = {t: [r for _, r in numbered if r.target == t and r.kind == "unary"] for t in targets}
    print(f"# {level} stream(s) per connection: median over rounds")
    for target in targets:
        runs = runs_of[target]
        if runs:
            print(
                f"{target:15} unary {statistics.median(r.per_second for r in runs):9.1f}/s"
                f"  p50 {statistics.median(r.p50_ms or 0 for r in runs):6.2f} ms"
                f"  p99 {statistics.median(r.p99_ms or 0 for r in runs):6.2f} ms"
            )
    by_round = {(n, r.target): r.per_second for n, r in numbered if r.kind == "unary"}

    def ratios(target: str, base: str) -> list[float]:
        return [
            by_round[(n, target)] / by_round[(n, base)] * 100
            for n in range(1, rounds + 1)
            if by_round.get((n, target)) and by_round.get((n, base))
        ]

    print(f"# {level} stream(s) per connection: per-round ratios, median [min-max]")
    for target, base in (
        ("service", "bare-sync"),
        ("service-default", "bare-sync"),
        ("service-traced", "bare-sync"),
        ("bare-aio", "bare-sync"),
        ("bare-elastic", "bare-sync"),
        ("service-unsampled", "service"),
        ("service-default", "service"),
        ("service-traced", "service"),
    ):
        values = ratios(target, base)
        if values:
            print(
                f"# {target:15} / {base:9} = {statistics.median(values):5.1f}%  "
                f"[{min(values):.1f}-{max(values):.1f}]  rounds: " + " ".join(f"{v:.1f}" for v in values)
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Closed-loop gRPC load generator (loopback).")
    parser.add_argument(
        "--targets", default=",".join(DEFAULT_TARGETS), help="comma-separated: " + ", ".join(TARGETS)
    )
    parser.add_argument("--duration", type=float, default=3.0, help="measured seconds per target (max 60)")
    parser.add_argument(
        "--warmup",
        type=float,
        default=4.0,
        help="unmeasured seconds of load before each measurement (a fresh server can take 3 s to settle)",
    )
    parser.add_argument(
        "--streams-per-connection",
        default="1,10",
        help="comma-separated levels of outstanding RPCs per connection",
    )
    parser.add_argument("--connections", type=int, default=4, help="client TCP connections")
    parser.add_argument("--stream-duration", type=float, default=2.0, help="0 skips the streaming run")
    parser.add_argument("--stream-concurrency", type=int, default=8)
    parser.add_argument("--stream-messages", type=int, default=100, help="messages per stream")
    parser.add_argument("--sync-workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="repeat all targets, interleaved (1-9)")
    parser.add_argument("--json", action="store_true", help="print results as JSON lines")
    parser.add_argument("--profile", choices=TARGETS, help="py-spy the target instead (needs py-spy)")
    parser.add_argument("--serve", choices=["bare-aio", "bare-sync", "bare-elastic"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.channels = args.connections

    if args.serve == "bare-aio":
        asyncio.run(_serve_bare_aio(args.port))
        return 0
    if args.serve in ("bare-sync", "bare-elastic"):
        _serve_bare_sync(args.port, args.sync_workers, elastic=args.serve == "bare-elastic")
        return 0
    for name in ("duration", "stream_duration", "warmup"):
        value = getattr(args, name)
        if not 0 <= value <= MAX_DURATION_SECONDS:
            parser.error(f"--{name.replace('_', '-')} must be between 0 and {MAX_DURATION_SECONDS:g}")
    if args.duration <= 0:
        parser.error("--duration must be > 0")
    if not 1 <= args.rounds <= 9:
        parser.error("--rounds must be between 1 and 9")
    levels = [int(x) for x in args.streams_per_connection.split(",") if x.strip()]
    if args.profile:
        for level in levels:
            profile(args.profile, args, level * args.connections)
        return 0

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    print(
        f"# python {sys.version.split()[0]}, grpcio {grpc.__version__}, cpus {os.cpu_count()}, "
        f"connections {args.connections}, streams per connection {levels}, duration {args.duration}s, "
        f"rounds {args.rounds} (targets interleaved), load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    for level in levels:
        concurrency = level * args.connections
        numbered: list[tuple[int, Result]] = []
        for round_no in range(1, args.rounds + 1):
            # Rotate the order each round so no target always runs right after the same neighbour.
            order = targets[round_no % len(targets) :] + targets[: round_no % len(targets)]
            for target in order:
                for r in run_target(target, args, concurrency):
                    numbered.append((round_no, r))
                    if args.json:
                        print(json.dumps({"round": round_no, **asdict(r)}), flush=True)
                    else:
                        lat = "" if r.p50_ms is None else f"  p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms"
                        print(
                            f"level {level} round {round_no}  {r.target:15} {r.kind:19} {r.per_second:9.1f}/s"
                            f"{lat}  errors {r.errors}  server cpu {r.server_cpu_percent}%  "
                            f"client cpu {r.client_cpu_percent}%",
                            flush=True,
                        )
        _report(targets, numbered, args.rounds, level)
        streams = [r for _, r in numbered if r.kind != "unary"]
        if streams:
            print(f"# server streaming: {statistics.median(r.per_second for r in streams):.0f} msgs/s median")
    print(f"# load average now {os.getloadavg()[0]:.2f} (other work on this machine skews every figure)")
    if "service" in targets:
        print(
            f"# metrics wrapper, in-process: {_metrics_wrapper_cost_us():.1f} us per unary call "
            "on top of the handler"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
