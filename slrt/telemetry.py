"""Tracing and logging bootstrap, the same for every service.

Traces: an OpenTelemetry tracer provider named after the service; spans are exported over
OTLP/HTTP only when ``SLRT_OTLP_ENDPOINT`` is set. W3C trace context travels in Kafka headers
(:func:`inject_headers` / :func:`extract_context`) and through Temporal's tracing interceptor.

Logs: one JSON object per line with ``trace_id``/``span_id``. Personal data (NIK, names, phone
numbers) is never passed to a logger; log ids instead.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pythonjsonlogger.json import JsonFormatter

from slrt.lognoise import KafkaNoiseFilter
from slrt.settings import ConnectionSettings

_TRACE_HEADERS = ("traceparent", "tracestate")


class _TraceIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        return True


def setup_logging(service: str, level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_TraceIdFilter())
    handler.addFilter(KafkaNoiseFilter())
    if as_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(trace_id)s %(span_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                static_fields={"service": service},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiokafka logs each connection error at ERROR while a broker restarts: its WARNINGs and
    # ERRORs pass, rate-limited per kind (slrt.lognoise); our own code reports the outage.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))


def setup_tracing(service: str, settings: ConnectionSettings) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": f"slrt-{service}"}))
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(settings.otlp_endpoint)))
    trace.set_tracer_provider(provider)
    _instrument_clients()
    return provider


def _instrument_clients() -> None:
    """asyncpg queries as spans; httpx calls (webhooks, gateways) carry ``traceparent`` out."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for instrumentor in (AsyncPGInstrumentor(), HTTPXClientInstrumentor()):  # type: ignore[no-untyped-call]
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


def setup_telemetry(service: str, settings: ConnectionSettings) -> TracerProvider:
    setup_logging(service, settings.log_level, settings.log_json)
    return setup_tracing(service, settings)


def inject_headers(headers: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Add the current W3C trace context to Kafka headers."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [*headers, *((k, v.encode()) for k, v in carrier.items() if k in _TRACE_HEADERS)]


def extract_context(
    headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None,
) -> context.Context:
    """The trace context carried by Kafka headers (empty context if none)."""
    items = headers.items() if isinstance(headers, Mapping) else (headers or [])
    carrier = {k: v.decode() for k, v in items if k in _TRACE_HEADERS}
    return propagate.extract(carrier)
