"""One complaint, one trace: the four services run as separate processes exporting spans over
OTLP/HTTP to a real receiver; the spans that the complaint's submission causes in intake,
routing (Temporal client and worker), the registry and the notifier share one trace id and
form one connected tree. The second test follows a referral out through the notifier's webhook
to a program manager's system (the stand-in) and back through intake's signed callback."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from slrt.settings import ConnectionSettings
from slrt_dev.otlp_receiver import ReceivedSpan, SpanStore, otlp_receiver
from tests.support.harness import WEBHOOK_KEY, Stack, standin, start_services
from tests.support.polling import until

SERVICE_NAMES = {"slrt-intake", "slrt-routing", "slrt-registry", "slrt-notifier"}
PROGRAM = "LANSIA_E2E"
CALLBACK_SPAN = "POST /v1/referrals/{referral_id}/callback"


def _complaint(program: str, description: str) -> dict[str, Any]:
    """A walk-in complaint about ``program`` from a registered resident of Kabupaten Bandung."""
    return {
        "channel": "puskesos_walk_in",
        "village_code": "3204052001",
        "complainant": {"nik": "3204054107850003", "name": "Siti Aminah", "phone": "081234567890"},
        "category": "implementation",
        "program_code": program,
        "description": description,
    }


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
                    json=_complaint("PKH", "Bantuan PKH tahap 3 belum diterima."),
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
                    # An activity's span is exported when it ends, which may be after the
                    # notifier's: wait for the two the assertions below count.
                    and sum(s.name.startswith("RunActivity") for s in spans) >= 2
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


def _outline(spans: list[ReceivedSpan]) -> str:
    """Span names (and counts) per service: the trace's outline, for assertion messages."""
    return "\n".join(
        f"{service}: {sorted(Counter(s.name for s in spans if s.service == service).items())}"
        for service in sorted(SERVICE_NAMES)
    )


def _one_tree(spans: list[ReceivedSpan], root: ReceivedSpan) -> None:
    assert _roots(spans) == [root], _outline(spans)
    by_id = {s.span_id for s in spans}
    for span in spans:
        if span is not root:
            assert span.parent_span_id in by_id, (span, _outline(spans))


async def _program_everywhere(dsn: str, code: str) -> None:
    """Wait until routing, intake and the notifier hold the program in their catalog copies."""

    async def copied() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            copies = await conn.fetchval(
                "SELECT (SELECT count(*) FROM routing.programs WHERE code = $1)"
                " + (SELECT count(*) FROM intake.programs WHERE code = $1)"
                " + (SELECT count(*) FROM notifier.programs WHERE code = $1)",
                code,
            )
        finally:
            await conn.close()
        return bool(copies == 3)

    await until(copied)


async def _at_step(client: httpx.AsyncClient, stack: Stack, complaint: str, step: str) -> Any:
    async def read() -> Any:
        response = await client.get(f"/v1/complaints/{complaint}", headers=stack.auth("manager"))
        body = response.json() if response.status_code == 200 else None
        return body if body and body["step"] == step else None

    return await until(read, timeout=180)


async def _act(
    client: httpx.AsyncClient, stack: Stack, complaint: str, action: str, role: str, body: Any
) -> None:
    """Post a staff action, again while the workflow has not caught up yet (409/422/503)."""
    attempt = 0

    async def post() -> bool:
        nonlocal attempt
        attempt += 1
        response = await client.post(
            f"/v1/complaints/{complaint}/{action}",
            json=body,
            headers={**stack.auth(role), "Idempotency-Key": f"trace-{action}-{attempt}"},
        )
        assert response.status_code in (200, 202, 409, 422, 503), response.text
        return response.status_code < 300

    await until(post, timeout=120)


