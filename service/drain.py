"""The last phase of a graceful shutdown: refuse new calls with UNAVAILABLE, let started ones end.

Why not just ``server.stop(grace)``: grpc-core answers the calls it has received but not yet
handed to a handler with CANCELLED when the server shuts down (grpc/grpc#41785), and under
continuous load a few are always in that state (1-3 per SIGTERM measured, benchmarks/README.md
"Drain"). A client must treat CANCELLED as "I cancelled", so it does not retry. Instead, after the
drain delay every new call (except health checks) gets UNAVAILABLE, which clients and Envoy retry
elsewhere; once every call already started has finished the process exits without calling
grpc-core's shutdown, so whatever was still in flight on the wire sees the connection close, which
is UNAVAILABLE too. Only calls still running when SHUTDOWN_GRACE_SECONDS expires are cancelled.
"""

from __future__ import annotations

from typing import Any

import grpc

from service.health_names import HEALTH_SERVICE

REFUSAL = "the server is shutting down; retry on another instance"
_EXEMPT = (f"/{HEALTH_SERVICE}/",)  # probes keep their answers until the very end


def _refuse(request: Any, context: grpc.ServicerContext) -> Any:
    context.abort(grpc.StatusCode.UNAVAILABLE, REFUSAL)


def _refusal_for(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    # Same shape as the real method (no deserialisation: the request is never looked at).
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(_refuse)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(_refuse)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(_refuse)
    return grpc.unary_unary_rpc_method_handler(_refuse)


class DrainGate:
    """The drain switch: after ``refuse_new_calls()`` new calls (except probes) get UNAVAILABLE.

    Not an interceptor of its own: service/interceptor.py reads ``refusing`` (a plain attribute, the
    only per-call cost) and returns the refusal it built once per method with ``refusal_for``.
    """

    def __init__(self) -> None:
        self.refusing = False
        self.refused = 0  # only the server's one polling thread counts refusals

    def refuse_new_calls(self) -> None:
        self.refusing = True

    @staticmethod
    def refusal_for(method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler | None:
        """What a refused call to ``method`` runs; None for the methods that are never refused."""
        if method.startswith(_EXEMPT):
            return None
        return _refusal_for(handler)
