"""helloworld.Greeter: the handlers, and how they are registered."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import grpc
from google.protobuf.message import DecodeError

from service.generated import helloworld_pb2

log = logging.getLogger(__name__)

SERVICE_NAME = "helloworld.Greeter"
DEFAULT_NAME = "world"


class _Undecodable:
    """Stands in for a request the protobuf runtime refused (e.g. invalid UTF-8 in `name`)."""

    __slots__ = ("error",)

    def __init__(self, error: str) -> None:
        self.error = error


def _deserialize_request(data: bytes) -> helloworld_pb2.HelloRequest | _Undecodable:
    # grpcio answers a deserializer exception with INTERNAL; a malformed request is the client's
    # fault, so we turn it into INVALID_ARGUMENT in the handler instead.
    try:
        return helloworld_pb2.HelloRequest.FromString(data)
    except DecodeError as error:
        return _Undecodable(str(error) or "malformed message")


class Greeter:
    def __init__(self, max_name_length: int, stream_reply_count: int, stream_reply_interval: float) -> None:
        self.max_name_length = max_name_length
        self.stream_reply_count = stream_reply_count
        self.stream_reply_interval = stream_reply_interval

    def _name(
        self, request: helloworld_pb2.HelloRequest | _Undecodable, context: grpc.ServicerContext
    ) -> str:
        if isinstance(request, _Undecodable):
            log.debug("rejected request: undecodable", extra={"error": request.error})
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"request is not a valid helloworld.HelloRequest ({request.error}); name must be UTF-8 text",
            )
            raise AssertionError("unreachable: abort() raises")
        name = request.name
        if len(name) > self.max_name_length:
            log.debug("rejected request: name too long", extra={"length": len(name)})
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"name is {len(name)} characters long; the limit is {self.max_name_length}",
            )
        return name or DEFAULT_NAME

    def SayHello(
        self, request: helloworld_pb2.HelloRequest, context: grpc.ServicerContext
    ) -> helloworld_pb2.HelloReply:
        return helloworld_pb2.HelloReply(message=f"Hello, {self._name(request, context)}!")

    def SayHelloStreamReply(
        self, request: helloworld_pb2.HelloRequest, context: grpc.ServicerContext
    ) -> Iterator[helloworld_pb2.HelloReply]:
        name = self._name(request, context)
        done = threading.Event()
        if self.stream_reply_interval > 0:
            # Wake the pause as soon as the RPC ends (client cancel, deadline, server stop).
            context.add_callback(done.set)
        for i in range(self.stream_reply_count):
            if i and self.stream_reply_interval > 0 and done.wait(self.stream_reply_interval):
                return
            yield helloworld_pb2.HelloReply(message=f"Hello, {name}! ({i + 1}/{self.stream_reply_count})")


def add_to_server(greeter: Greeter, server: grpc.Server) -> None:
    """Like the generated add_GreeterServicer_to_server (generic + registered handlers, the latter
    matched by grpc-core without a Python lookup), but with a deserializer that lets the handler
    answer undecodable requests with INVALID_ARGUMENT instead of grpcio's INTERNAL."""
    handlers = {
        "SayHello": grpc.unary_unary_rpc_method_handler(
            greeter.SayHello,
            request_deserializer=_deserialize_request,
            response_serializer=helloworld_pb2.HelloReply.SerializeToString,
        ),
        "SayHelloStreamReply": grpc.unary_stream_rpc_method_handler(
            greeter.SayHelloStreamReply,
            request_deserializer=_deserialize_request,
            response_serializer=helloworld_pb2.HelloReply.SerializeToString,
        ),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
    server.add_registered_method_handlers(SERVICE_NAME, handlers)
