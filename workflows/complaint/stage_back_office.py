"""Back office and approval: the routing plan, back office's action (resolve, refer, mark
duplicate, ask the household), the household's information, the manager's decision, and the
referral sent out on approval."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    Actor,
    BackOfficeAction,
    ComplaintStep,
    InformationReceived,
    ManagerDecision,
    Outcome,
    Refusal,
)
from slrt.contracts.transitions import Reason
from slrt.contracts.vocabulary import NotificationKind
from workflows import clocks
from workflows.complaint import journal, stage_registry
from workflows.complaint.stage_closing import close, task_feedback
from workflows.complaint.state import Complaint, CurrentReferral
from workflows.escalation import staff_destination
from workflows.model import ACTIVITY_ROUTING_OPTIONS, RoutePlan, RouteRequest, RoutingOptions
from workflows.rules import choose_destination, invalid, missing_fields, referral_reminder_days

S = ComplaintStep


async def load_options(c: Complaint) -> None:
    """Ask for the routing plan (the catalog may have changed since last time)."""
    registry = c.registry.summary
    request = RouteRequest(
        complaint_id=c.submitted.complaint_id,
        category=c.category,
        program_code=c.program,
        sub_type=c.sub_type,
        place_code=c.submitted.village_code,
        registry_found=None if registry is None else registry.found,
        registry_programs=[] if registry is None else registry.programs,
    )
    options = await journal.read(c, ACTIVITY_ROUTING_OPTIONS, request, result_type=RoutingOptions)
    instead = c.referral.suggested_instead
    if instead in options.destinations:
        options = options.model_copy(update={"suggested": options.destinations[instead]})
    c.referral.options = options
    c.referral.options_fresh = True
    journal.changed(c)


async def advance(c: Complaint) -> bool:
    """Entering back office: load the routing plan; True if it did."""
    if c.step is S.BACK_OFFICE and not c.referral.options_fresh:
        await load_options(c)
        return True
    return False


# --- Updates -----------------------------------------------------------------------------


def check_back_office_action(c: Complaint, action: BackOfficeAction) -> None:
    """Refuse an action that lacks what it needs, or a destination that does not fit."""
    missing = missing_fields(action)
    if missing:
        invalid(f"{action.kind} needs {', '.join(missing)}", missing)
    if action.kind == "refer":
        choose_destination(c.referral.options, action)
    if action.kind == "await_registration":
        stage_registry.check_await(c)


def back_office_action(c: Complaint, action: BackOfficeAction) -> None:
    c.clocks.running.pop("acknowledge", None)  # the household has had its first answer
    if action.kind == "resolve":
        c.outcome.pending = Outcome.RESOLVED_LOCALLY
        journal.move(
            c,
            S.FEEDBACK,
            action.actor,
            reason=Reason.RESOLVED_LOCALLY,
            decision_code=action.decision_code,
            details={"answer": action.answer},
        )
        task_feedback(c, {"answer": action.answer, "decision_code": action.decision_code})
    elif action.kind == "refer":
        plan = choose_destination(c.referral.options, action)
        c.referral.pending_destination = plan
        c.referral.proposed_by = action.actor.user_id
        details: dict[str, Any] = {"destination": plan.destination, "channel": plan.channel}
        if action.override_reason:
            details["override_reason"] = action.override_reason
        journal.move(
            c,
            S.MANAGER_APPROVAL,
            action.actor,
            reason=Reason.REFERRAL_PROPOSED,
            decision_code=action.decision_code,
            details=details,
        )
    elif action.kind == "mark_duplicate":
        close(
            c,
            Outcome.DUPLICATE,
            action.actor,
            reason=Reason.DUPLICATE,
            details={"duplicate_of": action.duplicate_of},
        )
    elif action.kind == "await_registration":
        stage_registry.await_registration(c, action)
    else:
        _ask_household(c, action)


def _ask_household(c: Complaint, action: BackOfficeAction) -> None:
    journal.move(
        c,
        S.AWAITING_INFORMATION,
        action.actor,
        reason=Reason.INFORMATION_REQUESTED,
        details={"question": action.question},
    )
    journal.notify(
        c,
        NotificationKind.FACILITATOR_TASK,
        staff_destination("facilitator", c.submitted.village_code),
        "ask_household",
        {"ticket": c.submitted.ticket_number, "question": action.question},
    )


def information_received(c: Complaint, action: InformationReceived) -> None:
    journal.move(
        c,
        S.BACK_OFFICE,
        action.actor,
        reason=Reason.INFORMATION_RECEIVED,
        details={"information": action.information},
    )


SEPARATION_OF_DUTIES = "separation_of_duties"
"""The rule's name, as refusals and history details spell it."""


