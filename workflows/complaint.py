"""ComplaintWorkflow: one complaint's whole life, from intake to the household hearing the outcome.

Human steps arrive as updates (validated before anything is written), results from other
services as signals (deduplicated), clocks as timers. Every change is recorded in the history
and emitted — in order, through activities — as a lifecycle event. The workflow itself does no
I/O; effects queue up in ``_effects`` and the main loop drains them one by one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from slrt.auth.principal import Role
    from slrt.contracts.complaints import (
        OPEN_STEPS,
        QUERY_STATE,
        SIGNAL_DELIVERY_OUTCOME,
        SIGNAL_REFERRAL_ANSWER,
        SIGNAL_REGISTRY_RESULT,
        UPDATE_BACK_OFFICE,
        UPDATE_FEEDBACK,
        UPDATE_HOUSEHOLD_RESPONSE,
        UPDATE_INFORMATION_RECEIVED,
        UPDATE_MANAGER_DECISION,
        UPDATE_RESUBMIT,
        UPDATE_SUPERVISOR_REVIEW,
        UPDATE_WITHDRAW,
        Actor,
        BackOfficeAction,
        ComplaintSnapshot,
        ComplaintState,
        ComplaintStep,
        CorrectedSubmission,
        DeliveryOutcome,
        FacilitatorFeedback,
        HistoryEntry,
        HouseholdResponse,
        InformationReceived,
        ManagerDecision,
        Outcome,
        ReferralAnswer,
        RegistrySummary,
        SupervisorReview,
        Withdraw,
    )
    from slrt.contracts.envelope import EventData
    from slrt.contracts.events import (
        ComplaintSubmitted,
        ComplaintTransitioned,
        NotificationRequested,
        PrelistEntryRequested,
        RegistryCheckCompleted,
        RegistryCheckRequested,
    )
    from slrt.contracts.sla import SlaPolicy
    from slrt.contracts.vocabulary import (
        Category,
        Channel,
        LookupKind,
        NotificationKind,
        ReferralDecision,
    )
    from workflows import clocks
    from workflows.escalation import escalation_target, is_top, staff_destination
    from workflows.model import (
        ACTIVITY_EMIT_TRANSITION,
        ACTIVITY_FIND_REPEATS,
        ACTIVITY_REQUEST_NOTIFICATION,
        ACTIVITY_REQUEST_PRELIST_ENTRY,
        ACTIVITY_REQUEST_REGISTRY_CHECK,
        ACTIVITY_ROUTING_OPTIONS,
        ACTIVITY_SLA_POLICY,
        Clock,
        RepeatQuery,
        RoutePlan,
        RouteRequest,
        RoutingOptions,
        SentNotification,
    )
    from workflows.rules import (
        HOLDER,
        REOPENABLE_OUTCOMES,
        STAFF_WHO_MAY_WITHDRAW,
        check_fits,
        choose_destination,
        invalid,
        missing_fields,
        referral_reminder_days,
    )
    from workflows.working_days import WorkingCalendar, local_date

S = ComplaintStep

PATCH_ACKNOWLEDGE_HOUSEHOLD = "acknowledge-household-at-registration"
"""Since this patch the household is sent its ticket when the complaint is registered."""

PATCH_INDEX_STEP = "index-step-and-overdue"
"""Since this patch the workflow keeps its ``SlrtStep`` and ``SlrtOverdue`` search attributes
current (before it, only what was known at start was indexed)."""
TICKET_KEY = SearchAttributeKey.for_keyword("SlrtTicket")
STEP_KEY = SearchAttributeKey.for_keyword("SlrtStep")
OVERDUE_KEY = SearchAttributeKey.for_bool("SlrtOverdue")

_ACTIVITY_TIMEOUT = timedelta(seconds=30)
_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SYSTEM = "system"


class _Referral:
    def __init__(self, referral_id: UUID, notification_id: UUID, plan: RoutePlan) -> None:
        self.referral_id = referral_id
        self.notification_id = notification_id
        self.plan = plan
        self.delivered: bool | None = None


@workflow.defn(name="ComplaintWorkflow")
class ComplaintWorkflow:
    @workflow.init
    def __init__(self, submitted: ComplaintSubmitted) -> None:
        self._submitted = submitted
        self._category = submitted.category
        self._program = submitted.program_code
        self._sub_type = submitted.sub_type
        self._description = submitted.description
        self._step: ComplaintStep = S.RECEIVED
        self._history: list[HistoryEntry] = []
        self._effects: list[EventData] = []
        self._sent: list[SentNotification] = []
        self._revision = 0
        self._policy: SlaPolicy | None = None
        self._clock_origin: datetime | None = None
        self._calendar = WorkingCalendar(())
        self._clocks: dict[str, Clock] = {}
        self._escalation_count = 0
        self._registry: RegistrySummary | None = None
        self._registry_request: UUID | None = None
        self._registry_answer: RegistryCheckCompleted | None = None
        self._registry_wait_until: date | None = None
        self._registry_applied = False
        self._repeat_of: list[str] = []
        self._options: RoutingOptions | None = None
        self._options_fresh = False
        self._suggested_instead: str | None = None
        self._pending_destination: RoutePlan | None = None
        self._referral: _Referral | None = None
        self._answers_seen: set[str] = set()
        self._outcome: Outcome | None = None
        self._pending_outcome: Outcome | None = None
        self._reopened = False
        self._closed_on: datetime | None = None
        self._household_satisfied: bool | None = None
        self._done_requests: dict[str, ComplaintSnapshot] = {}
        self._finished = False
        self._indexed: tuple[ComplaintStep, bool] | None = None

    # --- The main loop -------------------------------------------------------------------

    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        self._policy = await workflow.execute_activity(
            ACTIVITY_SLA_POLICY,
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=_RETRY,
            result_type=SlaPolicy,
        )
        self._calendar = WorkingCalendar(self._policy.days_off)
        self._clock_origin = workflow.now()
        if self._step is S.RECEIVED:
            self._start(submitted)
        while True:
            await self._drain()
            if self._finished:
                break
            if await self._advance():
                continue
            await self._wait_for_change_or_clock()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._drain()
        return self._snapshot()

    def _start(self, submitted: ComplaintSubmitted) -> None:
        assert self._policy is not None
        today = self._today()
        p = self._policy
        self._clocks["acknowledge"] = clocks.new(
            self._calendar,
            "acknowledge",
            None,
            today,
            p.acknowledge_days,
            p.acknowledge_reminder_days,
        )
        self._clocks["resolve"] = clocks.new(
            self._calendar, "resolve", None, today, p.resolve_days, p.resolve_reminder_days
        )
        by_facilitator = submitted.channel is Channel.FACILITATOR_VISIT
        submitter = Actor(
            user_id=submitted.submitted_by,
            role=Role.FACILITATOR if by_facilitator else Role.FRONT_OFFICE,
        )
        self._move(S.RECEIVED, submitter, reason="submitted")
        if by_facilitator:
            self._move(S.SUPERVISOR_REVIEW, None, reason="facilitator_capture")
        else:
            self._register(None)

    async def _advance(self) -> bool:
        """Do the automatic work the current step needs; True if something was done."""
        if self._step is S.REGISTRY_CHECK:
            if self._registry_answer is not None and not self._registry_applied:
                await self._apply_registry_answer()
                await self._enter_back_office("registry_checked")
                return True
            return False
        late = self._registry_answer is not None and not self._registry_applied
        if late and self._step in OPEN_STEPS:
            # A late answer after back office went ahead: attach it, change no step.
            await self._apply_registry_answer()
            self._move(self._step, None, reason="registry_attached")
            return True
        if self._step is S.BACK_OFFICE and not self._options_fresh:
            await self._load_options()
            return True
        if self._step is S.WITHDRAWN:
            self._finished = True
            return True
        if self._step is S.CLOSED and not self._may_reopen():
            self._finished = True
            return True
        return False

    async def _wait_for_change_or_clock(self) -> None:
        revision = self._revision
        due = self._next_moment()
        now = self._sla_now()
        if due is not None and due <= now:
            self._fire(now)
            return
        try:
            await workflow.wait_condition(
                lambda: self._revision != revision or bool(self._effects),
                timeout=None if due is None else self._real_wait(due - now),
            )
        except TimeoutError:
            self._fire(self._sla_now())

    async def _drain(self) -> None:
        """Publish queued effects in order (the lifecycle stays in sequence order)."""
        while self._effects:
            effect = self._effects[0]
            name = _ACTIVITY_FOR[type(effect)]
            await workflow.execute_activity(
                name, effect, start_to_close_timeout=_ACTIVITY_TIMEOUT, retry_policy=_RETRY
            )
            self._effects.pop(0)

    # --- Automatic steps -----------------------------------------------------------------

    def _register(self, actor: Actor | None) -> None:
        self._move(S.REGISTERED, actor, reason="ticket_attached")
        if self._acknowledges_household():
            self._notify(
                NotificationKind.HOUSEHOLD_MESSAGE,
                f"household:{self._submitted.ticket_number}",
                "complaint_registered",
                {"ticket": self._submitted.ticket_number, "category": self._category.value},
            )
        if self._category is Category.INFORMATION:
            self._close(Outcome.ANSWERED, None, reason="answered_at_registration")
            return
        person = self._submitted.complainant
        if person is None:
            self._move(S.REGISTRY_CHECK, None, reason="anonymous_no_lookup")
            self._registry_applied = True
            self._options_fresh = False
            self._move(S.BACK_OFFICE, None, reason="anonymous")
            return
        request_id = workflow.uuid4()
        self._registry_request = request_id
        if person.nik:
            lookup = RegistryCheckRequested(
                request_id=request_id,
                complaint_id=self._submitted.complaint_id,
                lookup=LookupKind.NIK,
                nik=person.nik,
            )
        elif person.kk_number:
            lookup = RegistryCheckRequested(
                request_id=request_id,
                complaint_id=self._submitted.complaint_id,
                lookup=LookupKind.KK,
                kk_number=person.kk_number,
            )
        else:
            lookup = RegistryCheckRequested(
                request_id=request_id,
                complaint_id=self._submitted.complaint_id,
                lookup=LookupKind.NAME_AND_PLACE,
                name=person.name,
                place_code=person.village_code,
            )
        self._effects.append(lookup)
        assert self._policy is not None
        self._registry_wait_until = self._calendar.add(
            self._today(), self._policy.registry_wait_days
        )
        self._move(S.REGISTRY_CHECK, None, reason="registry_check_requested")

    def _acknowledges_household(self) -> bool:
        # Versioning: complaints registered before this change replay without the message.
        return workflow.patched(PATCH_ACKNOWLEDGE_HOUSEHOLD)

    async def _apply_registry_answer(self) -> None:
        answer = self._registry_answer
        assert answer is not None
        assert self._policy is not None
        self._registry_applied = True
        summary = RegistrySummary(
            found=answer.found,
            household_id=answer.household_id,
            welfare_decile=answer.welfare_decile,
            programs=list(answer.programs),
            warnings=list(answer.warnings),
        )
        person = self._submitted.complainant
        if not answer.found and person is not None:
            self._effects.append(
                PrelistEntryRequested(
                    request_id=workflow.uuid4(),
                    complaint_id=self._submitted.complaint_id,
                    ticket_number=self._submitted.ticket_number,
                    person=person,
                )
            )
            summary = summary.model_copy(update={"prelist_requested": True})
        self._registry = summary
        if answer.found and (answer.household_id or answer.individual_id):
            self._repeat_of = await workflow.execute_activity(
                ACTIVITY_FIND_REPEATS,
                RepeatQuery(
                    complaint_id=self._submitted.complaint_id,
                    ticket_number=self._submitted.ticket_number,
                    household_id=answer.household_id,
                    individual_id=answer.individual_id,
                    program_code=self._program,
                    category=self._category,
                    submitted_at=self._submitted.submitted_at,
                    window_days=self._policy.repeat_window_days,
                ),
                start_to_close_timeout=_ACTIVITY_TIMEOUT,
                retry_policy=_RETRY,
                result_type=list[str],
            )

    async def _enter_back_office(self, reason: str) -> None:
        await self._load_options()
        if self._step is not S.REGISTRY_CHECK:
            return  # withdrawn meanwhile
        details: dict[str, Any] = {}
        if self._registry is not None:
            details["registry_found"] = self._registry.found
        if self._repeat_of:
            details["repeat_of"] = list(self._repeat_of)
        if self._registry_answer is None and self._step is S.REGISTRY_CHECK:
            reason = "registry_no_answer"
        self._move(S.BACK_OFFICE, None, reason=reason, details=details)

    async def _load_options(self) -> None:
        request = RouteRequest(
            complaint_id=self._submitted.complaint_id,
            category=self._category,
            program_code=self._program,
            sub_type=self._sub_type,
            place_code=self._submitted.village_code,
            registry_found=None if self._registry is None else self._registry.found,
            registry_programs=[] if self._registry is None else self._registry.programs,
        )
        options = await workflow.execute_activity(
            ACTIVITY_ROUTING_OPTIONS,
            request,
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=_RETRY,
            result_type=RoutingOptions,
        )
        if self._suggested_instead in options.destinations:
            options = options.model_copy(
                update={"suggested": options.destinations[self._suggested_instead]}
            )
        self._options = options
        self._options_fresh = True
        self._revision += 1

    # --- Human steps (updates) -----------------------------------------------------------

    def _check(
        self, request_id: str, actor: Actor, steps: set[ComplaintStep], roles: set[Role]
    ) -> bool:
        """Refuse an action that does not fit; False when it is a replay of a done request."""
        if request_id in self._done_requests:
            return False
        check_fits(self._step, actor.role, steps, roles)
        return True

    def _done(self, request_id: str) -> ComplaintSnapshot:
        snapshot = self._snapshot()
        self._done_requests[request_id] = snapshot
        return snapshot

    @workflow.update(name=UPDATE_SUPERVISOR_REVIEW)
    def supervisor_review(self, action: SupervisorReview) -> ComplaintSnapshot:
        if action.request_id in self._done_requests:
            return self._done_requests[action.request_id]
        if action.decision == "approve":
            self._register(action.actor)
        else:
            self._move(
                S.RETURNED_FOR_CORRECTION,
                action.actor,
                reason="returned_for_correction",
                details={"note": action.note} if action.note else {},
            )
            self._notify(
                NotificationKind.FACILITATOR_TASK,
                self._submitted.submitted_by,
                "correct_complaint",
                {"ticket": self._submitted.ticket_number, "note": action.note},
            )
        return self._done(action.request_id)

    @supervisor_review.validator
    def _validate_supervisor_review(self, action: SupervisorReview) -> None:
        self._check(action.request_id, action.actor, {S.SUPERVISOR_REVIEW}, {Role.SUPERVISOR})

    @workflow.update(name=UPDATE_RESUBMIT)
    def resubmit_corrected(self, action: CorrectedSubmission) -> ComplaintSnapshot:
        if action.request_id in self._done_requests:
            return self._done_requests[action.request_id]
        self._description = action.description
        self._category = action.category
        self._program = action.program_code
        self._sub_type = action.sub_type
        self._move(S.SUPERVISOR_REVIEW, action.actor, reason="corrected")
        return self._done(action.request_id)

    @resubmit_corrected.validator
    def _validate_resubmit(self, action: CorrectedSubmission) -> None:
        self._check(
            action.request_id, action.actor, {S.RETURNED_FOR_CORRECTION}, {Role.FACILITATOR}
        )

    @workflow.update(name=UPDATE_BACK_OFFICE)
    def back_office_action(self, action: BackOfficeAction) -> ComplaintSnapshot:
        if action.request_id in self._done_requests:
            return self._done_requests[action.request_id]
        self._clocks.pop("acknowledge", None)  # the household has had its first answer
        if action.kind == "resolve":
            self._pending_outcome = Outcome.RESOLVED_LOCALLY
            self._move(
                S.FEEDBACK,
                action.actor,
                reason="resolved_locally",
                decision_code=action.decision_code,
                details={"answer": action.answer},
            )
            self._task_feedback({"answer": action.answer, "decision_code": action.decision_code})
        elif action.kind == "refer":
            plan = choose_destination(self._options, action)
            self._pending_destination = plan
            details: dict[str, Any] = {"destination": plan.destination, "channel": plan.channel}
            if action.override_reason:
                details["override_reason"] = action.override_reason
            self._move(
                S.MANAGER_APPROVAL,
                action.actor,
                reason="referral_proposed",
                decision_code=action.decision_code,
                details=details,
            )
        elif action.kind == "mark_duplicate":
            self._close(
                Outcome.DUPLICATE,
                action.actor,
                reason="duplicate",
                details={"duplicate_of": action.duplicate_of},
            )
        else:
            self._move(
                S.AWAITING_INFORMATION,
                action.actor,
                reason="information_requested",
                details={"question": action.question},
            )
            self._notify(
                NotificationKind.FACILITATOR_TASK,
                staff_destination("facilitator", self._submitted.village_code),
                "ask_household",
                {"ticket": self._submitted.ticket_number, "question": action.question},
            )
        return self._done(action.request_id)

    @back_office_action.validator
    def _validate_back_office(self, action: BackOfficeAction) -> None:
        if not self._check(action.request_id, action.actor, {S.BACK_OFFICE}, {Role.BACK_OFFICE}):
            return
        missing = missing_fields(action)
        if missing:
            invalid(f"{action.kind} needs {', '.join(missing)}", missing)
        if action.kind == "refer":
            choose_destination(self._options, action)

    @workflow.update(name=UPDATE_INFORMATION_RECEIVED)
    def information_received(self, action: InformationReceived) -> ComplaintSnapshot:
        if action.request_id in self._done_requests:
            return self._done_requests[action.request_id]
        self._move(
            S.BACK_OFFICE,
            action.actor,
            reason="information_received",
            details={"information": action.information},
        )
        return self._done(action.request_id)

    @information_received.validator
    def _validate_information(self, action: InformationReceived) -> None:
        self._check(
            action.request_id,
            action.actor,
            {S.AWAITING_INFORMATION},
            {Role.FACILITATOR, Role.FRONT_OFFICE, Role.BACK_OFFICE},
        )

    @workflow.update(name=UPDATE_MANAGER_DECISION)
    def manager_decision(self, action: ManagerDecision) -> ComplaintSnapshot:
        if action.request_id in self._done_requests:
            return self._done_requests[action.request_id]
        if action.decision == "send_back":
            self._move(
                S.BACK_OFFICE,
                action.actor,
                reason="sent_back",
                details={"note": action.note} if action.note else {},
            )
            return self._done(action.request_id)
        plan = self._pending_destination
        assert plan is not None
        self._send_referral(plan, action.actor)
        return self._done(action.request_id)

    @manager_decision.validator
    def _validate_manager(self, action: ManagerDecision) -> None:
        self._check(action.request_id, action.actor, {S.MANAGER_APPROVAL}, {Role.MANAGER})

    @workflow.update(name=UPDATE_FEEDBACK)
    def facilitator_feedback(self, action: FacilitatorFeedback) -> ComplaintSnapshot:
        if action.request_id in self._done_requests:
            return self._done_requests[action.request_id]
        details: dict[str, Any] = {"visited_on": action.visited_on.isoformat()}
        if action.household_response:
            details["household_response"] = action.household_response
        if not action.household_told:
            self._move(S.FEEDBACK, action.actor, reason="household_not_reached", details=details)
            return self._done(action.request_id)
        outcome = self._pending_outcome
        assert outcome is not None
        if action.household_response == "not_satisfied" and self._may_reopen(outcome):
            self._reopen(action.actor, details)
        else:
            if action.household_response == "satisfied":
                self._household_satisfied = True
            self._close(outcome, action.actor, reason="household_told", details=details)
        return self._done(action.request_id)

    @facilitator_feedback.validator
    def _validate_feedback(self, action: FacilitatorFeedback) -> None:
        self._check(action.request_id, action.actor, {S.FEEDBACK}, {Role.FACILITATOR})

    @workflow.update(name=UPDATE_HOUSEHOLD_RESPONSE)
    def household_response(self, action: HouseholdResponse) -> ComplaintSnapshot:
        if action.request_id in self._done_requests:
            return self._done_requests[action.request_id]
        details: dict[str, Any] = {"household_response": action.response, "appeal": action.appeal}
        outcome = self._outcome if self._step is S.CLOSED else self._pending_outcome
        if action.response == "not_satisfied" and outcome and self._may_reopen(outcome):
            self._reopen(action.actor, details)
        else:
            self._household_satisfied = action.response == "satisfied"
            self._move(self._step, action.actor, reason="household_response", details=details)
        return self._done(action.request_id)

    @household_response.validator
    def _validate_household(self, action: HouseholdResponse) -> None:
        # The household speaks through intake's tracking page: any relaying role may carry it.
        self._check(action.request_id, action.actor, {S.FEEDBACK, S.CLOSED}, set(Role))
        if self._step is S.CLOSED and not self._may_reopen():
            check_fits(self._step, action.actor.role, {S.FEEDBACK}, set(Role))

    @workflow.update(name=UPDATE_WITHDRAW)
    def withdraw(self, action: Withdraw) -> ComplaintSnapshot:
        if action.request_id in self._done_requests:
            return self._done_requests[action.request_id]
        self._clocks.clear()
        self._outcome = Outcome.WITHDRAWN
        self._move(S.WITHDRAWN, action.actor, reason=action.reason, decision_code="withdrawn")
        return self._done(action.request_id)

    @withdraw.validator
    def _validate_withdraw(self, action: Withdraw) -> None:
        open_steps = set(OPEN_STEPS)
        self._check(action.request_id, action.actor, open_steps, set(STAFF_WHO_MAY_WITHDRAW))

    # --- Results from other services (signals, idempotent) -------------------------------

    @workflow.signal(name=SIGNAL_REGISTRY_RESULT)
    def registry_result(self, answer: RegistryCheckCompleted) -> None:
        if answer.request_id != self._registry_request or self._registry_answer is not None:
            return
        self._registry_answer = answer
        self._revision += 1

    @workflow.signal(name=SIGNAL_DELIVERY_OUTCOME)
    def delivery_outcome(self, outcome: DeliveryOutcome) -> None:
        referral = self._referral
        if referral is None or outcome.request_id != referral.notification_id:
            return
        if referral.delivered is not None:
            return  # a duplicate or a late second outcome changes nothing
        referral.delivered = outcome.delivered
        details = {"channel": outcome.channel, "detail": outcome.detail}
        if outcome.delivered:
            self._move(self._step, None, reason="referral_delivered", details=details)
            return
        self._escalate_now(Role.PROGRAM_MANAGER, "referral_delivery_failed")
        self._referral = None
        self._move(S.BACK_OFFICE, None, reason="delivery_failed", details=details)

    @workflow.signal(name=SIGNAL_REFERRAL_ANSWER)
    def referral_answer(self, answer: ReferralAnswer) -> None:
        referral = self._referral
        if answer.answer_id in self._answers_seen:
            return
        if referral is None or answer.referral_id != referral.referral_id:
            return
        if self._step not in (S.REFERRED, S.UNDER_REVIEW):
            return
        self._answers_seen.add(answer.answer_id)
        actor = Actor(user_id=f"program:{referral.plan.destination}", role=Role.PROGRAM_MANAGER)
        details: dict[str, Any] = {"destination": referral.plan.destination}
        if answer.note:
            details["note"] = answer.note
        code = answer.decision.value
        if answer.decision is ReferralDecision.UNDER_REVIEW:
            if answer.expected_date:
                details["expected_date"] = answer.expected_date.isoformat()
                self._clocks["referral"] = clocks.moved_to(
                    self._calendar,
                    self._clocks["referral"],
                    answer.expected_date,
                    self._policy_or_fail().referral_expiry_extra_days,
                )
            self._move(
                S.UNDER_REVIEW, actor, reason="under_review", decision_code=code, details=details
            )
        elif answer.decision is ReferralDecision.NOT_RESPONSIBLE:
            self._referral = None
            if answer.suggested_destination:
                details["suggested_destination"] = answer.suggested_destination
                self._suggested_instead = answer.suggested_destination
                known = self._options.destinations if self._options else {}
                if answer.suggested_destination in known and self._options is not None:
                    self._options = self._options.model_copy(
                        update={"suggested": known[answer.suggested_destination]}
                    )
            self._options_fresh = False
            self._move(
                S.BACK_OFFICE, actor, reason="not_responsible", decision_code=code, details=details
            )
        else:
            accepted = answer.decision is ReferralDecision.ACCEPTED
            self._pending_outcome = (
                Outcome.REFERRAL_ACCEPTED if accepted else Outcome.REFERRAL_REJECTED
            )
            self._referral = None
            self._move(
                S.FEEDBACK, actor, reason=f"referral_{code}", decision_code=code, details=details
            )
            self._task_feedback({"decision": code, "note": answer.note})

    # --- Visibility ----------------------------------------------------------------------

    @workflow.query(name=QUERY_STATE)
    def state(self) -> ComplaintState:
        return ComplaintState(
            snapshot=self._snapshot(),
            history=list(self._history),
            clocks={k: c.model_dump(mode="json") for k, c in self._clocks.items()},
            notifications=[n.model_dump(mode="json") for n in self._sent],
        )

    def _snapshot(self) -> ComplaintSnapshot:
        step_clock = self._clocks.get("referral") or self._clocks.get("step")
        ack, resolve = self._clocks.get("acknowledge"), self._clocks.get("resolve")
        referral = self._referral.plan.destination if self._referral else None
        return ComplaintSnapshot(
            complaint_id=self._submitted.complaint_id,
            ticket_number=self._submitted.ticket_number,
            step=self._step,
            holder_role=HOLDER[self._step],
            place_code=self._submitted.village_code,
            category=self._category,
            channel=self._submitted.channel,
            program_code=self._program,
            referral_destination=referral
            or (self._pending_destination.destination if self._pending_destination else None),
            acknowledge_due=ack.due_on if ack else None,
            resolve_due=resolve.due_on if resolve else None,
            step_due=step_clock.due_on if step_clock else None,
            repeat_of=list(self._repeat_of),
            escalation_count=self._escalation_count,
            escalated=self._escalation_count > 0,
            overdue=any(c.breached for c in self._clocks.values()),
            registry=self._registry,
            outcome=self._outcome,
            reopened=self._reopened,
        )

    # --- Transitions and effects ---------------------------------------------------------

    def _move(
        self,
        to: ComplaintStep,
        actor: Actor | None,
        *,
        reason: str | None = None,
        decision_code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Record a transition (or, with ``to`` the current step, an event within the step)."""
        from_step = self._step if self._history else None
        if to is not self._step or not self._history:
            self._step = to
            self._restart_step_clocks(from_step, to)
        entry = HistoryEntry(
            sequence=len(self._history) + 1,
            from_step=from_step,
            to_step=to,
            actor=actor.user_id if actor else SYSTEM,
            actor_role=actor.role.value if actor else SYSTEM,
            at=workflow.now(),
            reason=reason,
            decision_code=decision_code,
            details={k: v for k, v in (details or {}).items() if v is not None},
        )
        self._history.append(entry)
        self._effects.append(
            ComplaintTransitioned(
                complaint_id=self._submitted.complaint_id,
                sequence=entry.sequence,
                from_step=from_step.value if from_step else None,
                to_step=to.value,
                actor=entry.actor,
                actor_role=entry.actor_role,
                at=entry.at,
                reason=reason,
                decision_code=decision_code,
                details=entry.details,
                snapshot=self._snapshot(),
            )
        )
        self._revision += 1
        self._index()

    def _index(self) -> None:
        """Keep the step and the overdue flag searchable (Temporal UI, ``temporal workflow
        list --query "SlrtStep='referred' AND SlrtOverdue=true"``) on complaints started with
        search attributes (routing's ``search_attributes`` setting)."""
        if workflow.info().typed_search_attributes.get(TICKET_KEY) is None:
            return
        now = (self._step, any(c.breached for c in self._clocks.values()))
        if now == self._indexed or not workflow.patched(PATCH_INDEX_STEP):
            return
        self._indexed = now
        workflow.upsert_search_attributes(
            [STEP_KEY.value_set(now[0].value), OVERDUE_KEY.value_set(now[1])]
        )

    def _restart_step_clocks(self, from_step: ComplaintStep | None, to: ComplaintStep) -> None:
        if self._policy is None:
            return
        p, today = self._policy, self._today()
        if to is not S.UNDER_REVIEW:
            self._clocks.pop("step", None)
        if to not in (S.REFERRED, S.UNDER_REVIEW):
            self._clocks.pop("referral", None)
        resolve = self._clocks.get("resolve")
        if resolve is not None:
            if to is S.AWAITING_INFORMATION:
                self._clocks["resolve"] = clocks.paused(resolve, today)
            elif from_step is S.AWAITING_INFORMATION:
                self._clocks["resolve"] = clocks.resumed(self._calendar, resolve, today)
        if to in (S.FEEDBACK, S.CLOSED, S.WITHDRAWN):
            self._clocks.pop("resolve", None)
            self._clocks.pop("acknowledge", None)
        holder = HOLDER[to]
        if holder is not None and to not in (S.REFERRED, S.UNDER_REVIEW):
            self._clocks["step"] = clocks.new(
                self._calendar, "step", holder, today, p.step_days, p.step_reminder_days
            )
        if "acknowledge" in self._clocks:
            self._clocks["acknowledge"] = self._clocks["acknowledge"].model_copy(
                update={"holder": holder}
            )
        if "resolve" in self._clocks:
            self._clocks["resolve"] = self._clocks["resolve"].model_copy(update={"holder": holder})

    def _send_referral(self, plan: RoutePlan, actor: Actor) -> None:
        p = self._policy_or_fail()
        referral = _Referral(workflow.uuid4(), workflow.uuid4(), plan)
        self._referral = referral
        self._pending_destination = None
        reminder = referral_reminder_days(plan, p.referral_reminder_fraction)
        self._clocks["referral"] = clocks.new(
            self._calendar,
            "referral",
            Role.PROGRAM_MANAGER,
            self._today(),
            plan.sla_working_days,
            reminder,
            expiry_extra=p.referral_expiry_extra_days,
        )
        self._move(
            S.REFERRED,
            actor,
            reason="referral_approved",
            details={
                "destination": plan.destination,
                "channel": plan.channel.value,
                "referral_id": str(referral.referral_id),
            },
        )
        registry = self._registry
        self._notify(
            NotificationKind.REFERRAL,
            plan.destination,
            "referral",
            {
                "ticket": self._submitted.ticket_number,
                "referral_id": str(referral.referral_id),
                "category": self._category.value,
                "program": self._program,
                "sub_type": self._sub_type,
                "description": self._description,
                "place_code": self._submitted.village_code,
                "channel": plan.channel.value,
                "due_on": self._clocks["referral"].due_on.isoformat(),
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

    def _close(
        self,
        outcome: Outcome,
        actor: Actor | None,
        *,
        reason: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        self._outcome = outcome
        self._pending_outcome = None
        self._closed_on = workflow.now()
        self._move(S.CLOSED, actor, reason=reason, decision_code=outcome.value, details=details)

    def _may_reopen(self, outcome: Outcome | None = None) -> bool:
        """A not-satisfied household reopens once, within the window after closing."""
        outcome = outcome or self._outcome
        if self._reopened or outcome not in REOPENABLE_OUTCOMES or self._household_satisfied:
            return False
        if self._step is S.CLOSED:
            return self._closed_on is not None and self._sla_now() < self._reopen_deadline()
        return True

    def _reopen_deadline(self) -> datetime:
        """The end of the reopening window, on the SLA clock."""
        assert self._closed_on is not None
        closed = self._on_sla_clock(self._closed_on)
        return closed + timedelta(days=self._policy_or_fail().reopen_window_days)

    def _reopen(self, actor: Actor, details: dict[str, Any]) -> None:
        p = self._policy_or_fail()
        self._reopened = True
        self._outcome = None
        self._pending_outcome = None
        self._closed_on = None
        self._clocks["resolve"] = clocks.new(
            self._calendar,
            "resolve",
            Role.BACK_OFFICE,
            self._today(),
            p.resolve_days,
            p.resolve_reminder_days,
        )
        self._options_fresh = False
        self._move(S.BACK_OFFICE, actor, reason="reopened_not_satisfied", details=details)

    def _task_feedback(self, params: dict[str, Any]) -> None:
        self._notify(
            NotificationKind.FACILITATOR_TASK,
            staff_destination("facilitator", self._submitted.village_code),
            "tell_household",
            {"ticket": self._submitted.ticket_number, **params},
        )

    def _notify(
        self,
        kind: NotificationKind,
        destination: str,
        template: str,
        params: dict[str, Any],
        *,
        breached: bool = False,
        request_id: UUID | None = None,
    ) -> None:
        request = NotificationRequested(
            request_id=request_id or workflow.uuid4(),
            complaint_id=self._submitted.complaint_id,
            kind=kind,
            destination=destination,
            template=template,
            params={k: v for k, v in params.items() if v is not None},
            breached=breached,
        )
        self._effects.append(request)
        self._sent.append(
            SentNotification(
                request_id=request.request_id,
                kind=kind.value,
                destination=destination,
                template=template,
                breached=breached,
                at=workflow.now(),
            )
        )
        self._revision += 1

    # --- Clocks --------------------------------------------------------------------------

    def _next_moment(self) -> datetime | None:
        moments = [m for c in self._clocks.values() if (m := clocks.next_moment(c)) is not None]
        if self._step is S.REGISTRY_CHECK and self._registry_wait_until is not None:
            moments.append(clocks.end_of(self._registry_wait_until))
        if self._step is S.CLOSED and self._closed_on is not None and self._may_reopen():
            moments.append(self._reopen_deadline())
        return min(moments) if moments else None

    def _fire(self, now: datetime) -> None:
        """Act on every mark that has passed: reminders, breaches, expiry, windows."""
        self._revision += 1
        if (
            self._step is S.REGISTRY_CHECK
            and self._registry_wait_until is not None
            and now >= clocks.end_of(self._registry_wait_until)
        ):
            self._registry_wait_until = None
            self._options_fresh = False
            self._move(S.BACK_OFFICE, None, reason="registry_no_answer")
            return
        if (
            self._step is S.CLOSED
            and self._closed_on is not None
            and now >= self._reopen_deadline()
        ):
            self._finished = True
            return
        for kind in ("acknowledge", "resolve", "step", "referral"):
            clock = self._clocks.get(kind)
            if clock is None:
                continue
            if not clock.reminded and clock.remind_on and now >= clocks.start_of(clock.remind_on):
                self._clocks[kind] = clock = clock.model_copy(update={"reminded": True})
                self._remind(clock)
            if clock.next_escalation_on and now >= clocks.end_of(clock.next_escalation_on):
                self._breach(kind, clock)
                clock = self._clocks.get(kind)
            if (
                clock is not None
                and clock.kind == "referral"
                and clock.expire_on
                and now >= clocks.end_of(clock.expire_on)
            ):
                self._expire_referral()

    def _remind(self, clock: Clock) -> None:
        place = self._submitted.village_code
        params = {
            "ticket": self._submitted.ticket_number,
            "clock": clock.kind,
            "step": self._step.value,
            "due_on": clock.due_on.isoformat(),
        }
        if clock.kind == "referral" and self._referral is not None:
            self._notify(
                NotificationKind.REMINDER,
                self._referral.plan.destination,
                "referral_reminder",
                params,
            )
        elif clock.holder is not None:
            self._notify(
                NotificationKind.REMINDER,
                staff_destination(clock.holder.value, place),
                "step_at_risk",
                params,
            )

    def _breach(self, kind: str, clock: Clock) -> None:
        p = self._policy_or_fail()
        number = clock.escalations + 1
        target = escalation_target(clock.holder, number)
        next_on = (
            None
            if is_top(target) or kind == "referral"
            else self._calendar.add(
                clock.next_escalation_on or clock.due_on, p.escalation_interval_days
            )
        )
        self._clocks[kind] = clock.model_copy(
            update={"breached": True, "escalations": number, "next_escalation_on": next_on}
        )
        self._escalation_count += 1
        missed = clock.next_escalation_on or clock.due_on
        params = {
            "ticket": self._submitted.ticket_number,
            "clock": kind,
            "step": self._step.value,
            "due_on": missed.isoformat(),
            "level": number,
        }
        self._notify(
            NotificationKind.ESCALATION,
            staff_destination(target, self._submitted.village_code),
            "sla_breached",
            params,
            breached=True,
        )
        if kind == "referral" and self._referral is not None:
            self._notify(
                NotificationKind.REMINDER,
                self._referral.plan.destination,
                "referral_overdue",
                params,
                breached=True,
            )
        self._move(
            self._step,
            None,
            reason=f"{kind}_breached",
            details={
                "clock": kind,
                "escalated_to": target,
                "escalation": number,
                "due_on": missed.isoformat(),
            },
        )

    def _escalate_now(self, holder: Role, reason: str) -> None:
        target = escalation_target(holder, 1)
        self._escalation_count += 1
        self._notify(
            NotificationKind.ESCALATION,
            staff_destination(target, self._submitted.village_code),
            reason,
            {"ticket": self._submitted.ticket_number, "reason": reason},
            breached=True,
        )

    def _expire_referral(self) -> None:
        referral = self._referral
        self._escalate_now(Role.PROGRAM_MANAGER, "referral_no_response")
        self._referral = None
        self._options_fresh = False
        self._move(
            S.BACK_OFFICE,
            None,
            reason="no_response",
            decision_code="no_response",
            details={"destination": referral.plan.destination if referral else None},
        )

    def _today(self) -> date:
        """Today on the SLA clock (the date clocks start, pause and resume on)."""
        return local_date(self._sla_now())

    def _sla_now(self) -> datetime:
        return self._on_sla_clock(workflow.now())

    def _on_sla_clock(self, moment: datetime) -> datetime:
        """A real moment on the SLA clock, which runs ``clock_speed`` times faster than real
        time from the moment the workflow started (the same moment at speed 1)."""
        speed = self._policy.clock_speed if self._policy else 1.0
        if speed == 1.0 or self._clock_origin is None:
            return moment
        return self._clock_origin + (moment - self._clock_origin) * speed

    def _real_wait(self, sla_interval: timedelta) -> timedelta:
        """How long to sleep for ``sla_interval`` to pass on the SLA clock."""
        speed = self._policy.clock_speed if self._policy else 1.0
        if speed == 1.0:
            return sla_interval
        # A millisecond more: the timer must not wake a hair before the mark (rounding).
        return sla_interval / speed + timedelta(milliseconds=1)

    def _policy_or_fail(self) -> SlaPolicy:
        assert self._policy is not None
        return self._policy


_ACTIVITY_FOR: dict[type[EventData], str] = {
    ComplaintTransitioned: ACTIVITY_EMIT_TRANSITION,
    NotificationRequested: ACTIVITY_REQUEST_NOTIFICATION,
    RegistryCheckRequested: ACTIVITY_REQUEST_REGISTRY_CHECK,
    PrelistEntryRequested: ACTIVITY_REQUEST_PRELIST_ENTRY,
}
