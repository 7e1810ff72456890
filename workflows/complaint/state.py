"""The complaint workflow's state: one serialisable model, grouped by concern (registry,
referral, outcome, clocks, journal), from which the snapshot and the query answer are derived.

Everything here round-trips through Temporal's pydantic converter, so a run can hand its state
to the next (continue-as-new). The working calendar is derived from the policy, not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field, PrivateAttr

from slrt.contracts.complaints import (
    ComplaintSnapshot,
    ComplaintState,
    ComplaintStep,
    HistoryEntry,
    Outcome,
    RegistrySummary,
)
from slrt.contracts.events import (
    ComplaintSubmitted,
    RegistryCheckCompleted,
)
from slrt.contracts.sla import SlaPolicy
from slrt.contracts.vocabulary import Category
from workflows.complaint.clock_rules import on_sla_clock
from workflows.model import Clock, Effect, RoutePlan, RoutingOptions, SentNotification
from workflows.rules import HOLDER
from workflows.working_days import WorkingCalendar, local_date


class RegistryState(BaseModel):
    """The registry check (DT-PPFM): the request, its answer, the wait, repeats found."""

    summary: RegistrySummary | None = None
    request: UUID | None = None
    answer: RegistryCheckCompleted | None = None
    wait_until: date | None = None
    applied: bool = False
    """The answer (or its absence, for an anonymous complaint) has been taken into account."""
    repeat_of: list[str] = Field(default_factory=list)
    # Proposals the complaint started (``workflows/registry_results.py``)
    corrections_expected: int = 0
    """Change proposals asked for by back office's corrections (one per change)."""
    proposals: dict[str, str] = Field(default_factory=dict)
    """Each proposal of the complaint the registry told about, by id: its latest status."""
    decided: dict[str, str] = Field(default_factory=dict)
    """Proposals with a final verification result (``accepted`` / ``rejected``)."""
    news_seen: set[str] = Field(default_factory=set)
    result_wait_until: date | None = None
    """Until when (SLA clock) the complaint waits for verification results."""


class CurrentReferral(BaseModel):
    referral_id: UUID
    notification_id: UUID
    plan: RoutePlan
    delivered: bool | None = None


class ReferralState(BaseModel):
    """Where the complaint may go, where it was proposed to go, and the referral out now."""

    options: RoutingOptions | None = None
    options_fresh: bool = False
    suggested_instead: str | None = None
    """A program manager's ``not_responsible`` suggestion, preferred over the plan's."""
    pending_destination: RoutePlan | None = None
    """Proposed by back office, waiting for the manager's approval."""
    proposed_by: str | None = None
    """The user id of whoever proposed the pending referral (separation of duties)."""
    current: CurrentReferral | None = None
    answers_seen: set[str] = Field(default_factory=set)


class OutcomeState(BaseModel):
    final: Outcome | None = None
    pending: Outcome | None = None
    """The outcome the household is to be told (feedback step)."""
    reopened: bool = False
    closed_on: datetime | None = None
    household_satisfied: bool | None = None
    window_over: bool = False
    """The reopen window is over (the run may stay open for registry results)."""


class ClockState(BaseModel):
    """The policy the complaint started with, its running SLA clocks and escalations."""

    policy: SlaPolicy | None = None
    origin: datetime | None = None
    """When the workflow started: the SLA clock's origin (see ``clock_speed``)."""
    running: dict[str, Clock] = Field(default_factory=dict)
    escalation_count: int = 0
    _calendar: tuple[SlaPolicy | None, WorkingCalendar] | None = PrivateAttr(default=None)

    @property
    def calendar(self) -> WorkingCalendar:
        if self._calendar is None or self._calendar[0] is not self.policy:
            days_off = self.policy.days_off if self.policy else ()
            self._calendar = (self.policy, WorkingCalendar(days_off))
        return self._calendar[1]

    @property
    def speed(self) -> float:
        return self.policy.clock_speed if self.policy else 1.0

    def on_sla_clock(self, moment: datetime) -> datetime:
        return on_sla_clock(moment, self.origin, self.speed)

    def today(self, now: datetime) -> date:
        """Today on the SLA clock (the date clocks start, pause and resume on)."""
        return local_date(self.on_sla_clock(now))

    def policy_or_fail(self) -> SlaPolicy:
        assert self.policy is not None
        return self.policy


