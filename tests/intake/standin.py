"""A small stand-in for the complaint workflow (workflow classes need their own module): the
same update names and input models as slrt.contracts.complaints, refusing unfitting actions
with ApplicationError "WrongStep" (naming the current step) or "NotYourRole" before anything
is written, as the real workflow does. Used to test intake's forwarding on the dev server."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from slrt.auth.principal import Role
    from slrt.contracts import complaints as c

TASK_QUEUE = "intake-standin"

# update name → (step it fits, role that may take it, next step)
RULES: dict[str, tuple[str, Role | None, str]] = {
    c.UPDATE_SUPERVISOR_REVIEW: ("supervisor_review", Role.SUPERVISOR, "registered"),
    c.UPDATE_BACK_OFFICE: ("back_office", Role.BACK_OFFICE, "manager_approval"),
    c.UPDATE_MANAGER_DECISION: ("manager_approval", Role.MANAGER, "referred"),
    c.UPDATE_FEEDBACK: ("feedback", Role.FACILITATOR, "closed"),
    c.UPDATE_HOUSEHOLD_RESPONSE: ("closed", None, "back_office"),
}


@workflow.defn(name="StandInComplaint")
class StandInComplaint:
    @workflow.init
    def __init__(self, step: str) -> None:
        self.step = step
        self.actions: list[dict[str, Any]] = []

    @workflow.run
    async def run(self, step: str) -> str:
        await workflow.wait_condition(lambda: self.step == "withdrawn")
        return self.step

    def _check(self, update: str, actor: c.Actor) -> None:
        fits, role, _ = RULES[update]
        if self.step != fits:
            raise ApplicationError(
                f"the complaint is at step {self.step}",
                {"current_step": self.step},
                type="WrongStep",
            )
        if role is not None and actor.role is not role:
            raise ApplicationError(f"{update} is for {role.value}", type="NotYourRole")

    def _apply(self, update: str, action: c._Action) -> dict[str, Any]:
        before = self.step
        self.step = RULES[update][2]
        self.actions.append({"update": update, "request_id": action.request_id})
        return {"from": before, "step": self.step, "actor": action.actor.user_id}

    @workflow.update(name=c.UPDATE_SUPERVISOR_REVIEW)
    def supervisor_review(self, action: c.SupervisorReview) -> dict[str, Any]:
        return self._apply(c.UPDATE_SUPERVISOR_REVIEW, action)

    @supervisor_review.validator
    def _v_supervisor(self, action: c.SupervisorReview) -> None:
        self._check(c.UPDATE_SUPERVISOR_REVIEW, action.actor)

    @workflow.update(name=c.UPDATE_BACK_OFFICE)
    def back_office(self, action: c.BackOfficeAction) -> dict[str, Any]:
        return self._apply(c.UPDATE_BACK_OFFICE, action)

    @back_office.validator
    def _v_back_office(self, action: c.BackOfficeAction) -> None:
        self._check(c.UPDATE_BACK_OFFICE, action.actor)

    @workflow.update(name=c.UPDATE_MANAGER_DECISION)
    def manager_decision(self, action: c.ManagerDecision) -> dict[str, Any]:
        return self._apply(c.UPDATE_MANAGER_DECISION, action)

    @manager_decision.validator
    def _v_manager(self, action: c.ManagerDecision) -> None:
        self._check(c.UPDATE_MANAGER_DECISION, action.actor)

    @workflow.update(name=c.UPDATE_FEEDBACK)
    def feedback(self, action: c.FacilitatorFeedback) -> dict[str, Any]:
        return self._apply(c.UPDATE_FEEDBACK, action)

    @feedback.validator
    def _v_feedback(self, action: c.FacilitatorFeedback) -> None:
        self._check(c.UPDATE_FEEDBACK, action.actor)

    @workflow.update(name=c.UPDATE_HOUSEHOLD_RESPONSE)
    def household_response(self, action: c.HouseholdResponse) -> dict[str, Any]:
        return self._apply(c.UPDATE_HOUSEHOLD_RESPONSE, action)

    @household_response.validator
    def _v_household(self, action: c.HouseholdResponse) -> None:
        self._check(c.UPDATE_HOUSEHOLD_RESPONSE, action.actor)

    @workflow.update(name=c.UPDATE_WITHDRAW)
    def withdraw(self, action: c.Withdraw) -> dict[str, Any]:
        before = self.step
        self.step = "withdrawn"
        self.actions.append({"update": c.UPDATE_WITHDRAW, "request_id": action.request_id})
        return {"from": before, "step": self.step, "actor": action.actor.user_id}

    @withdraw.validator
    def _v_withdraw(self, action: c.Withdraw) -> None:
        # Facilitators may withdraw only before registration (a rule the policy table can't see).
        if action.actor.role is Role.FACILITATOR and self.step != "supervisor_review":
            raise ApplicationError("facilitators withdraw only before review", type="NotYourRole")

    @workflow.query(name="actions")
    def applied(self) -> list[dict[str, Any]]:
        return self.actions
