"""Folding a complaint's recorded transitions into the facts the dashboard counts.

Pure functions: the consumer stores every transition it receives and refolds the complaint from
all of them, ordered by sequence, so the facts do not depend on delivery order or repeats.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from uuid import UUID

from slrt.contracts.complaints import OPEN_STEPS, ComplaintSnapshot, ComplaintStep
from slrt.contracts.events import ComplaintTransitioned
from slrt.contracts.transitions import ANSWER_DECISIONS, DecisionCode, Reason

S = ComplaintStep

FUNNEL = (
    S.RECEIVED,
    S.REGISTERED,
    S.REGISTRY_CHECK,
    S.BACK_OFFICE,
    S.MANAGER_APPROVAL,
    S.REFERRED,
    S.FEEDBACK,
    S.CLOSED,
)
"""The steps of the funnel (alur), in the order a complaint goes through them."""

ACKNOWLEDGING_STEPS = frozenset({S.FEEDBACK, S.CLOSED, S.WITHDRAWN})
"""Reaching one of these means the household had its first answer (if nothing earlier did)."""


@dataclass(frozen=True)
class ReferralFacts:
    """One referral to a program (rujukan) and how its destination answered."""

    referral_id: UUID
    destination: str
    sent_at: datetime
    answered_at: datetime | None = None
    decision: str | None = None
    expired: bool = False
    """Closed as ``no_response``: the destination did not answer before the expiry."""


@dataclass(frozen=True)
class ComplaintFacts:
    complaint_id: UUID
    ticket_number: str
    place_code: str
    category: str
    channel: str
    program_code: str | None
    step: str
    open: bool
    outcome: str | None
    received_at: datetime
    acknowledged_at: datetime | None
    acknowledge_due: date | None
    resolved_at: datetime | None
    resolve_due: date | None
    closed_at: datetime | None
    steps_reached: tuple[str, ...]
    escalation_count: int
    repeat: bool
    reopened: bool
    household_response: str | None
    last_sequence: int
    referrals: tuple[ReferralFacts, ...] = field(default=())
    information_topic: str | None = None
    """An information request's topic: that of the program-information entry that answered it
    (the closing transition's ``details.topic``); None when none was recorded."""


def fold(transitions: Iterable[ComplaintTransitioned]) -> ComplaintFacts:
    """The facts of one complaint from its transitions (any order, repeats allowed)."""
    by_sequence = {t.sequence: t for t in transitions}
    if not by_sequence:
        raise ValueError("a complaint needs at least one transition")
    ordered = [by_sequence[s] for s in sorted(by_sequence)]
    last: ComplaintSnapshot = ordered[-1].snapshot
    received_at = ordered[0].at
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    acknowledge_due: date | None = None
    resolve_due: date | None = None
    reached: list[str] = []
    response: str | None = None
    topic: str | None = None
    referrals: dict[UUID, ReferralFacts] = {}
    for t in ordered:
        to = t.to_step
        if to not in reached:
            reached.append(to)
        snap = t.snapshot
        # The first due dates are the promise made to the household; later ones may move.
        acknowledge_due = acknowledge_due or snap.acknowledge_due
        resolve_due = resolve_due or snap.resolve_due
        if acknowledged_at is None and (
            (t.from_step == S.BACK_OFFICE.value and to != S.BACK_OFFICE.value)
            or to in ACKNOWLEDGING_STEPS
        ):
            acknowledged_at = t.at
        if resolved_at is None and to in (S.FEEDBACK.value, S.CLOSED.value):
            resolved_at = t.at
        if to == S.CLOSED.value or to == S.WITHDRAWN.value:
            closed_at = t.at
        elif closed_at is not None and to in OPEN_STEPS:
            closed_at = None  # reopened
        if "household_response" in t.details:
            response = str(t.details["household_response"])
        if t.reason == Reason.ANSWERED_AT_REGISTRATION and t.details.get("topic"):
            topic = str(t.details["topic"])
        _track_referral(referrals, t)
    return ComplaintFacts(
        complaint_id=last.complaint_id,
        ticket_number=last.ticket_number,
        place_code=last.place_code,
        category=last.category.value,
        channel=last.channel.value,
        program_code=last.program_code,
        step=last.step.value,
        open=last.step in OPEN_STEPS,
        outcome=last.outcome.value if last.outcome else None,
        received_at=received_at,
        acknowledged_at=acknowledged_at,
        acknowledge_due=acknowledge_due,
        resolved_at=resolved_at,
        resolve_due=resolve_due,
        closed_at=closed_at,
        steps_reached=tuple(reached),
        escalation_count=max(t.snapshot.escalation_count for t in ordered),
        repeat=bool(last.repeat_of),
        reopened=any(t.snapshot.reopened for t in ordered),
        household_response=response,
        last_sequence=ordered[-1].sequence,
        referrals=tuple(referrals.values()),
        information_topic=topic,
    )


def _referral_named(t: ComplaintTransitioned) -> UUID | None:
    """The referral a transition names: the workflow puts its id in the details of the
    ``referred`` transition (and, since ``referral-record``, of every answer) and in the
    snapshot while the referral is out."""
    named = t.details.get("referral_id")
    if named:
        try:
            return UUID(str(named))
        except ValueError:
            return None
    return t.snapshot.referral_id


def _track_referral(referrals: dict[UUID, ReferralFacts], t: ComplaintTransitioned) -> None:
    named = _referral_named(t)
    destination = t.details.get("destination") or t.snapshot.referral_destination
    if (
        t.to_step == S.REFERRED.value
        and t.from_step != S.REFERRED.value
        and named is not None
        and named not in referrals
    ):
        referrals[named] = ReferralFacts(
            referral_id=named,
            destination=str(destination or "unknown"),
            sent_at=t.at,
        )
        return
    # A referral still waits while it is unanswered or only "under review".
    waiting = [
        r
        for r in referrals.values()
        if not r.expired and r.decision in (None, DecisionCode.UNDER_REVIEW)
    ]
    if not waiting:
        return
    current = next(
        (r for r in waiting if r.referral_id == named),
        next((r for r in waiting if r.destination == destination), waiting[-1]),
    )
    if t.actor_role == "program_manager" and t.decision_code in ANSWER_DECISIONS:
        referrals[current.referral_id] = replace(
            current, answered_at=current.answered_at or t.at, decision=t.decision_code
        )
    elif t.decision_code == DecisionCode.NO_RESPONSE:
        referrals[current.referral_id] = replace(current, expired=True)
