"""OpenTelemetry tracing: Azure Monitor when a connection string is configured, otherwise off.

Sampling is decided at the root: ParentBased(TraceIdRatioBased(TRACES_SAMPLE_RATIO)), so a call
that arrives with a `traceparent` follows its caller's decision and a call without one is sampled
with that probability (default 0.001: a root-sampled call costs ~0.7 ms of server CPU in all, so
0.01 costs 5-8% of the throughput and tracing every call ~40%; benchmarks/README.md).
Health and reflection RPCs are never traced: probes would otherwise dominate the trace volume.

opentelemetry-instrumentation-grpc's interceptor costs about 20% of the throughput per call even
when the span is not sampled (benchmarks/README.md). So `SamplingDecision` takes the same
decision first, cheaply, and only sampled calls go through it: a call with a `traceparent` follows
its sampled flag; for a root call it draws the trace id itself and applies TraceIdRatioBased's rule,
then hands that id to the SDK (`PresetTraceIds`) so the provider's sampler, seeing the same id,
agrees. Unsampled calls run without a span: their logs carry no trace id, and a span a handler
starts itself in one becomes a root of its own (sampled at the same ratio).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable, Sequence
from random import getrandbits
from typing import Any, NamedTuple

import grpc
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import server_interceptor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

from service.config import Settings

log = logging.getLogger(__name__)

UNTRACED_SERVICE_PREFIXES = ("grpc.health.v1.Health", "grpc.reflection.")


class DiscardSpanExporter(SpanExporter):
    """Drops spans: lets the benchmark pay the full tracing cost without a network sink."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class JsonLinesSpanExporter(SpanExporter):
    """One compact JSON object per span on stderr (stdout carries the logs)."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            sys.stderr.write(json.dumps({"span": json.loads(span.to_json())}, separators=(",", ":")) + "\n")
        sys.stderr.flush()
        return SpanExportResult.SUCCESS


def _azure_exporter(settings: Settings) -> SpanExporter:
    # Imported lazily: the exporter pulls in azure-core and is only needed when configured.
    from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter

    connection_string = settings.applicationinsights_connection_string
    assert connection_string, "only called with a connection string"
    storage = settings.applicationinsights_storage_directory
    # Offline retry storage writes under the temp dir by default; the container's root file system
    # is read-only, so it is on only when a writable directory is configured.
    kwargs = {"storage_directory": storage} if storage else {"disable_offline_storage": True}
    return AzureMonitorTraceExporter.from_connection_string(connection_string, **kwargs)


def configure_tracing(settings: Settings) -> TracerProvider | None:
    """Install a global TracerProvider with the configured exporters; None when tracing is off."""
    if not settings.tracing_enabled:
        log.info("tracing off: no Application Insights connection string configured")
        return None
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name}),
        sampler=root_sampler(settings.traces_sample_ratio),
        id_generator=PresetTraceIds(),
    )
    if settings.applicationinsights_connection_string:
        provider.add_span_processor(BatchSpanProcessor(_azure_exporter(settings)))
        log.info("tracing to Azure Monitor", extra={"sample_ratio": settings.traces_sample_ratio})
    if settings.traces_extra_exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(JsonLinesSpanExporter(), schedule_delay_millis=200))
    elif settings.traces_extra_exporter == "discard":
        provider.add_span_processor(BatchSpanProcessor(DiscardSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def root_sampler(ratio: float) -> Sampler:
    """Follow the caller's sampling decision; sample root calls with probability ``ratio``."""
    return ParentBased(root=TraceIdRatioBased(ratio))


def is_traced(method: str) -> bool:
    """Every RPC except health and reflection (``method`` is grpc's "/package.Service/Method").

    Not opentelemetry's `filters.service_prefix`: those call isinstance() against
    grpc.HandlerCallDetails, a typing.Protocol in grpcio >= 1.6x, and a Protocol isinstance check
    costs tens of microseconds per call on CPython 3.11 (benchmarks/README.md).
    """
    return not method.lstrip("/").startswith(UNTRACED_SERVICE_PREFIXES)


class PresetTraceIds(RandomIdGenerator):
    """Random ids, except a trace id preset for this thread's next root span."""

    def __init__(self) -> None:
        self._preset = threading.local()

    def preset(self, trace_id: int) -> None:
        self._preset.value = trace_id

    def generate_trace_id(self) -> int:
        value: int = getattr(self._preset, "value", 0)
        if value:
            self._preset.value = 0
            return value
        return super().generate_trace_id()


def _traceparent_sampled(metadata: Sequence[tuple[str, Any]] | None) -> bool | None:
    """The sampled flag of a W3C `traceparent` (version-traceid-spanid-flags); None without one."""
    for key, value in metadata or ():
        if key == "traceparent":
            parts = value.split("-") if isinstance(value, str) else ()
            if len(parts) >= 4 and len(parts[1]) == 32 and len(parts[3]) == 2:
                try:
                    return bool(int(parts[3], 16) & 1) and int(parts[1], 16) != 0
                except ValueError:
                    return None
            return None
    return None


_KINDS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")


class _CallDetails(NamedTuple):
    """What opentelemetry's interceptor reads of grpc.HandlerCallDetails."""

    method: str
    invocation_metadata: Any


class SamplingDecision:
    """Wraps a method's handler so each call first takes the root sampling decision (module docstring).

    The wrapper is built once per method and runs in the handler thread: grpcio runs interceptors
    on its single polling thread, which every call passes through, so work there limits the whole
    server (service/interceptor.py).
    """

    def __init__(self, provider: TracerProvider, ratio: float) -> None:
        ids = provider.id_generator
        assert isinstance(ids, PresetTraceIds), "configure_tracing sets the id generator"
        self._ids = ids
        self._otel = server_interceptor(tracer_provider=provider)
        self._bound = TraceIdRatioBased(ratio).bound
        self._limit = TraceIdRatioBased.TRACE_ID_LIMIT

    def wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        kind = next(k for k in _KINDS if getattr(handler, k) is not None)
        untraced: Callable[[Any, Any], Any] = getattr(handler, kind)
        bound, limit, otel, ids = self._bound, self._limit, self._otel, self._ids

        def decide(request: Any, context: grpc.ServicerContext) -> Any:
            metadata = context.invocation_metadata()
            parent_sampled = _traceparent_sampled(metadata)
            preset = 0
            if parent_sampled is None:  # a root call: TraceIdRatioBased's rule on our own trace id
                preset = getrandbits(128) or 1
                if preset & limit >= bound:
                    return untraced(request, context)
            elif not parent_sampled:
                return untraced(request, context)
            traced = otel.intercept_service(lambda _: handler, _CallDetails(method, metadata))
            if preset:
                ids.preset(preset)  # the otel wrapper starts the root span in this thread
            return getattr(traced, kind)(request, context)

        return handler._replace(**{kind: decide})
