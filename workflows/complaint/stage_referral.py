"""Referral follow-up: the referral's delivery, the program manager's answers (accept, reject,
review further, not responsible), and its expiry when nobody answers."""

from __future__ import annotations

from typing import Any

from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    Actor,
    ComplaintStep,
    DeliveryOutcome,
    Outcome,
    ReferralAnswer,
)
from slrt.contracts.transitions import DecisionCode, Reason
from slrt.contracts.vocabulary import NotificationKind, ReferralDecision
from workflows import clocks
from workflows.complaint import journal
from workflows.complaint.stage_closing import task_feedback
from workflows.complaint.state import Complaint
from workflows.escalation import escalation_target, staff_destination

S = ComplaintStep


def delivery_outcome(c: Complaint, outcome: DeliveryOutcome) -> None:
    referral = c.referral.current
    if referral is None or outcome.request_id != referral.notification_id:
        return
    if referral.delivered is not None:
        return  # a duplicate or a late second outcome changes nothing
    referral.delivered = outcome.delivered
    details = {"channel": outcome.channel, "detail": outcome.detail}
    if journal.records_referral():
        details["referral_id"] = str(referral.referral_id)
    if outcome.delivered:
        journal.move(c, c.step, None, reason=Reason.REFERRAL_DELIVERED, details=details)
        return
    escalate_now(c, Role.PROGRAM_MANAGER, "referral_delivery_failed")
    c.referral.current = None
    journal.move(c, S.BACK_OFFICE, None, reason=Reason.DELIVERY_FAILED, details=details)


def referral_answer(c: Complaint, answer: ReferralAnswer) -> None:
    referral = c.referral.current
    if answer.answer_id in c.referral.answers_seen:
        return
    if referral is None or answer.referral_id != referral.referral_id:
        return
    if c.step not in (S.REFERRED, S.UNDER_REVIEW):
        return
    c.referral.answers_seen.add(answer.answer_id)
    actor = Actor(user_id=f"program:{referral.plan.destination}", role=Role.PROGRAM_MANAGER)
    details: dict[str, Any] = {"destination": referral.plan.destination}
    if journal.records_referral():
        details["referral_id"] = str(referral.referral_id)
    if answer.note:
        details["note"] = answer.note
    code = DecisionCode(answer.decision.value)
    if answer.decision is ReferralDecision.UNDER_REVIEW:
        if answer.expected_date:
            details["expected_date"] = answer.expected_date.isoformat()
            c.clocks.running["referral"] = clocks.moved_to(
                c.clocks.calendar,
                c.clocks.running["referral"],
                answer.expected_date,
                c.clocks.policy_or_fail().referral_expiry_extra_days,
            )
        journal.move(
            c,
            S.UNDER_REVIEW,
            actor,
            reason=Reason.UNDER_REVIEW,
            decision_code=code,
            details=details,
        )
    elif answer.decision is ReferralDecision.NOT_RESPONSIBLE:
        _not_responsible(c, answer, actor, details)
    else:
        accepted = answer.decision is ReferralDecision.ACCEPTED
        c.outcome.pending = Outcome.REFERRAL_ACCEPTED if accepted else Outcome.REFERRAL_REJECTED
        c.referral.current = None
        journal.move(
            c,
            S.FEEDBACK,
            actor,
            reason=Reason.answered(answer.decision),
            decision_code=code,
            details=details,
        )
        task_feedback(c, {"decision": code, "note": answer.note})


def _not_responsible(
    c: Complaint, answer: ReferralAnswer, actor: Actor, details: dict[str, Any]
) -> None:
    """Back to back office; the program's suggestion, if any, becomes the plan's."""
    state = c.referral
    state.current = None
    suggested = answer.suggested_destination
    if suggested:
        details["suggested_destination"] = suggested
        state.suggested_instead = suggested
        known = state.options.destinations if state.options else {}
        if suggested in known and state.options is not None:
            state.options = state.options.model_copy(update={"suggested": known[suggested]})
    state.options_fresh = False
    journal.move(
        c,
        S.BACK_OFFICE,
        actor,
        reason=Reason.NOT_RESPONSIBLE,
        decision_code=DecisionCode.NOT_RESPONSIBLE,
        details=details,
    )


def expire(c: Complaint) -> None:
    """Nobody answered within the grace period: escalate, back to back office."""
    referral = c.referral.current
    escalate_now(c, Role.PROGRAM_MANAGER, "referral_no_response")
    c.referral.current = None
    c.referral.options_fresh = False
    details: dict[str, Any] = {"destination": referral.plan.destination if referral else None}
    if referral is not None and journal.records_referral():
        details["referral_id"] = str(referral.referral_id)
    journal.move(
        c,
        S.BACK_OFFICE,
        None,
        reason=Reason.NO_RESPONSE,
        decision_code=DecisionCode.NO_RESPONSE,
        details=details,
    )


def escalate_now(c: Complaint, holder: Role, template: str) -> None:
    """Alert the level above ``holder`` at once (breached), e.g. a referral that failed."""
    target = escalation_target(holder, 1)
    c.clocks.escalation_count += 1
    journal.notify(
        c,
        NotificationKind.ESCALATION,
        staff_destination(target, c.submitted.village_code),
        template,
        {"ticket": c.submitted.ticket_number, "reason": template},
        breached=True,
    )