class Journal(BaseModel):
    """What happened and what is still to be published (see ``journal.py``)."""

    history: list[HistoryEntry] = Field(default_factory=list)
    effects: list[Effect] = Field(default_factory=list)
    sent: list[SentNotification] = Field(default_factory=list)
    revision: int = 0
    """Bumped on every change the main loop must look at."""
    indexed: tuple[ComplaintStep, bool] | None = None
    """The step and overdue flag last written to the search attributes."""
    done: dict[str, ComplaintSnapshot] = Field(default_factory=dict)
    """The answer to every update already applied, by request id (the replay guard)."""


class Complaint(BaseModel):
    """One complaint's whole state."""

    submitted: ComplaintSubmitted
    category: Category
    program: str | None
    sub_type: str | None
    description: str
    step: ComplaintStep = ComplaintStep.RECEIVED
    finished: bool = False
    registry: RegistryState = Field(default_factory=RegistryState)
    referral: ReferralState = Field(default_factory=ReferralState)
    outcome: OutcomeState = Field(default_factory=OutcomeState)
    clocks: ClockState = Field(default_factory=ClockState)
    journal: Journal = Field(default_factory=Journal)
    _household_patch: Callable[[], bool] | None = PrivateAttr(default=None)

    @property
    def household_patch(self) -> Callable[[], bool] | None:
        """The workflow's versioning check for household messages, when it brings its own
        (tests prove the guard matters with one that is always on); None: the patch itself."""
        return self._household_patch

    def bind_household_patch(self, check: Callable[[], bool]) -> None:
        self._household_patch = check

    _local_reads_patch: Callable[[], bool] | None = PrivateAttr(default=None)

    @property
    def local_reads_patch(self) -> Callable[[], bool] | None:
        """The workflow's versioning check for local reads (``journal.PATCH_LOCAL_READS``), as
        for ``household_patch``."""
        return self._local_reads_patch

    def bind_local_reads_patch(self, check: Callable[[], bool]) -> None:
        self._local_reads_patch = check

    @classmethod
    def new(cls, submitted: ComplaintSubmitted) -> Complaint:
        return cls(
            submitted=submitted,
            category=submitted.category,
            program=submitted.program_code,
            sub_type=submitted.sub_type,
            description=submitted.description,
        )


def snapshot(c: Complaint) -> ComplaintSnapshot:
    """The complaint's public state (no personal data), as published after each transition."""
    running = c.clocks.running
    step_clock = running.get("referral") or running.get("step")
    ack, resolve = running.get("acknowledge"), running.get("resolve")
    current = c.referral.current
    referral = current.plan.destination if current else None
    pending = c.referral.pending_destination
    return ComplaintSnapshot(
        complaint_id=c.submitted.complaint_id,
        ticket_number=c.submitted.ticket_number,
        step=c.step,
        holder_role=HOLDER[c.step],
        place_code=c.submitted.village_code,
        category=c.category,
        channel=c.submitted.channel,
        program_code=c.program,
        referral_destination=referral or (pending.destination if pending else None),
        referral_id=current.referral_id if current else None,
        acknowledge_due=ack.due_on if ack else None,
        resolve_due=resolve.due_on if resolve else None,
        step_due=step_clock.due_on if step_clock else None,
        repeat_of=list(c.registry.repeat_of),
        escalation_count=c.clocks.escalation_count,
        escalated=c.clocks.escalation_count > 0,
        overdue=any(clock.breached for clock in running.values()),
        registry=c.registry.summary,
        outcome=c.outcome.final,
        reopened=c.outcome.reopened,
    )


def query_answer(c: Complaint) -> ComplaintState:
    """What ``QUERY_STATE`` returns: the snapshot, the history, the clocks, the notifications."""
    return ComplaintState(
        snapshot=snapshot(c),
        history=list(c.journal.history),
        clocks={k: clock.model_dump(mode="json") for k, clock in c.clocks.running.items()},
        notifications=[n.model_dump(mode="json") for n in c.journal.sent],
    )
