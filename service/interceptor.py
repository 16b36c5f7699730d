"""The service's one server interceptor: drain gate, sampling decision and metrics in one lookup.

grpcio's sync server runs interceptors on its single polling thread, which every call passes
through, so whatever they do per call limits the whole server; three chained interceptors (each
with its own continuation closure and cache lookup) cost the service several percent of its
throughput (benchmarks/README.md). This one asks grpc for the method's handler, and answers with
the handler it built for that method once: the metrics wrapper around the servicer, inside the
sampling decision (so a span covers the metrics wrapper too), unless the server is draining. All
per-call work then runs in the handler thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import grpc

from service.drain import DrainGate
from service.metrics import ServerMetrics, with_metrics
from service.tracing import SamplingDecision, is_traced

_Continuation = Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None]


class _Method(NamedTuple):
    registered: grpc.RpcMethodHandler  # what grpc returned; stable per method, checked anyway
    wrapped: grpc.RpcMethodHandler
    refusal: grpc.RpcMethodHandler | None  # None: answered even while draining (health)


class ServiceInterceptor(grpc.ServerInterceptor):
    def __init__(self, gate: DrainGate, metrics: ServerMetrics, sampling: SamplingDecision | None) -> None:
        self._gate = gate
        self._metrics = metrics
        self._sampling = sampling
        self._methods: dict[str, _Method] = {}

    def intercept_service(
        self, continuation: _Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:  # unknown method: grpc answers UNIMPLEMENTED, nothing is counted
            return None
        method: str = handler_call_details.method
        entry = self._methods.get(method)
        if entry is None or entry.registered is not handler:
            entry = self._methods[method] = self._build(handler, method)
        if self._gate.refusing and entry.refusal is not None:
            self._gate.refused += 1
            return entry.refusal
        return entry.wrapped

    def _build(self, handler: grpc.RpcMethodHandler, method: str) -> _Method:
        wrapped = with_metrics(self._metrics, handler, method)
        if self._sampling is not None and is_traced(method):
            wrapped = self._sampling.wrap(wrapped, method)
        return _Method(handler, wrapped, self._gate.refusal_for(method, handler))
