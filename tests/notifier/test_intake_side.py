"""What the notifier's neighbours see: catalog versions, poison requests, answers on callbacks."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request, Response
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from standardwebhooks import Webhook

from slrt.contracts.envelope import Envelope
from slrt.contracts.events import NotificationRequested
from slrt.contracts.topics import dead_letter_topic
from slrt.contracts.vocabulary import ProgramChannel
from slrt_dev.standins.server import serving
from tests.support.kafka_tools import read_topic
from tests.support.notifier import (
    WEBHOOK_SECRET_REF,
    StandIns,
    StartNotifier,
    program,
    referral,
)


async def test_an_older_catalog_version_never_replaces_a_newer_one(
    start_notifier: StartNotifier,
) -> None:
    notifier = await start_notifier()
    await notifier.catalog(program("PKH", ProgramChannel.DIRECT, version=3, contact_email="a@x"))
    await notifier.catalog(program("PKH", ProgramChannel.DIRECT, version=2, contact_email="b@x"))
    await notifier.catalog(program("OTHER", ProgramChannel.LAPOR))  # a marker after both
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 2)
    row = await notifier.pool.fetchrow("SELECT version, entry FROM programs WHERE code = 'PKH'")
    assert row is not None
    assert row["version"] == 3
    assert row["entry"]["contact_email"] == "a@x"


async def test_a_request_that_is_not_one_goes_to_the_dead_letter_topic(
    start_notifier: StartNotifier, kafka_bootstrap: str
) -> None:
    notifier = await start_notifier()
    wrong = Envelope(
        type=NotificationRequested.event_type,
        source="/test",
        subject="c-1",
        data={"request_id": "not-a-uuid"},
    )
    await (await notifier.producer.send(notifier.requests_topic, wrong))
    records = await read_topic(
        kafka_bootstrap, dead_letter_topic(notifier.requests_topic), expect=1
    )
    assert len(records) == 1
    error = dict(records[0].headers)["slrt-error"].decode()
    assert f"{wrong.type} event {wrong.id} does not match its contract" in error
    assert await notifier.pool.fetchval("SELECT count(*) FROM deliveries") == 0


async def test_the_receiver_answers_on_the_callback_url_signed_with_the_destination_secret(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    answers: list[dict[str, Any]] = []
    arrived = asyncio.Event()
    intake = FastAPI()

    @intake.post("/v1/referrals/{referral_id}/callback")
    async def answer(referral_id: str, request: Request) -> Response:
        body = await request.body()
        verified = Webhook(standins.keys[1]).verify(body, dict(request.headers))
        answers.append({"referral_id": referral_id, **verified})
        arrived.set()
        return Response(status_code=202)

    async with serving(intake) as intake_url:
        notifier = await start_notifier(intake_public_url=intake_url)
        standins.receiver.control.answer = "accepted"
        await notifier.catalog(
            program(
                "PKH",
                ProgramChannel.DIRECT,
                callback_url=f"{standins.receiver_url}/webhooks/referrals",
                webhook_secret_ref=WEBHOOK_SECRET_REF,
            )
        )
        await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
        request = referral("PKH")
        await notifier.request(request)
        await notifier.status(request, "delivered")
        await asyncio.wait_for(arrived.wait(), 30)
    assert answers == [
        {
            "referral_id": str(request.referral_id),
            "decision": "accepted",
            "note": "stand-in answer",
            "expected_date": None,
        }
    ]


async def test_the_trace_context_rides_the_delivery_out_and_the_answer_back(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    """The request's trace context is kept with the delivery; the attempt re-enters it, so the
    webhook carries ``traceparent`` of the same trace, which the receiver forwards on its
    signed callback."""
    callbacks: list[dict[str, str]] = []
    arrived = asyncio.Event()
    intake = FastAPI()

    @intake.post("/v1/referrals/{referral_id}/callback")
    async def answer(referral_id: str, request: Request) -> Response:
        callbacks.append(dict(request.headers))
        arrived.set()
        return Response(status_code=202)

    async with serving(intake) as intake_url:
        notifier = await start_notifier(intake_public_url=intake_url)
        # The service instruments httpx at start-up (slrt.telemetry); here only its own client.
        HTTPXClientInstrumentor.instrument_client(notifier.notifier.http)
        standins.receiver.control.answer = "accepted"
        await notifier.catalog(
            program(
                "PKH",
                ProgramChannel.DIRECT,
                callback_url=f"{standins.receiver_url}/webhooks/referrals",
                webhook_secret_ref=WEBHOOK_SECRET_REF,
            )
        )
        await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
        request = referral("PKH")
        with TracerProvider().get_tracer("test").start_as_current_span("routing activity") as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
            await notifier.request(request)
        await notifier.status(request, "delivered")
        await asyncio.wait_for(arrived.wait(), 30)
    stored = await notifier.pool.fetchval(
        "SELECT trace_headers FROM deliveries WHERE request_id = $1", request.request_id
    )
    assert _trace_id(stored["traceparent"]) == trace_id
    [received] = standins.receiver.received
    assert _trace_id(received.trace_headers["traceparent"]) == trace_id
    assert [c["traceparent"] for c in callbacks] == [received.trace_headers["traceparent"]]


def _trace_id(traceparent: str) -> str:
    return traceparent.split("-")[1]
