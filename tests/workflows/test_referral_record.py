"""The referral's record in the workflow (``PATCH_REFERRAL_RECORD``), on the real dev server:
separation of duties at approval, the manager's note travelling with the referral to the
program and into the history, and the referral named by every transition about it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from services.routing.settings import RoutingSettings
from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    SIGNAL_DELIVERY_OUTCOME,
    SIGNAL_REFERRAL_ANSWER,
    UPDATE_BACK_OFFICE,
    UPDATE_MANAGER_DECISION,
    BackOfficeAction,
    ComplaintStep,
    DeliveryOutcome,
    ManagerDecision,
    ReferralAnswer,
)
from slrt.contracts.events import ComplaintSubmitted, ComplaintTransitioned
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import NotificationKind, ReferralDecision
from tests.support.complaints import Driven, actor, request_id, submitted

S = ComplaintStep
Drive = Callable[[ComplaintSubmitted], Awaitable[Driven]]
NOTE = "Disetujui; mohon prioritaskan, keluarga lansia tanpa penghasilan."
BOTH_HATS = "user-sole-manager"
"""One person who works the back office and manages (a district with a single manager)."""


def propose(user: str = "user-back_office") -> BackOfficeAction:
    return BackOfficeAction(
        actor=actor(Role.BACK_OFFICE, user), request_id=request_id(), kind="refer"
    )


def decide(user: str, note: str | None = None) -> ManagerDecision:
    return ManagerDecision(
        actor=actor(Role.MANAGER, user), request_id=request_id(), decision="approve", note=note
    )


async def test_the_proposer_may_not_approve_and_another_managers_note_travels(
    drive: Drive,
) -> None:
    c = await drive(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, propose(BOTH_HATS))
    before = await c.state()

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await c.act(UPDATE_MANAGER_DECISION, decide(BOTH_HATS))
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "SeparationOfDuties"
    assert "separation of duties" in cause.message
    assert cause.details[0]["rule"] == "separation_of_duties"
    assert (await c.state()).history == before.history  # nothing was written

    sent = await c.act(UPDATE_MANAGER_DECISION, decide("user-manager-2", NOTE))
    assert sent.step is S.REFERRED
    assert sent.referral_id is not None  # the snapshot names the referral while it is out
    state = await c.state()
    approval = state.history[-1]
    assert approval.reason == "referral_approved"
    assert approval.actor == "user-manager-2"
    assert approval.details["note"] == NOTE
    assert approval.details["referral_id"] == str(sent.referral_id)
    assert "separation_of_duties" not in approval.details  # on: nothing to record

    notifications = await c.notifications(expect=3)
    (referral,) = [n for n in notifications if n.kind is NotificationKind.REFERRAL]
    assert referral.params["approval_note"] == NOTE
    assert referral.place_code == c.complaint.village_code
    # Every request about the complaint carries its place (the notifier scopes reads by it).
    assert {n.place_code for n in notifications} == {c.complaint.village_code}

    await c.handle.signal(
        SIGNAL_DELIVERY_OUTCOME,
        DeliveryOutcome(
            request_id=referral.request_id, delivered=True, channel="webhook", at=datetime.now(UTC)
        ),
    )
    await c.handle.signal(
        SIGNAL_REFERRAL_ANSWER,
        ReferralAnswer(
            answer_id=uuid.uuid4().hex,
            referral_id=sent.referral_id,
            decision=ReferralDecision.ACCEPTED,
            note="Dibayarkan bulan depan",
            at=datetime.now(UTC),
        ),
    )
    done = await c.at(S.FEEDBACK)
    assert done.snapshot.referral_id is None  # answered: no referral out any more
    events = await c.published(Topic.COMPLAINT_LIFECYCLE, expect=len(done.history))
    lifecycle = [e.parse(ComplaintTransitioned) for e in events]
    about_the_referral = [e for e in lifecycle if e.sequence >= approval.sequence]
    assert [e.reason for e in about_the_referral] == [
        "referral_approved",
        "referral_delivered",
        "referral_accepted",
    ]
    assert {e.details["referral_id"] for e in about_the_referral} == {str(sent.referral_id)}
    assert lifecycle[approval.sequence - 1].snapshot.referral_id == sent.referral_id


async def test_send_back_by_the_proposer_is_not_an_approval(drive: Drive) -> None:
    c = await drive(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, propose(BOTH_HATS))
    back = await c.act(
        UPDATE_MANAGER_DECISION,
        ManagerDecision(
            actor=actor(Role.MANAGER, BOTH_HATS),
            request_id=request_id(),
            decision="send_back",
            note="Lengkapi dulu",
        ),
    )
    assert back.step is S.BACK_OFFICE


class TestWithSeparationOfDutiesOff:
    """A district with a single manager turns the rule off (``SLRT_ROUTING_SEPARATION_OF_
    DUTIES=false``): the same person approves, and the history says the rule was off."""

    @pytest.fixture
    def routing_settings(self) -> RoutingSettings:
        return RoutingSettings(separation_of_duties=False)

    async def test_the_proposer_approves_and_the_history_records_the_rule_was_off(
        self, drive: Drive
    ) -> None:
        c = await drive(submitted(program="PKH"))
        await c.answer_registry()
        await c.act(UPDATE_BACK_OFFICE, propose(BOTH_HATS))
        sent = await c.act(UPDATE_MANAGER_DECISION, decide(BOTH_HATS, NOTE))
        assert sent.step is S.REFERRED
        approval = (await c.state()).history[-1]
        assert approval.details["separation_of_duties"] is False
        assert approval.details["proposed_by_approver"] is True
        assert approval.details["note"] == NOTE
