"""Prometheus metrics for the gRPC server, named like go-grpc-prometheus so stock dashboards work.

grpc_server_started_total, grpc_server_handled_total (by grpc_code), grpc_server_handling_seconds
and grpc_server_msg_sent_total, labelled grpc_type / grpc_service / grpc_method. Only registered
methods are labelled (unknown methods never reach the interceptor's wrapper), so a client cannot
grow the label set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_LABELS = ("grpc_type", "grpc_service", "grpc_method")


class ServerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.started = Counter(
            "grpc_server_started_total", "RPCs started on the server.", _LABELS, registry=registry
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, by status code.",
            (*_LABELS, "grpc_code"),
            registry=registry,
        )
        self.handling_seconds = Histogram(
            "grpc_server_handling_seconds",
            "Time from the handler starting to its status being set.",
            _LABELS,
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.msg_sent = Counter(
            "grpc_server_msg_sent_total", "Messages sent by the server.", _LABELS, registry=registry
        )

    def totals(self) -> dict[str, dict[str, int]]:
        """Per "service/method": RPCs started and handled by code (logged at shutdown)."""
        out: dict[str, dict[str, int]] = {}
        for counter, key in ((self.started, None), (self.handled, "grpc_code")):
            for family in counter.collect():
                for sample in family.samples:
                    if not sample.name.endswith("_total"):
                        continue
                    method = f"{sample.labels['grpc_service']}/{sample.labels['grpc_method']}"
                    name = sample.labels[key] if key else "started"
                    out.setdefault(method, {})[name] = int(sample.value)
        return out

    def serve(self, address: str, port: int) -> None:
        try:
            start_http_server(port, addr=address, registry=self.registry)
        except OSError:
            if address != "::":
                raise
            # "::" needs IPv6 in the pod's kernel; grpc falls back to IPv4 by itself, so do the same.
            start_http_server(port, addr="0.0.0.0", registry=self.registry)
        log.info("metrics listening", extra={"port": port, "path": "/metrics"})


class _MethodMetrics:
    """The label children of one method, resolved once (labels() takes a lock and hashes)."""

    def __init__(self, metrics: ServerMetrics, grpc_type: str, full_method: str) -> None:
        service, _, method = full_method.lstrip("/").rpartition("/")
        labels = (grpc_type, service, method)
        self.started = metrics.started.labels(*labels)
        self.histogram = metrics.handling_seconds.labels(*labels)
        self.msg_sent = metrics.msg_sent.labels(*labels)
        self._handled_family = metrics.handled
        self._labels = labels
        self._handled: dict[grpc.StatusCode, Any] = {}

    def handled(self, code: grpc.StatusCode) -> Any:
        child = self._handled.get(code)
        if child is None:
            child = self._handled[code] = self._handled_family.labels(*self._labels, code.name)
        return child

    def finished(self, started: float, code: grpc.StatusCode) -> None:
        """Record one call's handling time (since `started`, a perf_counter reading) and its code."""
        self.histogram.observe(time.perf_counter() - started)
        self.handled(code).inc()


def _final_code(context: grpc.ServicerContext, failed: bool, streaming: bool = False) -> grpc.StatusCode:
    code = context.code()  # set by abort()/set_code(); None when the handler just returned
    if code is not None:
        return code
    if not failed and not streaming:
        return grpc.StatusCode.OK  # the common case, without is_active()'s lock
    if not context.is_active():  # the RPC ended (client cancel, deadline, server stop) first
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK


def with_metrics(
    metrics: ServerMetrics, handler: grpc.RpcMethodHandler, method: str
) -> grpc.RpcMethodHandler:
    """``handler`` counting its calls in ``metrics``; built once per method (service/interceptor.py)."""
    if handler.unary_unary:
        m = _MethodMetrics(metrics, "unary", method)
        behavior = handler.unary_unary

        def unary_unary(request: Any, context: grpc.ServicerContext) -> Any:
            m.started.inc()
            started = time.perf_counter()
            failed = True
            try:
                response = behavior(request, context)
                failed = False
                m.msg_sent.inc()
                return response
            finally:
                m.finished(started, _final_code(context, failed))

        new = grpc.unary_unary_rpc_method_handler(
            unary_unary, handler.request_deserializer, handler.response_serializer
        )
    elif getattr(handler.unary_stream, "experimental_non_blocking", False):
        # Health.Watch answers through callbacks without holding a server thread; wrapping it
        # in a generator would make every watcher pin a thread. Watchers are not counted.
        return handler
    elif handler.unary_stream or handler.stream_stream:
        streaming_request = handler.stream_stream is not None
        m = _MethodMetrics(metrics, "bidi_stream" if streaming_request else "server_stream", method)
        stream_behavior = handler.stream_stream or handler.unary_stream

        def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            m.started.inc()
            started = time.perf_counter()
            failed = True
            cancelled = False
            try:
                for response in stream_behavior(request, context):
                    yield response
                    m.msg_sent.inc()
                failed = False
            except GeneratorExit:  # the client went away (or the server stopped) mid-stream
                cancelled = True
                raise
            finally:
                m.finished(
                    started,
                    grpc.StatusCode.CANCELLED if cancelled else _final_code(context, failed, streaming=True),
                )

        factory = (
            grpc.stream_stream_rpc_method_handler
            if streaming_request
            else grpc.unary_stream_rpc_method_handler
        )
        new = factory(stream, handler.request_deserializer, handler.response_serializer)
    else:  # client streaming: not used by this service; counted without wrapping the iterator
        m = _MethodMetrics(metrics, "client_stream", method)
        client_behavior = handler.stream_unary

        def stream_unary(request_iterator: Any, context: grpc.ServicerContext) -> Any:
            m.started.inc()
            started = time.perf_counter()
            failed = True
            try:
                response = client_behavior(request_iterator, context)
                failed = False
                return response
            finally:
                m.finished(started, _final_code(context, failed))

        new = grpc.stream_unary_rpc_method_handler(
            stream_unary, handler.request_deserializer, handler.response_serializer
        )
    return new
