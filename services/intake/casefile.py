"""A complaint's case file as staff read it, as plain functions over what intake stores: the
complainant as recorded, the referral history folded from the timeline, the facilitator's
visit task, and what each read discloses (for its audit row)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.intake.schemas import (
    ComplainantOut,
    ReferralAnswerEntry,
    ReferralEnd,
    ReferralHistoryEntry,
    VisitPerson,
    VisitTask,
)
from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.transitions import ANSWER_DECISIONS, DecisionCode, Reason
from slrt.contracts.vocabulary import ReferralDecision


class Row(Protocol):
    """A stored row (an asyncpg record or a dict with the same keys)."""

    def __getitem__(self, key: str, /) -> Any: ...


S = ComplaintStep
PROGRAM_MANAGER = Role.PROGRAM_MANAGER.value


def complainant(complaint: Row) -> ComplainantOut | None:
    """The complainant as recorded at submission (None for an anonymous report)."""
    recorded = complaint["complainant"]
    if complaint["anonymous"] or recorded is None:
        return None
    return ComplainantOut.model_validate(
        {**recorded, "phone": complaint["phone"], "email": _get(complaint, "email")}
    )


def _get(row: Row, key: str) -> Any:
    """A column that not every query selects (None when absent)."""
    try:
        return row[key]
    except KeyError:
        return None


def visit_person(complaint: Row) -> VisitPerson | None:
    """Whom the facilitator visits: name and address, nothing more."""
    person = complainant(complaint)
    return None if person is None else VisitPerson(name=person.name, address=person.address)


def detail_fields(anonymous: bool) -> list[str]:
    """What a case-file read discloses (the audit row's ``fields``)."""
    read = ["description", "timeline.details"]
    return read if anonymous else ["description", "complainant", *read[1:]]


def task_fields(person: VisitPerson | None) -> list[str]:
    """What a task-feed item discloses."""
    return ["task"] if person is None else ["complainant.name", "complainant.address", "task"]


def _details(entry: Row) -> dict[str, Any]:
    details = entry["details"]
    return dict(details) if details else {}


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


ENDS: dict[ReferralDecision, ReferralEnd] = {
    ReferralDecision.ACCEPTED: "accepted",
    ReferralDecision.REJECTED: "rejected",
    ReferralDecision.NOT_RESPONSIBLE: "not_responsible",
}
"""The answers that end a referral (``under_review`` keeps it waiting)."""


def referral_history(timeline: Sequence[Row]) -> list[ReferralHistoryEntry]:
    """Every referral, oldest first, folded from the timeline (ordered by sequence): opened by
    the manager's approval, then delivered or not, answered (each answer with its note) and
    ended — accepted, rejected, not responsible, unanswered, undeliverable or withdrawn."""
    referrals: list[ReferralHistoryEntry] = []
    current: ReferralHistoryEntry | None = None

    def end(how: ReferralEnd, at: datetime) -> None:
        nonlocal current
        assert current is not None
        current.ended = how
        current.ended_at = at
        current = None

    for entry in timeline:
        details = _details(entry)
        reason, at = entry["reason"], entry["at"]
        if reason == Reason.REFERRAL_APPROVED:
            current = ReferralHistoryEntry(
                referral_id=_uuid(details.get("referral_id")),
                destination=details.get("destination"),
                channel=details.get("channel"),
                approved_by=entry["actor"],
                approval_note=details.get("note"),
                referred_at=at,
            )
            referrals.append(current)
            continue
        if current is None:
            continue
        if reason == Reason.REFERRAL_DELIVERED:
            current.delivered = True
        elif reason == Reason.DELIVERY_FAILED:
            current.delivered = False
            end("delivery_failed", at)
        elif entry["decision_code"] in ANSWER_DECISIONS and entry["actor_role"] == PROGRAM_MANAGER:
            decision = ReferralDecision(entry["decision_code"])
            current.answers.append(
                ReferralAnswerEntry(
                    decision=decision,
                    note=details.get("note"),
                    expected_date=_date(details.get("expected_date")),
                    suggested_destination=details.get("suggested_destination"),
                    at=at,
                )
            )
            if decision is not ReferralDecision.UNDER_REVIEW:
                end(ENDS[decision], at)
        elif reason == Reason.NO_RESPONSE or entry["decision_code"] == DecisionCode.NO_RESPONSE:
            end("no_response", at)
        elif entry["to_step"] == S.WITHDRAWN:
            end("withdrawn", at)
    return referrals


def _last(timeline: Sequence[Row], match: Callable[[Row], bool]) -> Row | None:
    for entry in reversed(timeline):
        if match(entry):
            return entry
    return None


def visit_task(step: str, timeline: Sequence[Row]) -> VisitTask:
    """What the facilitator goes to the household for at ``step``: ask back office's question
    (awaiting information), or tell the outcome (feedback) with what to pass on."""
    if step == S.AWAITING_INFORMATION:
        asked = _last(timeline, lambda e: e["reason"] == Reason.INFORMATION_REQUESTED)
        return VisitTask(
            do="ask_question", question=_details(asked).get("question") if asked else None
        )
    entered = _last(timeline, lambda e: e["to_step"] == S.FEEDBACK and e["from_step"] != S.FEEDBACK)
    if entered is None:
        return VisitTask(do="tell_outcome")
    details = _details(entered)
    return VisitTask(
        do="tell_outcome",
        outcome=entered["reason"],
        program=details.get("destination") if entered["actor_role"] == PROGRAM_MANAGER else None,
        message=details.get("answer") or details.get("note"),
    )
