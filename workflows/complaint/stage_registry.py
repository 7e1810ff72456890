"""The registry's results back to the complaint (issue 15, items 1 and 2): back office proposes
registry corrections and may wait on registration; the registry's news about the proposals the
complaint started (its pre-list entry, its corrections) is recorded on the timeline and, for a
complaint waiting on registration, decides where it goes (``workflows/registry_results.py``).
Results come weeks later in batches: the wait is a durable timer (``result_wait_until``, on the
SLA clock) and a signal (``registry_proposal``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from temporalio import workflow

from slrt.contracts.complaints import (
    BackOfficeAction,
    ComplaintStep,
    ProposeRegistryCorrection,
    RegistryProposalNews,
)
from slrt.contracts.events import RegistryCorrectionRequested
from slrt.contracts.transitions import Reason
from workflows import registry_results
from workflows.complaint import journal
from workflows.complaint.stage_closing import task_feedback
from workflows.complaint.state import Complaint
from workflows.rules import invalid
from workflows.working_days import end_of

S = ComplaintStep

PATCH_REGISTRY_RESULTS: Final = "regres-registry-results"
"""Since this patch the complaint takes the registry's news about its proposals (signal
``registry_proposal``) and a closed complaint's run waits for their results."""


def expected(c: Complaint) -> int:
    """How many proposals the complaint started: its pre-list entry, one per correction."""
    summary = c.registry.summary
    return (1 if summary is not None and summary.prelist_requested else 0) + (
        c.registry.corrections_expected
    )


def _start_waiting(c: Complaint) -> None:
    if c.registry.result_wait_until is None and c.clocks.policy is not None:
        days = c.clocks.policy_or_fail().registry_result_wait_days
        today = c.clocks.today(workflow.now())
        c.registry.result_wait_until = c.clocks.calendar.add(today, days)


def check_await(c: Complaint) -> None:
    """``await_registration`` only while a proposal of the complaint is undecided."""
    if not registry_results.may_await(expected(c), c.registry.decided, c.registry.proposals):
        invalid(
            "await_registration needs a pre-list entry or correction still waiting for its "
            "verification result (rule: no_registry_proposal)",
            ["kind"],
        )


def await_registration(c: Complaint, action: BackOfficeAction) -> None:
    _start_waiting(c)
    journal.move(
        c,
        S.AWAITING_REGISTRATION,
        action.actor,
        reason=Reason.REGISTRATION_AWAITED,
        details={
            "pending": registry_results.pending(
                expected(c), c.registry.decided, c.registry.proposals
            )
        },
    )


def propose_correction(c: Complaint, action: ProposeRegistryCorrection) -> None:
    """Ask the registry to record the changes (one proposal each), linked to the complaint."""
    request_id = workflow.uuid4()
    journal.queue(
        c,
        RegistryCorrectionRequested(
            request_id=request_id,
            complaint_id=c.submitted.complaint_id,
            ticket_number=c.submitted.ticket_number,
            village_code=c.submitted.village_code,
            changes=list(action.changes),
            evidence=action.evidence,
            requested_by=action.actor.user_id,
        ),
    )
    c.registry.corrections_expected += len(action.changes)
    _start_waiting(c)
    # Kinds and counts only on the timeline: the values are personal data.
    details: dict[str, Any] = {
        "request_id": str(request_id),
        "changes": [change.kind for change in action.changes],
    }
    to = S.AWAITING_REGISTRATION if action.await_result and c.step is S.BACK_OFFICE else c.step
    journal.move(c, to, action.actor, reason=Reason.REGISTRY_CORRECTION_PROPOSED, details=details)


def news(c: Complaint, news: RegistryProposalNews) -> None:
    """The registry's news about a proposal of the complaint (idempotent)."""
    key = f"{news.proposal_id}:{news.status}:{news.batch_id}"
    if key in c.registry.news_seen or c.step is S.WITHDRAWN:
        return
    if not workflow.patched(PATCH_REGISTRY_RESULTS):
        return
    c.registry.news_seen.add(key)
    proposal = str(news.proposal_id)
    c.registry.proposals[proposal] = news.status
    settled = registry_results.settles(news.kind, news.status)
    if settled is not None:
        c.registry.decided[proposal] = settled
    _start_waiting(c)
    reaction = registry_results.react(
        c.step, news.kind, news.status, expected(c), c.registry.decided, c.registry.proposals
    )
    details: dict[str, Any] = {
        "proposal_id": proposal,
        "kind": news.kind,
        "status": news.status,
        "batch_id": str(news.batch_id) if news.batch_id else None,
        "reason": news.reason,
        "household_id": str(news.household_id) if news.household_id else None,
    }
    if reaction.to is S.FEEDBACK and reaction.outcome is not None:
        c.outcome.pending = reaction.outcome
        journal.move(
            c,
            S.FEEDBACK,
            None,
            reason=reaction.reason,
            decision_code=reaction.outcome.value,
            details=details,
        )
        task_feedback(c, {"decision": reaction.outcome.value, "note": news.reason})
    elif reaction.to is S.BACK_OFFICE:
        c.referral.options_fresh = False
        journal.move(c, S.BACK_OFFICE, None, reason=reaction.reason, details=details)
    else:
        journal.move(c, c.step, None, reason=reaction.reason, details=details)


# --- The wait ----------------------------------------------------------------------------


def waits(c: Complaint) -> bool:
    """Whether the complaint waits for verification results now (the timer runs)."""
    if c.registry.result_wait_until is None:
        return False
    if c.step is S.AWAITING_REGISTRATION:
        return True
    return registry_results.holds_run(c.step, expected(c), c.registry.decided, c.registry.proposals)


def next_moment(c: Complaint) -> datetime | None:
    if not waits(c) or c.registry.result_wait_until is None:
        return None
    return end_of(c.registry.result_wait_until)


def holds_run(c: Complaint) -> bool:
    """A closed complaint whose proposals are undecided keeps its run open until the wait is
    over (only runs with the patch: older ones ended as before)."""
    return waits(c) and c.step is S.CLOSED and workflow.patched(PATCH_REGISTRY_RESULTS)


def wait_over(c: Complaint, now: datetime) -> bool:
    """Act on the end of the wait; True if it was over."""
    moment = next_moment(c)
    if moment is None or now < moment:
        return False
    c.registry.result_wait_until = None
    if c.step is S.AWAITING_REGISTRATION:
        c.referral.options_fresh = False
        pending = registry_results.pending(expected(c), c.registry.decided, c.registry.proposals)
        journal.move(
            c,
            S.BACK_OFFICE,
            None,
            reason=Reason.REGISTRY_RESULT_OVERDUE,
            details={"pending": pending},
        )
    journal.changed(c)
    return True
