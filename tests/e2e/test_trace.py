"""One complaint, one trace: the four services run as separate processes exporting spans over
OTLP/HTTP to a real receiver; the spans that the complaint's submission causes in intake,
routing (Temporal client and worker), the registry and the notifier share one trace id and
form one connected tree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx

from slrt.settings import ConnectionSettings
from tests.e2e.conftest import start_services, until
from tests.support.otlp_receiver import ReceivedSpan, SpanStore, otlp_receiver

SERVICE_NAMES = {"slrt-intake", "slrt-routing", "slrt-registry", "slrt-notifier"}


def _trace_of(store: SpanStore, trace_id: str) -> list[ReceivedSpan]:
    return [s for s in store.spans() if s.trace_id == trace_id]


def _roots(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    ids = {s.span_id for s in spans}
    return [s for s in spans if s.parent_span_id is None or s.parent_span_id not in ids]


async def test_one_complaint_is_one_connected_trace_across_the_four_services(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    with otlp_receiver() as (endpoint, store):
        # Export every 200 ms so that spans arrive while the services run.
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_OTLP_ENDPOINT=endpoint,
            OTEL_BSP_SCHEDULE_DELAY="200",
        )
        with stack:
            async with httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client:
                submitted = await client.post(
                    "/v1/complaints",
                    headers={**services.auth("front_office"), "Idempotency-Key": "trace-1"},
                    json={
                        "channel": "puskesos_walk_in",
                        "village_code": "3204052001",
                        "complainant": {
                            "nik": "3204054107850003",
                            "name": "Siti Aminah",
                            "phone": "081234567890",
                        },
                        "category": "implementation",
                        "program_code": "PKH",
                        "description": "Bantuan PKH tahap 3 belum diterima.",
                    },
                )
            assert submitted.status_code == 202, submitted.text

            def request_span() -> ReceivedSpan | None:
                return next(
                    (
                        s
                        for s in store.spans()
                        if s.service == "slrt-intake"
                        and s.parent_span_id is None
                        and s.name.startswith("POST /v1/complaints")
                    ),
                    None,
                )

            async def submission_request() -> ReceivedSpan | None:
                return request_span()

            root = await until(submission_request)

            async def whole_trace() -> list[ReceivedSpan] | None:
                spans = _trace_of(store, root.trace_id)
                names = {(s.service, s.name) for s in spans}
                reached = (
                    ("slrt-registry", "slrt.registry.requests process") in names
                    and ("slrt-notifier", "slrt.notification.requests process") in names
                    and ("slrt-routing", "slrt.registry.results process") in names
                    and len(_roots(spans)) == 1
                )
                return spans if reached else None

            spans = await until(whole_trace)

    for service in sorted(SERVICE_NAMES):  # the trace's outline, shown with ``pytest -s``
        print(service, sorted(Counter(s.name for s in spans if s.service == service).items()))
    assert {s.service for s in spans} == SERVICE_NAMES
    assert _roots(spans) == [root]
    names = {(s.service, s.name) for s in spans}
    # The hops the trace context takes, in the order the complaint takes them.
    for hop in [
        ("slrt-intake", "slrt.complaint.submitted publish"),
        ("slrt-routing", "slrt.complaint.submitted process"),
        ("slrt-registry", "slrt.registry.requests process"),
        ("slrt-registry", "slrt.registry.results publish"),
        ("slrt-routing", "slrt.registry.results process"),
        ("slrt-notifier", "slrt.notification.requests process"),
    ]:
        assert hop in names, (hop, sorted(names))
    routing = Counter(s.name.split(":")[0] for s in spans if s.service == "slrt-routing")
    assert routing["StartWorkflow"] == 1
    assert routing["RunWorkflow"] >= 1
    assert routing["RunActivity"] >= 2
    # Each span's parent is in the trace: one tree from the intake request.
    by_id = {s.span_id: s for s in spans}
    for span in spans:
        if span is not root:
            assert span.parent_span_id in by_id, span
