"""OpenTelemetry tracing: Azure Monitor when a connection string is configured, otherwise off.

Sampling is decided at the root: ParentBased(TraceIdRatioBased(TRACES_SAMPLE_RATIO)), so a call
that arrives with a `traceparent` follows its caller's decision and a call without one is sampled
with that probability (default 0.05: full tracing costs ~30% of the throughput, benchmarks/README.md).
Health and reflection RPCs are never traced: probes would otherwise dominate the trace volume.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence

import grpc
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import server_interceptor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
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


def is_traced(handler_call_details: grpc.HandlerCallDetails) -> bool:
    """The interceptor's filter: every RPC except health and reflection.

    Not opentelemetry's `filters.service_prefix`: those call isinstance() against
    grpc.HandlerCallDetails, a typing.Protocol in grpcio >= 1.6x, and a Protocol isinstance check
    costs tens of microseconds per call on CPython 3.11 (benchmarks/README.md).
    """
    method = handler_call_details.method
    if isinstance(method, bytes):
        method = method.decode("utf-8", "replace")
    return not method.lstrip("/").startswith(UNTRACED_SERVICE_PREFIXES)


def tracing_interceptor(provider: TracerProvider) -> grpc.ServerInterceptor:
    return server_interceptor(tracer_provider=provider, filter_=is_traced)
