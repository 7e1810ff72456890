"""ComplaintWorkflow: one complaint's whole life, from intake to the household hearing the outcome.

Human steps arrive as updates (validated before anything is written, against the contract's
``HUMAN_ACTIONS`` table), results from other services as signals (deduplicated), clocks as
timers. This class only routes: each handler is a few lines over the stage modules (intake and
registry check, back office and approval, referral follow-up, closing and reopening), which
change the one state model (``state.Complaint``) and record through the journal. The workflow
does no I/O; effects queue up in the journal and the main loop drains them one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from slrt.contracts.complaints import (
        HUMAN_ACTIONS,
        QUERY_STATE,
        SIGNAL_DELIVERY_OUTCOME,
        SIGNAL_REFERRAL_ANSWER,
        SIGNAL_REGISTRY_PROPOSAL,
        SIGNAL_REGISTRY_RESULT,
        UPDATE_BACK_OFFICE,
        UPDATE_FEEDBACK,
        UPDATE_HOUSEHOLD_RESPONSE,
        UPDATE_INFORMATION_RECEIVED,
        UPDATE_MANAGER_DECISION,
        UPDATE_PROPOSE_CORRECTION,
        UPDATE_RESUBMIT,
        UPDATE_SUPERVISOR_REVIEW,
        UPDATE_WITHDRAW,
        BackOfficeAction,
        ComplaintSnapshot,
        ComplaintState,
        ComplaintStep,
        CorrectedSubmission,
        DeliveryOutcome,
        FacilitatorFeedback,
        HouseholdResponse,
        InformationReceived,
        ManagerDecision,
        ProposeRegistryCorrection,
        ReferralAnswer,
        RegistryProposalNews,
        SupervisorReview,
        Withdraw,
    )
    from slrt.contracts.events import ComplaintSubmitted, RegistryCheckCompleted
    from slrt.contracts.sla import SlaPolicy
    from slrt.contracts.temporal import COMPLAINT_WORKFLOW
    from workflows.complaint import (
        deadlines,
        journal,
        stage_back_office,
        stage_closing,
        stage_intake,
        stage_referral,
        stage_registry,
    )
    from workflows.complaint.journal import PATCH_HOUSEHOLD_MESSAGES
    from workflows.complaint.stage_intake import PATCH_ACKNOWLEDGE_HOUSEHOLD
    from workflows.complaint.state import Complaint, query_answer, snapshot
    from workflows.model import ACTIVITY_SLA_POLICY, MEMO_SLA_POLICY
    from workflows.rules import check_fits

S = ComplaintStep
A = TypeVar(
    "A",
    SupervisorReview,
    CorrectedSubmission,
    BackOfficeAction,
    InformationReceived,
    ManagerDecision,
    FacilitatorFeedback,
    HouseholdResponse,
    Withdraw,
    ProposeRegistryCorrection,
)


@workflow.defn(name=COMPLAINT_WORKFLOW)
class ComplaintWorkflow:
    """Under Worker Versioning (routing's ``SLRT_ROUTING_BUILD_ID``) a complaint moves to the
    deployment's current version at its next task: AUTO_UPGRADE, not PINNED, because a complaint
    lives for weeks, longer than a release's pods. Every change therefore keeps old histories
    replaying through ``workflow.patched`` (``docs/deploy.md``, "Upgrade"). The behavior is the
    versioned worker's default (``services/routing/worker.py``), not declared here: the server
    refuses a declared behavior from an unversioned worker (the local stack, the tests)."""

    @workflow.init
    def __init__(self, submitted: ComplaintSubmitted) -> None:
        self._c = Complaint.new(submitted)
        self._c.bind_household_patch(self._tells_household)
        self._c.bind_local_reads_patch(self._reads_locally)

    # --- The main loop -------------------------------------------------------------------

    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        c = self._c
        # Since perf-path-policy-at-start routing's consumer passes the complaint's terms in
        # with the start (a memo, in the start event): no activity and no workflow task before
        # the first step. Runs started without it (older histories, other starters) read them
        # through the activity.
        policy = workflow.memo_value(MEMO_SLA_POLICY, None, type_hint=SlaPolicy)
        if policy is not None:
            c.clocks.policy = policy
        else:
            # Versioning: complaints started before it asked for the deployment's policy alone.
            by_district = workflow.patched(journal.PATCH_DISTRICT_POLICY)
            c.clocks.policy = await workflow.execute_activity(
                ACTIVITY_SLA_POLICY,
                args=[submitted.village_code[:4]] if by_district else [],
                start_to_close_timeout=journal.ACTIVITY_TIMEOUT,
                retry_policy=journal.RETRY,
                result_type=SlaPolicy,
            )
        c.clocks.origin = workflow.now()
        if c.step is S.RECEIVED:
            stage_intake.start(c, submitted, self._acknowledges_household)
        while True:
            await journal.drain(c, self._batches_effects, self._batches_late_effects)
            if c.finished:
                break
            if await self._advance():
                continue
            await self._wait_for_change_or_clock()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await journal.drain(c, self._batches_effects, self._batches_late_effects)
        return snapshot(c)

    async def _advance(self) -> bool:
        """Do the automatic work the current step needs; True if something was done."""
        c = self._c
        return (
            await stage_intake.advance(c)
            or await stage_back_office.advance(c)
            or stage_closing.advance(c, stage_registry.holds_run)
        )

    async def _wait_for_change_or_clock(self) -> None:
        c = self._c
        revision = c.journal.revision
        due = deadlines.next_moment(c)
        now = deadlines.sla_now(c)
        if due is not None and due <= now:
            deadlines.fire(c, now)
            return
        try:
            await workflow.wait_condition(
                lambda: c.journal.revision != revision or bool(c.journal.effects),
                timeout=None if due is None else deadlines.real_wait(c, due - now),
            )
        except TimeoutError:
            deadlines.fire(c, deadlines.sla_now(c))

    def _acknowledges_household(self) -> bool:
        # Versioning: complaints registered before this change replay without the message.
        return workflow.patched(PATCH_ACKNOWLEDGE_HOUSEHOLD)

    def _tells_household(self) -> bool:
        # Versioning: complaints started before household messages replay without them.
        return workflow.patched(PATCH_HOUSEHOLD_MESSAGES)

    def _reads_locally(self) -> bool:
        # Versioning: histories recorded before it read through regular activities.
        return workflow.patched(journal.PATCH_LOCAL_READS)

    def _batches_effects(self) -> bool:
        # Versioning: histories recorded before it publish each effect in its own activity.
        return workflow.patched(journal.PATCH_BATCH_EFFECTS)

    def _batches_late_effects(self) -> bool:
        # Versioning: histories recorded before it publish effects queued during a single
        # effect's activity one by one.
        return workflow.patched(journal.PATCH_BATCH_LATE_EFFECTS)

    # --- The replay guard ----------------------------------------------------------------

    def _once(self, action: A, apply: Callable[[Complaint, A], None]) -> ComplaintSnapshot:
        """Apply an update once: a repeated request id gets the first answer, writes nothing."""
        first = journal.replayed(self._c, action.request_id)
        if first is not None:
            return first
        apply(self._c, action)
        return journal.remember(self._c, action.request_id)

    def _fits(self, update: str, action: A) -> bool:
        """Refuse an action that does not fit the step or the role (``HUMAN_ACTIONS``); False
        when it repeats a request already applied (it will get the first answer)."""
        if journal.replayed(self._c, action.request_id) is not None:
            return False
        rule = HUMAN_ACTIONS[update]
        check_fits(self._c.step, action.actor.role, rule.steps, rule.roles)
        return True

    # --- Human steps (updates) -----------------------------------------------------------

    @workflow.update(name=UPDATE_SUPERVISOR_REVIEW)
    def supervisor_review(self, action: SupervisorReview) -> ComplaintSnapshot:
        ack = self._acknowledges_household
        return self._once(action, lambda c, a: stage_intake.supervisor_review(c, a, ack))

    @supervisor_review.validator
    def _validate_supervisor_review(self, action: SupervisorReview) -> None:
        self._fits(UPDATE_SUPERVISOR_REVIEW, action)

    @workflow.update(name=UPDATE_RESUBMIT)
    def resubmit_corrected(self, action: CorrectedSubmission) -> ComplaintSnapshot:
        return self._once(action, stage_intake.resubmit_corrected)

    @resubmit_corrected.validator
    def _validate_resubmit(self, action: CorrectedSubmission) -> None:
        self._fits(UPDATE_RESUBMIT, action)

    @workflow.update(name=UPDATE_BACK_OFFICE)
    def back_office_action(self, action: BackOfficeAction) -> ComplaintSnapshot:
        return self._once(action, stage_back_office.back_office_action)

    @back_office_action.validator
    def _validate_back_office(self, action: BackOfficeAction) -> None:
        if self._fits(UPDATE_BACK_OFFICE, action):
            stage_back_office.check_back_office_action(self._c, action)

    @workflow.update(name=UPDATE_INFORMATION_RECEIVED)
    def information_received(self, action: InformationReceived) -> ComplaintSnapshot:
        return self._once(action, stage_back_office.information_received)

    @information_received.validator
    def _validate_information(self, action: InformationReceived) -> None:
        self._fits(UPDATE_INFORMATION_RECEIVED, action)

    @workflow.update(name=UPDATE_MANAGER_DECISION)
    def manager_decision(self, action: ManagerDecision) -> ComplaintSnapshot:
        return self._once(action, stage_back_office.manager_decision)

    @manager_decision.validator
    def _validate_manager(self, action: ManagerDecision) -> None:
        if self._fits(UPDATE_MANAGER_DECISION, action):
            stage_back_office.check_manager_decision(self._c, action)

    @workflow.update(name=UPDATE_FEEDBACK)
    def facilitator_feedback(self, action: FacilitatorFeedback) -> ComplaintSnapshot:
        return self._once(action, stage_closing.facilitator_feedback)

    @facilitator_feedback.validator
    def _validate_feedback(self, action: FacilitatorFeedback) -> None:
        self._fits(UPDATE_FEEDBACK, action)

    @workflow.update(name=UPDATE_HOUSEHOLD_RESPONSE)
    def household_response(self, action: HouseholdResponse) -> ComplaintSnapshot:
        return self._once(action, stage_closing.household_response)

    @household_response.validator
    def _validate_household(self, action: HouseholdResponse) -> None:
        self._fits(UPDATE_HOUSEHOLD_RESPONSE, action)
        stage_closing.check_household_response(self._c, action)

    @workflow.update(name=UPDATE_WITHDRAW)
    def withdraw(self, action: Withdraw) -> ComplaintSnapshot:
        return self._once(action, stage_closing.withdraw)

    @withdraw.validator
    def _validate_withdraw(self, action: Withdraw) -> None:
        self._fits(UPDATE_WITHDRAW, action)

    @workflow.update(name=UPDATE_PROPOSE_CORRECTION)
    def propose_registry_correction(self, action: ProposeRegistryCorrection) -> ComplaintSnapshot:
        return self._once(action, stage_registry.propose_correction)

    @propose_registry_correction.validator
    def _validate_correction(self, action: ProposeRegistryCorrection) -> None:
        self._fits(UPDATE_PROPOSE_CORRECTION, action)

    # --- Results from other services (signals, idempotent) -------------------------------

    @workflow.signal(name=SIGNAL_REGISTRY_PROPOSAL)
    def registry_proposal(self, news: RegistryProposalNews) -> None:
        stage_registry.news(self._c, news)

    @workflow.signal(name=SIGNAL_REGISTRY_RESULT)
    def registry_result(self, answer: RegistryCheckCompleted) -> None:
        stage_intake.registry_result(self._c, answer)

    @workflow.signal(name=SIGNAL_DELIVERY_OUTCOME)
    def delivery_outcome(self, outcome: DeliveryOutcome) -> None:
        stage_referral.delivery_outcome(self._c, outcome)

    @workflow.signal(name=SIGNAL_REFERRAL_ANSWER)
    def referral_answer(self, answer: ReferralAnswer) -> None:
        stage_referral.referral_answer(self._c, answer)

    # --- Visibility ----------------------------------------------------------------------

    @workflow.query(name=QUERY_STATE)
    def state(self) -> ComplaintState:
        return query_answer(self._c)
