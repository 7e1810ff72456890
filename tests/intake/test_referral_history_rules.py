"""What each lifecycle event does to a referral's record (``referral_history.change_for``), on
the events the real workflow emitted (``tests/dashboard/fixtures/live_referrals.json``) and on
events in the shape published before the workflow named the referral everywhere."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

from services.intake.referral_history import Opened, ReferralStatus, Updated, change_for
from slrt.contracts.events import ComplaintTransitioned

FIXTURE = Path(__file__).parents[1] / "dashboard" / "fixtures" / "live_referrals.json"


def recorded(name: str) -> list[ComplaintTransitioned]:
    return [ComplaintTransitioned.model_validate(e) for e in json.loads(FIXTURE.read_text())[name]]


def by_reason(events: list[ComplaintTransitioned], reason: str) -> ComplaintTransitioned:
    return next(e for e in events if e.reason == reason)


def test_the_approval_opens_the_referral_with_its_destination_and_note() -> None:
    events = recorded("referral_accepted")
    approval = by_reason(events, "referral_approved")
    opened = change_for(approval)
    assert isinstance(opened, Opened)
    assert opened.referral_id == UUID(approval.details["referral_id"])
    assert (opened.destination, opened.channel) == ("PKH", "direct")
    assert opened.approval_note == "Disetujui; keluarga lansia tanpa penghasilan."
    assert opened.approved_by == "user-manager"
    assert opened.separation_of_duties is None  # on: nothing recorded
    assert opened.answer_due == approval.snapshot.step_due


def test_delivery_and_the_final_answer_update_the_named_referral() -> None:
    events = recorded("referral_accepted")
    referral = UUID(by_reason(events, "referral_approved").details["referral_id"])
    delivered = change_for(by_reason(events, "referral_delivered"))
    assert delivered == Updated(referral, delivered_at=by_reason(events, "referral_delivered").at)
    accepted_event = by_reason(events, "referral_accepted")
    accepted = change_for(accepted_event)
    assert isinstance(accepted, Updated)
    assert (accepted.referral_id, accepted.status) == (referral, ReferralStatus.ACCEPTED)
    assert accepted.answer["decision"] == "accepted"
    assert accepted.answer["answer_note"] == "Dibayarkan bulan depan"
    assert accepted.closed_at == accepted_event.at


def test_under_review_keeps_it_waiting_and_moves_the_due_date() -> None:
    events = recorded("under_review_then_rejected")
    review = change_for(by_reason(events, "under_review"))
    assert isinstance(review, Updated)
    assert review.status is ReferralStatus.UNDER_REVIEW
    assert review.closed_at is None
    assert review.answer["expected_date"].isoformat() == "2027-01-20"
    assert review.answer_due == by_reason(events, "under_review").snapshot.step_due


def test_not_responsible_and_expiry_close_it() -> None:
    rerouted = recorded("not_responsible_then_rerouted")
    closed = change_for(by_reason(rerouted, "not_responsible"))
    assert isinstance(closed, Updated)
    assert closed.status is ReferralStatus.NOT_RESPONSIBLE
    assert closed.answer["suggested_destination"] == "PBI_JK"
    expired = change_for(by_reason(recorded("no_response"), "no_response"))
    assert isinstance(expired, Updated)
    assert (expired.status, expired.answer) == (ReferralStatus.NO_RESPONSE, {})


def test_an_old_answer_event_without_the_referral_id_names_the_waiting_referral() -> None:
    answer = by_reason(recorded("referral_accepted"), "referral_accepted")
    details = {k: v for k, v in answer.details.items() if k != "referral_id"}
    old = answer.model_copy(update={"details": details})
    change = change_for(old)
    assert isinstance(change, Updated)
    assert change.referral_id is None  # the store takes the complaint's waiting referral
    assert change.status is ReferralStatus.ACCEPTED


def test_steps_before_the_referral_change_nothing_and_leaving_it_closes_it() -> None:
    events = recorded("referral_accepted")
    proposal = by_reason(events, "referral_proposed")
    change = change_for(proposal)
    # Leaving for another step closes a referral still waiting (none is, before approval).
    assert change == Updated(None, status=ReferralStatus.CLOSED, closed_at=proposal.at)
    told = by_reason(events, "household_told")
    assert change_for(told) == Updated(None, status=ReferralStatus.CLOSED, closed_at=told.at)
