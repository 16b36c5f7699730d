"""grpc.health.v1 for the overall status and each probe name; server reflection."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from service_harness import SERVING, ServerProcess, health_status

from service import health_names


@pytest.mark.parametrize(
    "name",
    [
        health_names.OVERALL,
        health_names.LIVENESS,
        health_names.READINESS,
        health_names.STARTUP,
        "helloworld.Greeter",
    ],
)
def test_every_probe_name_is_serving_once_started(server: ServerProcess, name: str) -> None:
    assert health_status(server.channel(), name) == SERVING


def test_unknown_health_name_is_not_found(server: ServerProcess) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        health_status(server.channel(), "no.such.Service")
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_health_watch_streams_the_current_status(server: ServerProcess) -> None:
    stub = health_pb2_grpc.HealthStub(server.channel())
    watch = stub.Watch(health_pb2.HealthCheckRequest(service=health_names.READINESS), timeout=10)
    assert next(watch).status == SERVING
    watch.cancel()


def _reflect(channel: grpc.Channel, request: reflection_pb2.ServerReflectionRequest):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    return next(iter(stub.ServerReflectionInfo(iter([request]), timeout=10)))


def test_reflection_lists_the_services(server: ServerProcess) -> None:
    response = _reflect(server.channel(), reflection_pb2.ServerReflectionRequest(list_services=""))
    names = {s.name for s in response.list_services_response.service}
    assert names == {
        "helloworld.Greeter",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


def test_reflection_serves_the_greeter_descriptor(server: ServerProcess) -> None:
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol="helloworld.Greeter")
    response = _reflect(server.channel(), request)
    (raw,) = response.file_descriptor_response.file_descriptor_proto
    proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
    assert proto.package == "helloworld"
    assert list(proto.dependency) == []  # self-contained: APIM imports exactly this one file
    (service,) = proto.service
    assert [(m.name, m.server_streaming) for m in service.method] == [
        ("SayHello", False),
        ("SayHelloStreamReply", True),
    ]
