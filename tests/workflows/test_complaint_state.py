"""The workflow's state is one serialisable model (ready for continue-as-new), and the
contract's words keep their wire values."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from slrt.auth.principal import Role
from slrt.contracts.complaints import Actor, HistoryEntry, Outcome
from slrt.contracts.events import NotificationRequested
from slrt.contracts.sla import SlaPolicy
from slrt.contracts.transitions import ANSWER_DECISIONS, DecisionCode, Reason
from slrt.contracts.vocabulary import NotificationKind, ProgramChannel, ReferralDecision
from tests.workflows.support import submitted
from workflows import clocks
from workflows.complaint.state import Complaint, CurrentReferral, snapshot
from workflows.model import RoutePlan
from workflows.working_days import WorkingCalendar


def test_the_state_round_trips_through_json_and_gives_the_same_snapshot() -> None:
    c = Complaint.new(submitted())
    c.clocks.policy = SlaPolicy(days_off=[date(2026, 12, 25)])
    c.clocks.origin = datetime(2026, 12, 1, tzinfo=UTC)
    c.clocks.running["step"] = clocks.new(
        WorkingCalendar([]), "step", Role.BACK_OFFICE, date(2026, 12, 1), 5, 3
    )
    c.referral.current = CurrentReferral(
        referral_id=uuid.uuid4(),
        notification_id=uuid.uuid4(),
        plan=RoutePlan(
            destination="PKH",
            program_name="PKH",
            owner_agency="Kemensos",
            channel=ProgramChannel.DIRECT,
            sla_working_days=10,
        ),
    )
    c.referral.answers_seen.add("a-1")
    c.outcome.pending = Outcome.REFERRAL_ACCEPTED
    c.journal.history.append(
        HistoryEntry(
            sequence=1,
            from_step=None,
            to_step=c.step,
            actor="u",
            actor_role="front_office",
            at=datetime(2026, 12, 1, tzinfo=UTC),
            reason=Reason.SUBMITTED,
        )
    )
    c.journal.effects.append(
        NotificationRequested(
            request_id=uuid.uuid4(),
            complaint_id=c.submitted.complaint_id,
            kind=NotificationKind.REMINDER,
            destination="back_office:3204",
            template="step_at_risk",
            params={},
        )
    )
    c.journal.done["r-1"] = snapshot(c)
    again = Complaint.model_validate_json(c.model_dump_json())
    assert again == c
    assert snapshot(again) == snapshot(c)
    assert isinstance(again.journal.effects[0], NotificationRequested)
    assert again.clocks.calendar.is_working_day(date(2026, 12, 24))
    assert not again.clocks.calendar.is_working_day(date(2026, 12, 25))
    assert Actor(user_id="u", role=Role.MANAGER).role is Role.MANAGER


def test_reasons_and_decision_codes_keep_their_wire_values() -> None:
    assert Reason.breached("referral") == "referral_breached"
    assert Reason.answered(ReferralDecision.ACCEPTED) == "referral_accepted"
    assert Reason.answered(ReferralDecision.REJECTED) == Reason.REFERRAL_REJECTED
    assert DecisionCode.NO_RESPONSE.value == "no_response"
    assert DecisionCode.NOT_RESPONSIBLE.value == "not_responsible"
    assert {d.value for d in ANSWER_DECISIONS} == {d.value for d in ReferralDecision}
