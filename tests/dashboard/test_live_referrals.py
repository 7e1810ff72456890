"""The fold's referral facts on the lifecycle events the real workflow emitted
(``fixtures/live_referrals.json``, recorded by ``tests/workflows/record_lifecycle_events.py``):
the referral's id and destination come from the live ``referred`` transition, answers and the
expiry find their referral, and events published before the workflow named the referral in its
snapshot (or in every answer) fold the same."""

from __future__ import annotations

import json
import random
from pathlib import Path
from uuid import UUID

import pytest

from services.dashboard.domain.facts import ReferralFacts, fold
from slrt.contracts.events import ComplaintTransitioned

FIXTURE = Path(__file__).parent / "fixtures" / "live_referrals.json"


def recorded(name: str) -> list[ComplaintTransitioned]:
    cases = json.loads(FIXTURE.read_text())
    return [ComplaintTransitioned.model_validate(e) for e in cases[name]]


def approvals(events: list[ComplaintTransitioned]) -> list[ComplaintTransitioned]:
    return [e for e in events if e.reason == "referral_approved"]


def answer(events: list[ComplaintTransitioned], reason: str) -> ComplaintTransitioned:
    return next(e for e in events if e.reason == reason)


def as_before_the_snapshot_named_it(
    events: list[ComplaintTransitioned],
) -> list[ComplaintTransitioned]:
    """The events as the workflow published them before this change: no referral id in the
    snapshot, and only the approval's details naming the referral."""
    old = []
    for e in events:
        details = dict(e.details)
        if e.reason != "referral_approved":
            details.pop("referral_id", None)
        snapshot = e.snapshot.model_copy(update={"referral_id": None})
        old.append(e.model_copy(update={"details": details, "snapshot": snapshot}))
    return old


def facts_of(events: list[ComplaintTransitioned]) -> tuple[ReferralFacts, ...]:
    return fold(events).referrals


def test_an_accepted_referral_is_counted_for_its_destination() -> None:
    events = recorded("referral_accepted")
    (approved,) = approvals(events)
    (referral,) = facts_of(events)
    assert referral == ReferralFacts(
        referral_id=UUID(approved.details["referral_id"]),
        destination="PKH",
        sent_at=approved.at,
        answered_at=answer(events, "referral_accepted").at,
        decision="accepted",
    )


def test_under_review_then_rejected_keeps_the_first_answers_time() -> None:
    events = recorded("under_review_then_rejected")
    (referral,) = facts_of(events)
    assert (referral.destination, referral.decision) == ("BPNT", "rejected")
    assert referral.answered_at == answer(events, "under_review").at


def test_a_rerouted_complaint_has_two_referrals_each_with_its_answer() -> None:
    events = recorded("not_responsible_then_rerouted")
    first, second = approvals(events)
    assert [(r.referral_id, r.destination, r.decision) for r in facts_of(events)] == [
        (UUID(first.details["referral_id"]), "BPNT", "not_responsible"),
        (UUID(second.details["referral_id"]), "PBI_JK", "accepted"),
    ]


def test_an_unanswered_referral_expires() -> None:
    events = recorded("no_response")
    (referral,) = facts_of(events)
    assert (referral.destination, referral.expired) == ("PKH", True)
    assert (referral.answered_at, referral.decision) == (None, None)


@pytest.mark.parametrize(
    "name",
    [
        "referral_accepted",
        "under_review_then_rejected",
        "not_responsible_then_rerouted",
        "no_response",
    ],
)
def test_events_published_before_the_snapshot_named_the_referral_fold_the_same(
    name: str,
) -> None:
    events = recorded(name)
    assert facts_of(as_before_the_snapshot_named_it(events)) == facts_of(events)


@pytest.mark.parametrize(
    "name",
    [
        "referral_accepted",
        "under_review_then_rejected",
        "not_responsible_then_rerouted",
        "no_response",
    ],
)
def test_the_fold_is_independent_of_order_and_repeats(name: str) -> None:
    events = recorded(name)
    shuffled = events + events[:4]
    random.Random(3).shuffle(shuffled)
    assert fold(shuffled) == fold(events)