def check_manager_decision(c: Complaint, action: ManagerDecision) -> None:
    """Refuse the approval of a referral by the person who proposed it, unless the policy the
    complaint started with turned separation of duties off."""
    if action.decision != "approve" or c.referral.proposed_by != action.actor.user_id:
        return
    if not c.clocks.policy_or_fail().separation_of_duties:
        return
    raise ApplicationError(
        "the person who proposed this referral may not approve it (separation of duties); "
        "another manager must decide",
        {"rule": SEPARATION_OF_DUTIES, "current_step": c.step.value},
        type=Refusal.SEPARATION_OF_DUTIES.value,
        non_retryable=True,
    )


def manager_decision(c: Complaint, action: ManagerDecision) -> None:
    if action.decision == "send_back":
        journal.move(
            c,
            S.BACK_OFFICE,
            action.actor,
            reason=Reason.SENT_BACK,
            details={"note": action.note} if action.note else {},
        )
        return
    plan = c.referral.pending_destination
    assert plan is not None
    approval: dict[str, Any] = {}
    if journal.records_referral():
        approval["note"] = action.note
        if c.referral.proposed_by == action.actor.user_id:
            approval["proposed_by_approver"] = True
        if not c.clocks.policy_or_fail().separation_of_duties:
            approval[SEPARATION_OF_DUTIES] = False
    send_referral(c, plan, action.actor, approval)


def send_referral(
    c: Complaint, plan: RoutePlan, actor: Actor, approval: dict[str, Any] | None = None
) -> None:
    """Refer (manager approved): start the referral clock, tell the program. ``approval`` adds
    the manager's note and how separation of duties stood to the history entry; the note also
    goes to the program (``approval_note``)."""
    approval = approval or {}
    p = c.clocks.policy_or_fail()
    referral_id = workflow.uuid4()
    referral = CurrentReferral(referral_id=referral_id, notification_id=workflow.uuid4(), plan=plan)
    c.referral.current = referral
    c.referral.pending_destination = None
    reminder = referral_reminder_days(plan, p.referral_reminder_fraction)
    c.clocks.running["referral"] = clocks.new(
        c.clocks.calendar,
        "referral",
        Role.PROGRAM_MANAGER,
        c.clocks.today(workflow.now()),
        plan.sla_working_days,
        reminder,
        expiry_extra=p.referral_expiry_extra_days,
    )
    journal.move(
        c,
        S.REFERRED,
        actor,
        reason=Reason.REFERRAL_APPROVED,
        details={
            "destination": plan.destination,
            "channel": plan.channel.value,
            "referral_id": str(referral.referral_id),
            **approval,
        },
    )
    registry = c.registry.summary
    journal.notify(
        c,
        NotificationKind.REFERRAL,
        plan.destination,
        "referral",
        {
            "ticket": c.submitted.ticket_number,
            "referral_id": str(referral.referral_id),
            "category": c.category.value,
            "program": c.program,
            "sub_type": c.sub_type,
            "description": c.description,
            "place_code": c.submitted.village_code,
            "channel": plan.channel.value,
            "due_on": c.clocks.running["referral"].due_on.isoformat(),
            "approval_note": approval.get("note"),
            "registry": None
            if registry is None
            else {
                "found": registry.found,
                "welfare_decile": registry.welfare_decile,
                "programs": registry.programs,
                "prelist_requested": registry.prelist_requested,
            },
        },
        request_id=referral.notification_id,
    )
