"""Prometheus metrics, one registry per process, served on ``/metrics`` by every service.

Platform metrics live here (HTTP, Kafka consumers, outbox); services add their domain metrics
(SLA at-risk/breached, delivery failures, workflow step durations) in their own modules with
the same ``slrt_`` prefix, using :data:`REGISTRY`.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "slrt_http_requests",
    "HTTP requests handled",
    ["service", "method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "slrt_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
EVENTS_CONSUMED = Counter(
    "slrt_kafka_events",
    "Events taken from Kafka by outcome (handled, duplicate, ignored, dead_lettered)",
    ["group", "topic", "outcome"],
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "slrt_kafka_consumer_lag",
    "Records not yet consumed (high watermark - position)",
    ["group", "topic", "partition"],
    registry=REGISTRY,
)
OUTBOX_PUBLISHED = Counter(
    "slrt_outbox_published",
    "Outbox rows published to Kafka",
    ["schema"],
    registry=REGISTRY,
)
OUTBOX_FAILURES = Counter(
    "slrt_outbox_relay_failures",
    "Failed outbox relay passes (retried)",
    ["schema"],
    registry=REGISTRY,
)


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


class HttpMetrics:
    """ASGI middleware counting requests and their latency per route template (a plain ASGI
    wrapper: Starlette's BaseHTTPMiddleware costs every request an extra task and stream)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        """The labelled counter and histogram of (method, route template, status): looked up
        once (``labels()`` validates the labels and takes a lock on every call); bounded by
        the routes, methods and statuses an app has."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            # Label by route template (/v1/complaints/{id}), never the raw path: bounded
            # cardinality and no identifiers in metrics. The router sets scope["route"].
            route = str(getattr(scope.get("route"), "path", "unmatched"))
            if route not in ("/metrics", "/healthz", "/readyz"):
                key = (scope["method"], route, status)
                series = self._series.get(key)
                if series is None:
                    method = key[0]
                    series = self._series[key] = (
                        HTTP_REQUESTS.labels(self.service, method, route, str(status)),
                        HTTP_LATENCY.labels(self.service, method, route),
                    )
                series[0].inc()
                series[1].observe(time.perf_counter() - began)
