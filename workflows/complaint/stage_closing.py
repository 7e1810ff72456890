"""Closing and reopening: the facilitator tells the household, the household answers, the
complaint closes, a not-satisfied household reopens it once, staff withdraw it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    Actor,
    ComplaintStep,
    FacilitatorFeedback,
    HouseholdResponse,
    Outcome,
    Withdraw,
)
from slrt.contracts.transitions import DecisionCode, Reason
from slrt.contracts.vocabulary import NotificationKind
from workflows import clocks
from workflows.complaint import journal
from workflows.complaint.state import Complaint
from workflows.escalation import staff_destination
from workflows.rules import REOPENABLE_OUTCOMES, check_fits

S = ComplaintStep


def close(
    c: Complaint,
    outcome: Outcome,
    actor: Actor | None,
    *,
    reason: str,
    details: dict[str, Any] | None = None,
) -> None:
    c.outcome.final = outcome
    c.outcome.pending = None
    c.outcome.closed_on = workflow.now()
    journal.move(c, S.CLOSED, actor, reason=reason, decision_code=outcome.value, details=details)


def may_reopen(c: Complaint, outcome: Outcome | None = None) -> bool:
    """A not-satisfied household reopens once, within the window after closing."""
    outcome = outcome or c.outcome.final
    state = c.outcome
    if state.reopened or outcome not in REOPENABLE_OUTCOMES or state.household_satisfied:
        return False
    if c.step is S.CLOSED:
        now = c.clocks.on_sla_clock(workflow.now())
        return state.closed_on is not None and now < reopen_deadline(c)
    return True


def reopen_deadline(c: Complaint) -> datetime:
    """The end of the reopening window, on the SLA clock."""
    assert c.outcome.closed_on is not None
    closed = c.clocks.on_sla_clock(c.outcome.closed_on)
    return closed + timedelta(days=c.clocks.policy_or_fail().reopen_window_days)


def reopen(c: Complaint, actor: Actor, details: dict[str, Any]) -> None:
    p = c.clocks.policy_or_fail()
    c.outcome.reopened = True
    c.outcome.final = None
    c.outcome.pending = None
    c.outcome.closed_on = None
    c.clocks.running["resolve"] = clocks.new(
        c.clocks.calendar,
        "resolve",
        Role.BACK_OFFICE,
        c.clocks.today(workflow.now()),
        p.resolve_days,
        p.resolve_reminder_days,
    )
    c.referral.options_fresh = False
    journal.move(c, S.BACK_OFFICE, actor, reason=Reason.REOPENED_NOT_SATISFIED, details=details)


def task_feedback(c: Complaint, params: dict[str, Any]) -> None:
    """Ask the village's facilitator to tell the household the outcome."""
    journal.notify(
        c,
        NotificationKind.FACILITATOR_TASK,
        staff_destination("facilitator", c.submitted.village_code),
        "tell_household",
        {"ticket": c.submitted.ticket_number, **params},
    )


def advance(c: Complaint, holds: Callable[[Complaint], bool] | None = None) -> bool:
    """End the run once the complaint is over; True if it is. ``holds`` keeps a closed
    complaint's run open (waiting for registry results, ``stage_registry.holds_run``)."""
    if c.step is S.WITHDRAWN or (c.step is S.CLOSED and not may_reopen(c)):
        if c.step is S.CLOSED and holds is not None and holds(c):
            return False
        c.finished = True
        return True
    return False


# --- Updates -----------------------------------------------------------------------------


def facilitator_feedback(c: Complaint, action: FacilitatorFeedback) -> None:
    details: dict[str, Any] = {"visited_on": action.visited_on.isoformat()}
    if action.household_response:
        details["household_response"] = action.household_response
    if not action.household_told:
        journal.move(
            c, S.FEEDBACK, action.actor, reason=Reason.HOUSEHOLD_NOT_REACHED, details=details
        )
        return
    outcome = c.outcome.pending
    assert outcome is not None
    if action.household_response == "not_satisfied" and may_reopen(c, outcome):
        reopen(c, action.actor, details)
    else:
        if action.household_response == "satisfied":
            c.outcome.household_satisfied = True
        close(c, outcome, action.actor, reason=Reason.HOUSEHOLD_TOLD, details=details)


def household_response(c: Complaint, action: HouseholdResponse) -> None:
    details: dict[str, Any] = {"household_response": action.response, "appeal": action.appeal}
    outcome = c.outcome.final if c.step is S.CLOSED else c.outcome.pending
    if action.response == "not_satisfied" and outcome and may_reopen(c, outcome):
        reopen(c, action.actor, details)
    else:
        c.outcome.household_satisfied = action.response == "satisfied"
        journal.move(c, c.step, action.actor, reason=Reason.HOUSEHOLD_RESPONSE, details=details)


def check_household_response(c: Complaint, action: HouseholdResponse) -> None:
    """Once the reopen window is over (or reopening is spent), a closed complaint takes no
    response: refuse as if it were not in feedback."""
    if c.step is S.CLOSED and not may_reopen(c):
        check_fits(c.step, action.actor.role, {S.FEEDBACK}, set(Role))


def withdraw(c: Complaint, action: Withdraw) -> None:
    c.clocks.running.clear()
    c.outcome.final = Outcome.WITHDRAWN
    journal.move(
        c, S.WITHDRAWN, action.actor, reason=action.reason, decision_code=DecisionCode.WITHDRAWN
    )
