"""A referral's own record, folded from the complaint's lifecycle events: where it went, who
approved it and with what note, how its destination answered, and how it ended.

The status projection (``complaint_status``) follows the complaint, which moves on once the
referral is answered; this record stays, so a referral remains readable after its answer and a
late answer can be told what was recorded. Pure functions: ``change_for`` says what one
transition does to the referral it concerns; ``services/intake/store.py`` writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.events import ComplaintTransitioned
from slrt.contracts.transitions import Reason

S = ComplaintStep


class ReferralStatus(StrEnum):
    REFERRED = "referred"
    """Sent (or being sent), no answer yet."""
    UNDER_REVIEW = "under_review"
    """The destination is looking into it (expected date given)."""
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    NOT_RESPONSIBLE = "not_responsible"
    NO_RESPONSE = "no_response"
    """Expired unanswered."""
    DELIVERY_FAILED = "delivery_failed"
    WITHDRAWN = "withdrawn"
    """The complaint was withdrawn while the referral waited."""
    CLOSED = "closed"
    """The complaint moved on otherwise while the referral waited."""


WAITING = frozenset({ReferralStatus.REFERRED, ReferralStatus.UNDER_REVIEW})
"""A referral in these statuses still takes an answer."""

_ANSWERS: dict[str, ReferralStatus] = {
    Reason.UNDER_REVIEW: ReferralStatus.UNDER_REVIEW,
    Reason.REFERRAL_ACCEPTED: ReferralStatus.ACCEPTED,
    Reason.REFERRAL_REJECTED: ReferralStatus.REJECTED,
    Reason.NOT_RESPONSIBLE: ReferralStatus.NOT_RESPONSIBLE,
}
_ENDINGS: dict[str, ReferralStatus] = {
    Reason.NO_RESPONSE: ReferralStatus.NO_RESPONSE,
    Reason.DELIVERY_FAILED: ReferralStatus.DELIVERY_FAILED,
}
_REFERRAL_STEPS = frozenset({S.REFERRED.value, S.UNDER_REVIEW.value})


@dataclass(frozen=True)
class Opened:
    """The manager approved: a new referral."""

    referral_id: UUID
    destination: str
    channel: str | None
    approved_by: str
    approved_at: datetime
    approval_note: str | None
    separation_of_duties: bool | None
    """False when the approval was made with the rule off; None when not recorded."""
    answer_due: date | None


@dataclass(frozen=True)
class Updated:
    """What a later transition changes on the referral it concerns (None: unchanged)."""

    referral_id: UUID | None
    """The referral named by the event; None: the complaint's referral still waiting."""
    status: ReferralStatus | None = None
    delivered_at: datetime | None = None
    answer_due: date | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    """decision, answer_note, expected_date, suggested_destination, answered_at."""
    closed_at: datetime | None = None


Change = Opened | Updated


def _named_referral(event: ComplaintTransitioned) -> UUID | None:
    named = event.details.get("referral_id")
    if named:
        try:
            return UUID(str(named))
        except ValueError:
            return None
    return event.snapshot.referral_id


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def change_for(event: ComplaintTransitioned) -> Change | None:
    """What ``event`` does to a referral of its complaint (None: nothing)."""
    details = event.details
    named = _named_referral(event)
    to, reason = event.to_step, event.reason
    if to == S.REFERRED.value and event.from_step != S.REFERRED.value and named is not None:
        destination = details.get("destination") or event.snapshot.referral_destination
        if destination:
            sod = details.get("separation_of_duties")
            return Opened(
                referral_id=named,
                destination=str(destination),
                channel=str(details["channel"]) if details.get("channel") else None,
                approved_by=event.actor,
                approved_at=event.at,
                approval_note=str(details["note"]) if details.get("note") else None,
                separation_of_duties=sod if isinstance(sod, bool) else None,
                answer_due=event.snapshot.step_due,
            )
    if reason == Reason.REFERRAL_DELIVERED:
        return Updated(named, delivered_at=event.at)
    if reason in _ANSWERS:
        status = _ANSWERS[reason]
        final = status not in WAITING
        return Updated(
            named,
            status=status,
            answer_due=event.snapshot.step_due if not final else None,
            answer={
                "decision": event.decision_code or status.value,
                "answer_note": details.get("note"),
                "expected_date": _date(details.get("expected_date")),
                "suggested_destination": details.get("suggested_destination"),
                "answered_at": event.at,
            },
            closed_at=event.at if final else None,
        )
    if reason in _ENDINGS:
        return Updated(named, status=_ENDINGS[reason], closed_at=event.at)
    if to == S.WITHDRAWN.value:
        return Updated(named, status=ReferralStatus.WITHDRAWN, closed_at=event.at)
    if to not in _REFERRAL_STEPS:
        # The complaint left the referral otherwise: a referral still waiting is closed.
        return Updated(named, status=ReferralStatus.CLOSED, closed_at=event.at)
    if event.snapshot.step_due is not None:
        return Updated(named, answer_due=event.snapshot.step_due)
    return None
