"""The complaint's rules as plain functions: who holds each step, whether an action fits (who
may take which is ``HUMAN_ACTIONS`` in the contract), what an action needs, where a referral
goes, and the refusals intake turns into HTTP answers."""

from __future__ import annotations

from collections.abc import Collection
from typing import NoReturn

from temporalio.exceptions import ApplicationError

from slrt.auth.principal import Role
from slrt.contracts.complaints import BackOfficeAction, ComplaintStep, Outcome, Refusal
from workflows.model import RoutePlan, RoutingOptions

S = ComplaintStep

HOLDER: dict[ComplaintStep, Role | None] = {
    S.RECEIVED: None,
    S.SUPERVISOR_REVIEW: Role.SUPERVISOR,
    S.RETURNED_FOR_CORRECTION: Role.FACILITATOR,
    S.REGISTERED: None,
    S.REGISTRY_CHECK: None,
    S.BACK_OFFICE: Role.BACK_OFFICE,
    S.AWAITING_INFORMATION: Role.FACILITATOR,
    S.AWAITING_REGISTRATION: None,
    S.MANAGER_APPROVAL: Role.MANAGER,
    S.REFERRED: Role.PROGRAM_MANAGER,
    S.UNDER_REVIEW: Role.PROGRAM_MANAGER,
    S.FEEDBACK: Role.FACILITATOR,
    S.CLOSED: None,
    S.WITHDRAWN: None,
}
"""Who must act in each step (None: the complaint waits on a system or is over)."""

REOPENABLE_OUTCOMES = frozenset(
    {
        Outcome.RESOLVED_LOCALLY,
        Outcome.REFERRAL_ACCEPTED,
        Outcome.REFERRAL_REJECTED,
        Outcome.REGISTRY_ACCEPTED,
        Outcome.REGISTRY_REJECTED,
    }
)
"""Outcomes a not-satisfied household may reopen (not duplicates, answers or withdrawals)."""


def check_fits(
    step: ComplaintStep, role: Role, steps: Collection[ComplaintStep], roles: Collection[Role]
) -> None:
    """Refuse an action outside ``steps`` (``WrongStep`` → 409) or by a role outside ``roles``
    (``NotYourRole`` → 403); the details name the current step."""
    if step not in steps:
        raise ApplicationError(
            f"the complaint is in step {step.value}, not "
            + " or ".join(sorted(s.value for s in steps)),
            {"current_step": step.value},
            type=Refusal.WRONG_STEP.value,
            non_retryable=True,
        )
    if role not in roles:
        raise ApplicationError(
            f"role {role.value} may not act in step {step.value}",
            {"current_step": step.value, "role": role.value},
            type=Refusal.NOT_YOUR_ROLE.value,
            non_retryable=True,
        )


def invalid(message: str, fields: list[str]) -> NoReturn:
    """Refuse an action that fits the step but lacks what it needs (→ 422 naming the fields)."""
    raise ApplicationError(
        message, {"fields": fields}, type=Refusal.INVALID_ACTION.value, non_retryable=True
    )


def missing_fields(action: BackOfficeAction) -> list[str]:
    if action.kind == "resolve":
        return [f for f in ("answer", "decision_code") if not getattr(action, f)]
    if action.kind == "mark_duplicate":
        return [] if action.duplicate_of else ["duplicate_of"]
    if action.kind == "request_information":
        return [] if action.question else ["question"]
    return []


def choose_destination(options: RoutingOptions | None, action: BackOfficeAction) -> RoutePlan:
    """The referral's destination: the plan's suggestion, or another active program serving the
    place when back office says why (``override_reason``)."""
    if options is None:
        invalid("the routing plan is still being prepared; try again", ["destination_program"])
    suggested = options.suggested
    wanted = action.destination_program or (suggested.destination if suggested else None)
    if wanted is None:
        invalid("no destination suggested: name destination_program", ["destination_program"])
    plan = options.destinations.get(wanted)
    if plan is None:
        invalid(f"program {wanted} is not in the catalog for this place", ["destination_program"])
    if (suggested is None or wanted != suggested.destination) and not action.override_reason:
        invalid(
            "a destination other than the suggested one needs override_reason",
            ["override_reason"],
        )
    return plan


def referral_reminder_days(plan: RoutePlan, fraction: float) -> int:
    """The program's own reminder mark, else ``fraction`` of its SLA (at least one day)."""
    if plan.reminder_working_days is not None:
        return plan.reminder_working_days
    return max(1, int(plan.sla_working_days * fraction))
