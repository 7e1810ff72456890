"""Intake and the registry check: the complaint is received, reviewed by a supervisor when a
facilitator captured it, registered (the household gets its ticket), checked against the
registry (DT-PPFM), and handed to back office with what the registry said."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final
from uuid import UUID

from temporalio import workflow

from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    OPEN_STEPS,
    Actor,
    ComplaintStep,
    CorrectedSubmission,
    Outcome,
    RegistrySummary,
    SupervisorReview,
)
from slrt.contracts.events import (
    ComplaintSubmitted,
    PrelistEntryRequested,
    RegistryCheckCompleted,
    RegistryCheckRequested,
)
from slrt.contracts.transitions import Reason
from slrt.contracts.vocabulary import Category, Channel, LookupKind, NotificationKind
from workflows import clocks
from workflows.complaint import journal
from workflows.complaint.stage_back_office import load_options
from workflows.complaint.stage_closing import close
from workflows.complaint.state import Complaint
from workflows.model import ACTIVITY_FIND_REPEATS, RepeatQuery

S = ComplaintStep

PATCH_ACKNOWLEDGE_HOUSEHOLD: Final = "acknowledge-household-at-registration"
"""Since this patch the household is sent its ticket when the complaint is registered."""

PATCH_INFORMATION_ANSWER: Final = "proginfo-information-answer"
"""Since this patch an information request's closing transition records its answer (the
program-information entry, its version, topic and the answer given)."""

Acknowledges = Callable[[], bool]
"""Whether registering sends the household its ticket (the workflow's versioning check)."""


def start(c: Complaint, submitted: ComplaintSubmitted, acknowledges: Acknowledges) -> None:
    """The complaint arrives: start its clocks; a facilitator's capture goes to the supervisor,
    a walk-in is registered at once."""
    p = c.clocks.policy_or_fail()
    today = c.clocks.today(workflow.now())
    calendar = c.clocks.calendar
    c.clocks.running["acknowledge"] = clocks.new(
        calendar, "acknowledge", None, today, p.acknowledge_days, p.acknowledge_reminder_days
    )
    c.clocks.running["resolve"] = clocks.new(
        calendar, "resolve", None, today, p.resolve_days, p.resolve_reminder_days
    )
    by_facilitator = submitted.channel is Channel.FACILITATOR_VISIT
    submitter = Actor(
        user_id=submitted.submitted_by,
        role=Role.FACILITATOR if by_facilitator else Role.FRONT_OFFICE,
    )
    journal.move(c, S.RECEIVED, submitter, reason=Reason.SUBMITTED)
    if by_facilitator:
        journal.move(c, S.SUPERVISOR_REVIEW, None, reason=Reason.FACILITATOR_CAPTURE)
    else:
        register(c, None, acknowledges)


def register(c: Complaint, actor: Actor | None, acknowledges: Acknowledges) -> None:
    """Attach the ticket; answer an information request; otherwise ask the registry."""
    journal.move(c, S.REGISTERED, actor, reason=Reason.TICKET_ATTACHED)  # household_registered
    ticket = c.submitted.ticket_number
    if not journal.tells_household(c) and acknowledges():
        # Runs started before PATCH_HOUSEHOLD_MESSAGES keep their old acknowledgment.
        journal.notify(
            c,
            NotificationKind.HOUSEHOLD_MESSAGE,
            f"household:{ticket}",
            "complaint_registered",
            {"ticket": ticket, "category": c.category.value},
        )
    if c.category is Category.INFORMATION:
        close(
            c,
            Outcome.ANSWERED,
            None,
            reason=Reason.ANSWERED_AT_REGISTRATION,
            details=_answer_details(c),
        )
        return
    if not c.submitted.names_complainant:
        journal.move(c, S.REGISTRY_CHECK, None, reason=Reason.ANONYMOUS_NO_LOOKUP)
        c.registry.applied = True
        c.referral.options_fresh = False
        journal.move(c, S.BACK_OFFICE, None, reason=Reason.ANONYMOUS)
        return
    request_id = workflow.uuid4()
    c.registry.request = request_id
    journal.queue(c, _lookup(c, request_id))
    wait = c.clocks.policy_or_fail().registry_wait_days
    c.registry.wait_until = c.clocks.calendar.add(c.clocks.today(workflow.now()), wait)
    journal.move(c, S.REGISTRY_CHECK, None, reason=Reason.REGISTRY_CHECK_REQUESTED)


def _answer_details(c: Complaint) -> dict[str, Any] | None:
    """The answer the front office gave (the entry, its version, topic and the masked text),
    recorded on the closing transition; None for a request submitted without one. Histories
    recorded before ``PATCH_INFORMATION_ANSWER`` never carry an answer, so the guard keeps
    them on their path should one ever be replayed with it."""
    answer = c.submitted.information_answer
    if answer is None or not workflow.patched(PATCH_INFORMATION_ANSWER):
        return None
    return {
        "entry_id": str(answer.entry_id),
        "entry_version": answer.entry_version,
        "topic": answer.topic,
        "answer": answer.answer,
    }


def _lookup(c: Complaint, request_id: UUID) -> RegistryCheckRequested:
    """By NIK, else by family card number, else by name and place; with the complaint's
    category and program (a program-need complaint records its need in the registry).

    The complainant travels by reference (the registry redeems it at intake); a complaint
    submitted in the old form (identity inline) still asks with the identifier inline."""
    common: dict[str, Any] = {
        "request_id": request_id,
        "complaint_id": c.submitted.complaint_id,
        "category": c.category,
        "program_code": c.program,
    }
    person = c.submitted.complainant
    if person is None:
        assert c.submitted.complainant_ref is not None
        lookup = c.submitted.lookup or LookupKind.NAME_AND_PLACE
        return RegistryCheckRequested(
            **common, lookup=lookup, complainant_ref=c.submitted.complainant_ref
        )
    if person.nik:
        return RegistryCheckRequested(**common, lookup=LookupKind.NIK, nik=person.nik)
    if person.kk_number:
        return RegistryCheckRequested(**common, lookup=LookupKind.KK, kk_number=person.kk_number)
    return RegistryCheckRequested(
        **common,
        lookup=LookupKind.NAME_AND_PLACE,
        name=person.name,
        place_code=person.village_code,
    )


async def advance(c: Complaint) -> bool:
    """Take the registry's answer in: at the registry check it leads to back office; a late
    answer (back office went ahead) is attached without changing the step."""
    pending = c.registry.answer is not None and not c.registry.applied
    if c.step is S.REGISTRY_CHECK:
        if pending:
            await _apply_registry_answer(c)
            await _enter_back_office(c, Reason.REGISTRY_CHECKED)
            return True
        return False
    if pending and c.step in OPEN_STEPS:
        await _apply_registry_answer(c)
        journal.move(c, c.step, None, reason=Reason.REGISTRY_ATTACHED)
        return True
    return False


async def _apply_registry_answer(c: Complaint) -> None:
    answer = c.registry.answer
    assert answer is not None
    policy = c.clocks.policy_or_fail()
    c.registry.applied = True
    summary = RegistrySummary(
        found=answer.found,
        household_id=answer.household_id,
        welfare_decile=answer.welfare_decile,
        programs=list(answer.programs),
        warnings=list(answer.warnings),
        may_qualify_for=list(answer.may_qualify_for),
    )
    if not answer.found and c.submitted.names_complainant:
        journal.queue(
            c,
            PrelistEntryRequested(
                request_id=workflow.uuid4(),
                complaint_id=c.submitted.complaint_id,
                ticket_number=c.submitted.ticket_number,
                # By reference; inline only for a complaint submitted in the old form.
                complainant_ref=c.submitted.complainant_ref,
                person=c.submitted.complainant,
            ),
        )
        summary = summary.model_copy(update={"prelist_requested": True})
    c.registry.summary = summary
    if answer.found and (answer.household_id or answer.individual_id):
        c.registry.repeat_of = await workflow.execute_activity(
            ACTIVITY_FIND_REPEATS,
            RepeatQuery(
                complaint_id=c.submitted.complaint_id,
                ticket_number=c.submitted.ticket_number,
                household_id=answer.household_id,
                individual_id=answer.individual_id,
                program_code=c.program,
                category=c.category,
                submitted_at=c.submitted.submitted_at,
                window_days=policy.repeat_window_days,
            ),
            start_to_close_timeout=journal.ACTIVITY_TIMEOUT,
            retry_policy=journal.RETRY,
            result_type=list[str],
        )


async def _enter_back_office(c: Complaint, reason: Reason) -> None:
    await load_options(c)
    if c.step is not S.REGISTRY_CHECK:
        return  # withdrawn meanwhile
    details: dict[str, Any] = {}
    if c.registry.summary is not None:
        details["registry_found"] = c.registry.summary.found
    if c.registry.repeat_of:
        details["repeat_of"] = list(c.registry.repeat_of)
    if c.registry.answer is None and c.step is S.REGISTRY_CHECK:
        reason = Reason.REGISTRY_NO_ANSWER
    journal.move(c, S.BACK_OFFICE, None, reason=reason, details=details)


# --- Updates and signals -----------------------------------------------------------------


def supervisor_review(c: Complaint, action: SupervisorReview, acknowledges: Acknowledges) -> None:
    if action.decision == "approve":
        register(c, action.actor, acknowledges)
        return
    journal.move(
        c,
        S.RETURNED_FOR_CORRECTION,
        action.actor,
        reason=Reason.RETURNED_FOR_CORRECTION,
        details={"note": action.note} if action.note else {},
    )
    journal.notify(
        c,
        NotificationKind.FACILITATOR_TASK,
        c.submitted.submitted_by,
        "correct_complaint",
        {"ticket": c.submitted.ticket_number, "note": action.note},
    )


def resubmit_corrected(c: Complaint, action: CorrectedSubmission) -> None:
    c.description = action.description
    c.category = action.category
    c.program = action.program_code
    c.sub_type = action.sub_type
    journal.move(c, S.SUPERVISOR_REVIEW, action.actor, reason=Reason.CORRECTED)


def registry_result(c: Complaint, answer: RegistryCheckCompleted) -> None:
    """The registry's answer counts only for the current request, once."""
    if answer.request_id != c.registry.request or c.registry.answer is not None:
        return
    c.registry.answer = answer
    journal.changed(c)
