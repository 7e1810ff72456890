"""Record the lifecycle events the real workflow emits on referral paths into
``tests/dashboard/fixtures/live_referrals.json`` (a tool, not a test; see ``record_histories.py``):

    .venv/bin/pytest tests/workflows/record_lifecycle_events.py -q

Each case drives the real ``ComplaintWorkflow`` on the Temporal dev server with the real
activities, reads every ``ComplaintTransitioned`` it published on ``slrt.complaint.lifecycle``
(Kafka) and writes them, as the topic carries them, under the case's name. The dashboard's fold
tests (``tests/dashboard/test_live_referrals.py``) read them, so the fold is tested on what the
workflow really emits, not on hand-made events. Re-record after changing what the workflow puts
in a transition.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from services.routing.settings import RoutingSettings
from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    SIGNAL_DELIVERY_OUTCOME,
    SIGNAL_REFERRAL_ANSWER,
    UPDATE_BACK_OFFICE,
    UPDATE_FEEDBACK,
    UPDATE_MANAGER_DECISION,
    BackOfficeAction,
    DeliveryOutcome,
    FacilitatorFeedback,
    ManagerDecision,
    ReferralAnswer,
)
from slrt.contracts.events import ComplaintTransitioned
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import ReferralDecision
from tests.support.complaints import Driven, actor, request_id, submitted
from tests.workflows.record_histories import start
from tests.workflows.test_clock_speed import SPEED

FIXTURE = Path(__file__).parents[1] / "dashboard" / "fixtures" / "live_referrals.json"
NOTE = "Disetujui; keluarga lansia tanpa penghasilan."


async def save(c: Driven, name: str) -> None:
    """Write every transition the run published under ``name`` (other cases kept)."""
    history = (await c.state()).history
    events = await c.published(Topic.COMPLAINT_LIFECYCLE, expect=len(history))
    transitions = [e.parse(ComplaintTransitioned).model_dump(mode="json") for e in events]
    assert [t["sequence"] for t in transitions] == [h.sequence for h in history]
    recorded: dict[str, Any] = json.loads(FIXTURE.read_text()) if FIXTURE.exists() else {}
    recorded[name] = transitions
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")


def refer(destination: str | None = None, reason: str | None = None) -> BackOfficeAction:
    return BackOfficeAction(
        actor=actor(Role.BACK_OFFICE),
        request_id=request_id(),
        kind="refer",
        destination_program=destination,
        override_reason=reason,
    )


def approve(note: str | None = NOTE) -> ManagerDecision:
    return ManagerDecision(
        actor=actor(Role.MANAGER), request_id=request_id(), decision="approve", note=note
    )


def told() -> FacilitatorFeedback:
    return FacilitatorFeedback(
        actor=actor(Role.FACILITATOR),
        request_id=request_id(),
        household_told=True,
        visited_on=date(2026, 12, 1),
        household_response="satisfied",
    )


async def current_referral(c: Driven) -> tuple[uuid.UUID, uuid.UUID]:
    state = await c.state()
    entry = next(h for h in reversed(state.history) if h.reason == "referral_approved")
    sent = next(n for n in reversed(state.notifications) if n["kind"] == "referral")
    return uuid.UUID(entry.details["referral_id"]), uuid.UUID(sent["request_id"])


async def delivered(c: Driven) -> None:
    _, notification = await current_referral(c)
    await c.handle.signal(
        SIGNAL_DELIVERY_OUTCOME,
        DeliveryOutcome(
            request_id=notification, delivered=True, channel="webhook", at=datetime.now(UTC)
        ),
    )


async def answer(c: Driven, decision: ReferralDecision, **more: Any) -> None:
    referral, _ = await current_referral(c)
    await c.handle.signal(
        SIGNAL_REFERRAL_ANSWER,
        ReferralAnswer(
            answer_id=uuid.uuid4().hex,
            referral_id=referral,
            decision=decision,
            at=datetime.now(UTC),
            **more,
        ),
    )


async def test_referral_accepted(
    temporal_client: Client, dev_queue: str, kafka_bootstrap: str
) -> None:
    c = await start(temporal_client, dev_queue, kafka_bootstrap, submitted(program="PKH"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.ACCEPTED, note="Dibayarkan bulan depan")
    await c.until(lambda s: s.history[-1].reason == "referral_accepted")
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "referral_accepted")


async def test_under_review_then_rejected(
    temporal_client: Client, dev_queue: str, kafka_bootstrap: str
) -> None:
    c = await start(temporal_client, dev_queue, kafka_bootstrap, submitted(program="BPNT"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.UNDER_REVIEW, expected_date=date(2027, 1, 20))
    await c.until(lambda s: s.history[-1].reason == "under_review")
    await answer(c, ReferralDecision.REJECTED, note="Tidak memenuhi syarat")
    await c.until(lambda s: s.history[-1].reason == "referral_rejected")
    await save(c, "under_review_then_rejected")


async def test_not_responsible_then_rerouted(
    temporal_client: Client, dev_queue: str, kafka_bootstrap: str
) -> None:
    c = await start(temporal_client, dev_queue, kafka_bootstrap, submitted(program="PBI_JK"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer("BPNT", "Keluhan tercatat pada penyaluran BPNT"))
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.NOT_RESPONSIBLE, suggested_destination="PBI_JK")
    await c.until(lambda s: s.history[-1].reason == "not_responsible")
    await c.refer()
    await c.act(UPDATE_MANAGER_DECISION, approve(None))
    await answer(c, ReferralDecision.ACCEPTED, note="Status PBI dipulihkan")
    await c.until(lambda s: s.history[-1].reason == "referral_accepted")
    await save(c, "not_responsible_then_rerouted")


class TestOnAFastClock:
    @pytest.fixture
    def routing_settings(self) -> RoutingSettings:
        return RoutingSettings(sla_clock_speed=SPEED)

    async def test_no_response(
        self, temporal_client: Client, dev_queue: str, kafka_bootstrap: str
    ) -> None:
        c = await start(temporal_client, dev_queue, kafka_bootstrap, submitted(program="PKH"))
        await c.until(
            lambda s: any(h.reason == "registry_no_answer" for h in s.history), timeout=60
        )
        await c.refer()
        await c.act(UPDATE_MANAGER_DECISION, approve())
        await c.until(lambda s: any(h.reason == "no_response" for h in s.history), timeout=120)
        await save(c, "no_response")
