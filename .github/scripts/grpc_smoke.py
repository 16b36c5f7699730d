"""Smoke test of a running Greeter: every health name SERVING, then one SayHello answered.

Usage: python grpc_smoke.py HOST:PORT [TIMEOUT_SECONDS]
Needs only grpcio, grpcio-health-checking and the service's generated stubs (all in the image), so CI
runs it inside the container it just built (.github/scripts/smoke-test-image.sh). Exit 0 on success,
1 with the reason on stderr otherwise.
"""

import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service.generated import helloworld_pb2, helloworld_pb2_grpc
from service.health_names import ALL_NAMES


def wait_until_serving(channel: grpc.Channel, deadline: float) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    pending = list(ALL_NAMES)
    while pending:
        name = pending[0]
        try:
            status = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2).status
        except grpc.RpcError as error:
            status = None
            if time.monotonic() > deadline:
                raise SystemExit(f"health check {name!r}: {error.code().name} {error.details()}") from None
        if status == health_pb2.HealthCheckResponse.SERVING:
            pending.pop(0)
        elif time.monotonic() > deadline:
            raise SystemExit(f"health check {name!r} is {status}, not SERVING")
        else:
            time.sleep(0.5)


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else "127.0.0.1:50051"
    deadline = time.monotonic() + (float(argv[2]) if len(argv) > 2 else 60.0)
    with grpc.insecure_channel(target) as channel:
        wait_until_serving(channel, deadline)
        reply = helloworld_pb2_grpc.GreeterStub(channel).SayHello(
            helloworld_pb2.HelloRequest(name="smoke-test"), timeout=5
        )
    if "smoke-test" not in reply.message:
        raise SystemExit(f"SayHello answered {reply.message!r}, which does not greet the caller")
    print(f"{target}: health SERVING for {len(ALL_NAMES)} names, SayHello -> {reply.message!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
