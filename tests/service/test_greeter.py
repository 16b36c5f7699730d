"""SayHello and SayHelloStreamReply against the real server, including hostile inputs."""

from __future__ import annotations

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_harness import SERVING, ServerProcess, health_status

from service.generated import helloworld_pb2, helloworld_pb2_grpc

SAY_HELLO = "/helloworld.Greeter/SayHello"
MAX_NAME_LENGTH = 64


@pytest.fixture
def limited_server(shared_server: ServerProcess) -> ServerProcess:
    return shared_server  # MAX_NAME_LENGTH=64, STREAM_REPLY_COUNT=5 (conftest.py)


def test_say_hello_greets_by_name(server: ServerProcess) -> None:
    stub = helloworld_pb2_grpc.GreeterStub(server.channel())
    assert stub.SayHello(helloworld_pb2.HelloRequest(name="Ada"), timeout=10).message == "Hello, Ada!"


def test_empty_name_gets_the_default(server: ServerProcess) -> None:
    stub = helloworld_pb2_grpc.GreeterStub(server.channel())
    assert stub.SayHello(helloworld_pb2.HelloRequest(), timeout=10).message == "Hello, world!"


def test_stream_reply_sends_the_configured_number_of_greetings(limited_server: ServerProcess) -> None:
    stub = helloworld_pb2_grpc.GreeterStub(limited_server.channel())
    replies = [
        r.message for r in stub.SayHelloStreamReply(helloworld_pb2.HelloRequest(name="Bo"), timeout=10)
    ]
    assert replies == [f"Hello, Bo! ({i}/5)" for i in range(1, 6)]


def test_over_long_name_is_invalid_argument_naming_the_limit(limited_server: ServerProcess) -> None:
    stub = helloworld_pb2_grpc.GreeterStub(limited_server.channel())
    with pytest.raises(grpc.RpcError) as raised:
        stub.SayHello(helloworld_pb2.HelloRequest(name="x" * (MAX_NAME_LENGTH + 1)), timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"limit is {MAX_NAME_LENGTH}" in raised.value.details()
    with pytest.raises(grpc.RpcError) as raised:
        list(stub.SayHelloStreamReply(helloworld_pb2.HelloRequest(name="y" * 1000), timeout=10))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # Exactly at the limit is fine; the limit counts characters, not UTF-8 bytes.
    name = "é" * MAX_NAME_LENGTH
    assert stub.SayHello(helloworld_pb2.HelloRequest(name=name), timeout=10).message == f"Hello, {name}!"


def _string_field(payload: bytes) -> bytes:
    """Hand-encoded HelloRequest: field 1, wire type 2 (length-delimited), any bytes."""
    length, out = len(payload), bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            break
    return b"\x0a" + bytes(out) + payload


def test_invalid_utf8_name_is_invalid_argument(server: ServerProcess) -> None:
    raw_call = server.channel().unary_unary(SAY_HELLO)  # no serializers: raw bytes on the wire
    with pytest.raises(grpc.RpcError) as raised:
        raw_call(_string_field(b"\xff\xfe bad"), timeout=10)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "UTF-8" in raised.value.details()


def test_oversized_message_is_rejected_before_parsing(start_server) -> None:
    server = start_server(MAX_RECEIVE_MESSAGE_BYTES="4096")
    raw_call = server.channel().unary_unary(SAY_HELLO)
    with pytest.raises(grpc.RpcError) as raised:
        raw_call(_string_field(b"a" * 5000), timeout=10)
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert health_status(server.channel()) == SERVING


_OK_OR_REJECTED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=MAX_NAME_LENGTH * 2))
def test_any_text_name_gets_a_greeting_or_invalid_argument(limited_server: ServerProcess, name: str) -> None:
    stub = helloworld_pb2_grpc.GreeterStub(limited_server.channel_cached())
    try:
        reply = stub.SayHello(helloworld_pb2.HelloRequest(name=name), timeout=10)
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
        assert len(name) > MAX_NAME_LENGTH
    else:
        assert len(name) <= MAX_NAME_LENGTH
        assert reply.message == f"Hello, {name or 'world'}!"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.one_of(
        st.binary(max_size=300),  # arbitrary bytes: usually not even a valid protobuf message
        st.binary(max_size=MAX_NAME_LENGTH * 2).map(_string_field),  # a name field holding any bytes
        st.text(max_size=MAX_NAME_LENGTH * 2).map(
            lambda s: _string_field(s.encode("utf-8", "surrogatepass"))
        ),
    )
)
def test_no_wire_payload_breaks_the_server(limited_server: ServerProcess, payload: bytes) -> None:
    channel = limited_server.channel_cached()
    for call in (
        channel.unary_unary(SAY_HELLO),
        channel.unary_stream("/helloworld.Greeter/SayHelloStreamReply"),
    ):
        try:
            result = call(payload, timeout=10)
            if not isinstance(result, bytes):
                list(result)
        except grpc.RpcError as error:
            assert error.code() in _OK_OR_REJECTED, (payload, error)
    assert health_status(channel) == SERVING
