"""Registry news for a complaint whose run has ended (``services/routing/late_results.py``), on
the real Temporal dev server, Kafka and routing's Postgres schema: never dropped, never
dead-lettered — recorded on the timeline as the next lifecycle event and told to the household,
once however often it is redelivered; news for a complaint that never had a run is skipped."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
from temporalio.client import Client

from services.routing.consumers import Signaller
from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import (
    ComplaintSubmitted,
    ComplaintTransitioned,
    NotificationRequested,
    RegistryProposalUpdated,
    RegistryVerificationApplied,
)
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import Category
from slrt.kafka import EventProducer
from tests.support.complaints import Driven, submitted

Drive = Callable[[ComplaintSubmitted], Awaitable[Driven]]


def _verdict(
    complaint: uuid.UUID, result: str, reason: str | None = None
) -> RegistryVerificationApplied:
    return RegistryVerificationApplied.model_validate(
        {
            "proposal_id": uuid.uuid4(),
            "kind": "prelist",
            "complaint_id": complaint,
            "batch_id": uuid.uuid4(),
            "accepted": result == "accepted",
            "result": result,
            "reason": reason,
            "at": datetime.now(UTC),
        }
    )


async def test_a_result_after_the_run_ended_is_recorded_on_the_timeline_once(
    drive: Drive,
    temporal_client: Client,
    producer: EventProducer,
    routing_pool: asyncpg.Pool,
) -> None:
    c = await drive(submitted(category=Category.INFORMATION, program=None))
    ended = await c.handle.result()
    assert ended.outcome is Outcome.ANSWERED  # closed at registration: its run is over
    signaller = Signaller(temporal_client, producer)
    complaint = c.complaint.complaint_id

    accepted = _verdict(complaint, "accepted")
    rejected = _verdict(complaint, "rejected", "NIK ganda")
    envelope = Envelope.wrap(accepted, source="/slrt/registry", subject=str(complaint))
    async with routing_pool.acquire() as conn:
        await signaller.proposal_news(accepted, envelope, conn)
        await signaller.proposal_news(accepted, envelope, conn)  # redelivered
        await signaller.proposal_news(rejected, envelope, conn)
        # News naming a complaint without any run is skipped, not dead-lettered.
        stray = RegistryProposalUpdated(
            proposal_id=uuid.uuid4(),
            kind="prelist",
            complaint_id=uuid.uuid4(),
            status="exported",
            at=datetime.now(UTC),
        )
        await signaller.proposal_news(stray, envelope, conn)

    lifecycle = await c.published(Topic.COMPLAINT_LIFECYCLE, expect=5)
    transitions = [e.parse(ComplaintTransitioned) for e in lifecycle]
    late = transitions[3:]
    assert [t.sequence for t in transitions] == [1, 2, 3, 4, 4, 5]
    assert [e.id for e in lifecycle][3:] == [f"complaint-{complaint}-{n}" for n in (4, 4, 5)]
    assert {(t.from_step, t.to_step, t.reason) for t in late} == {
        ("closed", "closed", "registry_verified")
    }
    assert [t.details["status"] for t in late] == ["accepted", "accepted", "rejected"]
    assert late[2].details["reason"] == "NIK ganda"
    assert late[0].details["after_run"] is True
    assert late[0].snapshot.step is ComplaintStep.CLOSED
    assert late[0].snapshot.outcome is Outcome.ANSWERED

    told = [
        e.parse(NotificationRequested)
        for e in await c.published(Topic.NOTIFICATION_REQUESTS, expect=4)
    ]
    registry_results = [n for n in told if n.template == "household_registry_result"]
    assert len({n.request_id for n in registry_results}) == 2  # the redelivery: same request id
    assert registry_results[-1].destination == f"household:{complaint}"
    assert registry_results[-1].params == {
        "ticket": c.complaint.ticket_number,
        "place_code": c.complaint.village_code,
        "result": "rejected",
        "kind": "prelist",
        "reason": "NIK ganda",
    }