async def test_a_referral_by_webhook_and_its_signed_answer_continue_the_complaints_trace(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    with (
        otlp_receiver() as (endpoint, store),
        standin("webhook_receiver", log_dir, env={"STANDIN_WEBHOOK_SECRET": WEBHOOK_KEY}) as port,
    ):
        receiver = f"http://127.0.0.1:{port}"
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_OTLP_ENDPOINT=endpoint,
            OTEL_BSP_SCHEDULE_DELAY="200",
            # The stand-in listens on loopback over plain http (production: https only).
            SLRT_REGISTRY_PLAIN_HTTP_CALLBACK_HOSTS=json.dumps(["127.0.0.1"]),
        )
        with stack:
            async with httpx.AsyncClient(timeout=30) as http:
                control = await http.put(f"{receiver}/_control", json={"answer": "accepted"})
                assert control.status_code == 200, control.text
                program = await http.put(
                    f"{services.urls['registry']}/v1/programs/{PROGRAM}",
                    headers=services.auth("manager"),
                    json={
                        "name": "Bantuan Lansia Kabupaten Bandung",
                        "level": "district",
                        "owner_agency": "Dinas Sosial Kabupaten Bandung",
                        "area": "3204",
                        "channel": "direct",
                        "categories": ["implementation", "program_need"],
                        "sla_working_days": 10,
                        "callback_url": f"{receiver}/webhooks/referrals",
                        "webhook_secret_ref": "e2e-callbacks",
                    },
                )
                assert program.status_code == 201, program.text
            await _program_everywhere(dsn, PROGRAM)
            async with httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client:
                submitted = await client.post(
                    "/v1/complaints",
                    headers={**services.auth("front_office"), "Idempotency-Key": "trace-2"},
                    json=_complaint(PROGRAM, "Bantuan lansia bulan ini belum diterima."),
                )
                assert submitted.status_code == 202, submitted.text
                complaint = submitted.json()["complaint_id"]
                await _at_step(client, services, complaint, "back_office")
                refer = {
                    "kind": "refer",
                    "destination_program": PROGRAM,
                    "override_reason": "program lansia kabupaten",
                }
                await _act(client, services, complaint, "back-office-action", "back_office", refer)
                await _at_step(client, services, complaint, "manager_approval")
                approve = {"decision": "approve"}
                await _act(client, services, complaint, "manager-decision", "manager", approve)
                # The stand-in answered "accepted" on the signed callback: the workflow moved on.
                answered = await _at_step(client, services, complaint, "feedback")

            def submission() -> ReceivedSpan | None:
                return next(
                    (
                        s
                        for s in store.spans()
                        if s.service == "slrt-intake"
                        and s.parent_span_id is None
                        and s.name.startswith("POST /v1/complaints")
                        and not s.name.startswith("POST /v1/complaints/")
                    ),
                    None,
                )

            async def submission_request() -> ReceivedSpan | None:
                return submission()

            root = await until(submission_request)

            async def whole_trace() -> list[ReceivedSpan] | None:
                spans = _trace_of(store, root.trace_id)
                names = {(s.service, s.name) for s in spans}
                reached = (
                    ("slrt-intake", CALLBACK_SPAN) in names
                    and ("slrt-routing", "slrt.referral.answers process") in names
                    and ("slrt-routing", "slrt.notification.outcomes process") in names
                    and len(_roots(spans)) == 1
                )
                return spans if reached else None

            spans = await until(whole_trace, timeout=120)

    print(_outline(spans))  # the trace's outline, shown with ``pytest -s``
    assert answered["step"] == "feedback"
    assert {s.service for s in spans} == SERVICE_NAMES, _outline(spans)
    _one_tree(spans, root)
    by_id = {s.span_id: s for s in spans}
    names = {(s.service, s.name) for s in spans}
    # The hops of the referral's round trip, in the order the complaint takes them.
    for hop in [
        ("slrt-intake", "slrt.complaint.submitted publish"),
        ("slrt-registry", "slrt.registry.requests process"),
        ("slrt-notifier", "slrt.notification.requests process"),
        ("slrt-notifier", "deliver webhook"),
        ("slrt-notifier", "slrt.notification.outcomes publish"),
        ("slrt-routing", "slrt.notification.outcomes process"),
        ("slrt-intake", CALLBACK_SPAN),
        ("slrt-intake", "slrt.referral.answers publish"),
        ("slrt-routing", "slrt.referral.answers process"),
    ]:
        assert hop in names, (hop, _outline(spans))
    # The callback continues the webhook's own HTTP call: the stand-in forwarded traceparent.
    callbacks = [s for s in spans if s.service == "slrt-intake" and s.name == CALLBACK_SPAN]
    assert len(callbacks) == 1, _outline(spans)
    webhook_call = by_id[callbacks[0].parent_span_id or ""]
    assert webhook_call.service == "slrt-notifier", webhook_call
    deliver = by_id[webhook_call.parent_span_id or ""]
    assert deliver.name == "deliver webhook", deliver
