"""Tracing and logging bootstrap, the same for every service.

Traces: an OpenTelemetry tracer provider named after the service; spans are exported over
OTLP/HTTP only when ``SLRT_OTLP_ENDPOINT`` is set. W3C trace context travels in Kafka headers
(:func:`inject_headers` / :func:`extract_context`) and through Temporal's tracing interceptor.

Logs: one JSON object per line with ``trace_id``/``span_id``. Personal data (NIK, names, phone
numbers) is never passed to a logger; log ids instead.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from pythonjsonlogger.json import JsonFormatter

from slrt.lognoise import KafkaNoiseFilter
from slrt.settings import ConnectionSettings

_TRACE_HEADERS = ("traceparent", "tracestate")


class CurrentSpan:
    """The span made current for a block, then ended: what ``start_as_current_span`` does
    without its two generator-based context managers (a quarter of a short span's cost; the
    statement and publish spans are made per call). An exception leaving the block is recorded
    on the span with the error status and its description, as ``use_span`` would."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: trace.Span) -> None:
        self._span = span
        self._token: object = None

    def __enter__(self) -> trace.Span:
        self._token = context.attach(trace.set_span_in_context(self._span))
        return self._span

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        span = self._span
        try:
            if isinstance(exc, Exception) and span.is_recording():
                span.record_exception(exc)
                span.set_status(
                    trace.Status(trace.StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
                )
        finally:
            context.detach(self._token)  # type: ignore[arg-type]
            span.end()


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
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    for instrumentor in (_asyncpg_instrumentor(), HTTPXClientInstrumentor()):
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


_STATEMENT_SPANS_CACHED = 512
"""How many (statement, connection parameters) span names and attributes are kept."""


@functools.cache
def _asyncpg_instrumentor() -> Any:
    """OpenTelemetry's asyncpg instrumentation, with the span name and attributes of a statement
    on a connection computed once (the same span, name and attributes as the library's own: it
    runs a regular expression, splits the whole statement text and builds the attribute dict
    of every statement on every call; intake's submission is one long statement). One
    instance per process, as the library's own instrumentor is a singleton: a second
    :func:`setup_tracing` must not wrap asyncpg twice."""
    from opentelemetry.instrumentation._semconv import _report_new
    from opentelemetry.instrumentation.asyncpg import (
        AsyncPGInstrumentor,
        _hydrate_span_from_args,
    )
    from opentelemetry.instrumentation.utils import is_instrumentation_enabled
    from opentelemetry.semconv.attributes.error_attributes import ERROR_TYPE
    from opentelemetry.trace import SpanKind, Status, StatusCode

    class Instrumentor(AsyncPGInstrumentor):
        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self._spans: dict[tuple[object, int, object], tuple[str, dict[str, Any], object]] = {}

        def _span_of(self, instance: Any, query: Any) -> tuple[str, dict[str, Any]]:
            params = getattr(instance, "_params", None)
            key = (query, id(params), getattr(instance, "_addr", None))
            found = self._spans.get(key)
            if found is None:
                name = query if query else getattr(params, "database", "postgresql")
                try:
                    name = self._leading_comment_remover.sub("", name).split(None, 1)[0]
                except IndexError:
                    name = ""
                attributes = _hydrate_span_from_args(
                    instance, query, None, semconv_opt_in_mode=self._semconv_opt_in_mode
                )
                if len(self._spans) >= _STATEMENT_SPANS_CACHED:
                    self._spans.clear()
                # ``params`` is kept with the entry so its id cannot be reused by another.
                found = self._spans[key] = (name, attributes, params)
            return found[0], found[1]

        async def _do_execute(self, func: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            if self.capture_parameters or not is_instrumentation_enabled():
                return await super()._do_execute(func, instance, args, kwargs)  # type: ignore[no-untyped-call]
            name, attributes = self._span_of(instance, args[0])
            tracer = self._tracer
            assert tracer is not None  # set by ``instrument()``
            span = tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
            with CurrentSpan(span):
                try:
                    return await func(*args, **kwargs)
                except Exception as exc:
                    # The library's own marks first; ``CurrentSpan`` then adds the event.
                    if span.is_recording():
                        span.set_status(Status(StatusCode.ERROR))
                        if _report_new(self._semconv_opt_in_mode):
                            span.set_attribute(ERROR_TYPE, type(exc).__qualname__)
                    raise

    return Instrumentor()


_ROUTE_NAMES_CACHED = 1024
"""How many (app, method, path) server span names are kept (ids in paths make most of them)."""


@functools.cache
def cache_server_span_names() -> None:
    """Make the FastAPI instrumentation name a request's server span from a cache of
    (app, type, method, root path, path): its own lookup tries every route of the app in turn
    for each request, before the app's router does the same again. The name and attributes are
    the library's own (``METHOD /route/{template}``, ``http.route``), computed once per path;
    routing depends on nothing else of the request in these apps (no host routes). Applies to
    apps instrumented after the call."""
    from opentelemetry.instrumentation import fastapi as instrumentation

    find = instrumentation._get_default_span_details
    names: dict[tuple[object, ...], tuple[str, dict[str, str]]] = {}

    def span_details(scope: Any) -> tuple[str, dict[str, str]]:
        key = (
            scope.get("app"),
            scope.get("type"),
            scope.get("method"),
            scope.get("root_path"),
            scope.get("path"),
        )
        found = names.get(key)
        if found is None:
            if len(names) >= _ROUTE_NAMES_CACHED:
                names.clear()
            found = names[key] = find(scope)
        name, attributes = found
        return name, dict(attributes)

    instrumentation._get_default_span_details = span_details
