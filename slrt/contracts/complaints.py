"""The complaint's life as every part sees it: steps, the actions people take (Temporal update
inputs, sent by intake, validated by the workflow), and the snapshot published after each step.

Update names are the ``UPDATE_*`` constants; each takes its model below. The workflow refuses an
action that does not fit the current step or the caller's role *before* anything is written,
with an ``ApplicationError`` whose type is a ``Refusal``: ``WrongStep`` (→ HTTP 409, the current
step named), ``NotYourRole`` (→ HTTP 403) or ``SeparationOfDuties`` (→ HTTP 403: the person who
proposed a referral may not approve it); who may take which action is ``HUMAN_ACTIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from slrt.auth.policy import Action, roles_for
from slrt.auth.principal import Role
from slrt.contracts.corrections import RegistryCorrection
from slrt.contracts.vocabulary import Category, Channel, ReferralDecision


class ComplaintStep(StrEnum):
    RECEIVED = "received"
    SUPERVISOR_REVIEW = "supervisor_review"
    RETURNED_FOR_CORRECTION = "returned_for_correction"
    REGISTERED = "registered"
    REGISTRY_CHECK = "registry_check"
    BACK_OFFICE = "back_office"
    AWAITING_INFORMATION = "awaiting_information"
    """Back office asked the household for more through the facilitator (clock paused)."""
    AWAITING_REGISTRATION = "awaiting_registration"
    """The outcome depends on the registry: a pre-list entry or a correction proposed from the
    complaint waits for SIKS-NG's verification result (weeks; resolve clock paused)."""
    MANAGER_APPROVAL = "manager_approval"
    REFERRED = "referred"
    UNDER_REVIEW = "under_review"
    FEEDBACK = "feedback"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


OPEN_STEPS = frozenset(ComplaintStep) - {ComplaintStep.CLOSED, ComplaintStep.WITHDRAWN}


class Outcome(StrEnum):
    """How a complaint ended (kode hasil)."""

    ANSWERED = "answered"
    """Information request answered at registration."""
    RESOLVED_LOCALLY = "resolved_locally"
    REFERRAL_ACCEPTED = "referral_accepted"
    REFERRAL_REJECTED = "referral_rejected"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
    REGISTRY_ACCEPTED = "registry_accepted"
    """SIKS-NG accepted what the complaint proposed (the person registered, the correction made)."""
    REGISTRY_REJECTED = "registry_rejected"
    """SIKS-NG rejected it (the reason is on the timeline and in the household's message)."""


class Actor(BaseModel):
    """Who acts: the verified caller's id and the role they act in (never a name)."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    role: Role
    area: str = ""


# --- Update names and inputs -------------------------------------------------------------

UPDATE_SUPERVISOR_REVIEW = "supervisor_review"
UPDATE_RESUBMIT = "resubmit_corrected"
UPDATE_BACK_OFFICE = "back_office_action"
UPDATE_INFORMATION_RECEIVED = "information_received"
UPDATE_MANAGER_DECISION = "manager_decision"
UPDATE_FEEDBACK = "facilitator_feedback"
UPDATE_HOUSEHOLD_RESPONSE = "household_response"
UPDATE_WITHDRAW = "withdraw"
UPDATE_PROPOSE_CORRECTION = "propose_registry_correction"
QUERY_STATE = "state"
SIGNAL_REGISTRY_RESULT = "registry_result"
SIGNAL_DELIVERY_OUTCOME = "delivery_outcome"
SIGNAL_REFERRAL_ANSWER = "referral_answer"
SIGNAL_REGISTRY_PROPOSAL = "registry_proposal"


class Refusal(StrEnum):
    """The ``ApplicationError`` types the workflow refuses an update with (intake maps them)."""

    WRONG_STEP = "WrongStep"
    """Not at a step where the action fits (→ 409; details name ``current_step``)."""
    NOT_YOUR_ROLE = "NotYourRole"
    """The actor's role may not take the action (→ 403)."""
    INVALID_ACTION = "InvalidAction"
    """It fits, but lacks what it needs (→ 422; details name the ``fields``)."""
    SEPARATION_OF_DUTIES = "SeparationOfDuties"
    """The actor proposed the referral they try to approve (→ 403; details name the ``rule``,
    ``separation_of_duties``). Routing's ``separation_of_duties`` setting turns the rule off."""


@dataclass(frozen=True)
class HumanAction:
    """Where a human action fits (steps) and who may take it (roles)."""

    steps: frozenset[ComplaintStep]
    roles: frozenset[Role]


S = ComplaintStep

HUMAN_ACTIONS: dict[str, HumanAction] = {
    UPDATE_SUPERVISOR_REVIEW: HumanAction(
        frozenset({S.SUPERVISOR_REVIEW}), roles_for(Action.SUPERVISOR_REVIEW)
    ),
    UPDATE_RESUBMIT: HumanAction(
        frozenset({S.RETURNED_FOR_CORRECTION}), roles_for(Action.COMPLAINT_CORRECT)
    ),
    UPDATE_BACK_OFFICE: HumanAction(frozenset({S.BACK_OFFICE}), roles_for(Action.BACK_OFFICE_ACT)),
    UPDATE_INFORMATION_RECEIVED: HumanAction(
        frozenset({S.AWAITING_INFORMATION}), roles_for(Action.INFORMATION_RECEIVED)
    ),
    UPDATE_MANAGER_DECISION: HumanAction(
        frozenset({S.MANAGER_APPROVAL}), roles_for(Action.MANAGER_DECIDE)
    ),
    UPDATE_FEEDBACK: HumanAction(frozenset({S.FEEDBACK}), roles_for(Action.FACILITATOR_FEEDBACK)),
    # The household speaks through intake's tracking page: any relaying role may carry it.
    UPDATE_HOUSEHOLD_RESPONSE: HumanAction(frozenset({S.FEEDBACK, S.CLOSED}), frozenset(Role)),
    UPDATE_WITHDRAW: HumanAction(OPEN_STEPS, roles_for(Action.COMPLAINT_WITHDRAW)),
    UPDATE_PROPOSE_CORRECTION: HumanAction(
        frozenset({S.BACK_OFFICE, S.AWAITING_REGISTRATION}), roles_for(Action.BACK_OFFICE_ACT)
    ),
}
"""Every human action (update name) with the steps it fits and the roles that may take it. The
roles come from the one authorisation table (``slrt.auth.policy.ALLOWED``), which intake
enforces before forwarding an action and the workflow's validators enforce again."""


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: Actor
    request_id: str = Field(min_length=1, max_length=100)
    """Client idempotency key: repeating an action with the same id returns the first result."""


class SupervisorReview(_Action):
    decision: Literal["approve", "return_for_correction"]
    note: str | None = Field(default=None, max_length=2000)


class CorrectedSubmission(_Action):
    """The facilitator's corrected version after a return (same workflow)."""

    description: str = Field(min_length=1, max_length=5000)
    category: Category
    program_code: str | None = None
    sub_type: str | None = None


class BackOfficeAction(_Action):
    kind: Literal["resolve", "refer", "mark_duplicate", "request_information", "await_registration"]
    answer: str | None = Field(default=None, max_length=5000)
    decision_code: str | None = Field(default=None, max_length=50)
    destination_program: str | None = None
    """For ``refer``: the program to refer to (default: the routing plan's suggestion)."""
    override_reason: str | None = Field(default=None, max_length=2000)
    """Required when ``destination_program`` differs from the routing plan's suggestion."""
    duplicate_of: str | None = None
    """For ``mark_duplicate``: the other ticket number."""
    question: str | None = Field(default=None, max_length=2000)
    """For ``request_information``: what the household is asked."""


class ProposeRegistryCorrection(_Action, RegistryCorrection):
    """Back office proposes a registry correction found while handling the complaint."""


class InformationReceived(_Action):
    information: str = Field(min_length=1, max_length=5000)


class ManagerDecision(_Action):
    decision: Literal["approve", "send_back"]
    note: str | None = Field(default=None, max_length=2000)


class FacilitatorFeedback(_Action):
    household_told: bool
    visited_on: date
    household_response: Literal["satisfied", "not_satisfied"] | None = None
    note: str | None = Field(default=None, max_length=2000)


class HouseholdResponse(_Action):
    """The household's rating or appeal from the public tracking page (actor role: none)."""

    response: Literal["satisfied", "not_satisfied"]
    appeal: bool = False
    note: str | None = Field(default=None, max_length=2000)


class Withdraw(_Action):
    reason: str = Field(min_length=1, max_length=2000)


# --- Results fed back by consumers (signals) ---------------------------------------------


class DeliveryOutcome(BaseModel):
    request_id: UUID
    delivered: bool
    channel: str
    detail: str | None = None
    at: datetime


class ReferralAnswer(BaseModel):
    answer_id: str
    referral_id: UUID
    decision: ReferralDecision
    note: str | None = None
    expected_date: date | None = None
    suggested_destination: str | None = None
    at: datetime


class RegistryProposalNews(BaseModel):
    """What the registry says about a proposal a complaint started (routing's signal from
    ``RegistryProposalUpdated`` and ``RegistryVerificationApplied``)."""

    proposal_id: UUID
    kind: Literal["prelist", "change"]
    status: Literal[
        "proposed", "approved", "returned", "exported", "accepted", "rejected", "revisit"
    ]
    request_id: UUID | None = None
    """The workflow's request that created it (pre-list entry or correction), if known."""
    batch_id: UUID | None = None
    reason: str | None = None
    """SIKS-NG's reason (rejected, revisit) or the registry's (returned)."""
    household_id: UUID | None = None
    at: datetime

    @property
    def is_result(self) -> bool:
        """A verification result (the end of the proposal's road, or a revisit)."""
        return self.status in ("accepted", "rejected", "revisit")


# --- What everyone else sees -------------------------------------------------------------


class MayQualify(BaseModel):
    """A program the household *may* qualify for, by the structured eligibility criteria its
    program-information entry keeps (``docs/api.md``, "Program information"). A hint for back
    office, never a decision: the program's own verification decides."""

    program_code: str
    entry_id: UUID
    entry_version: int
    to_check: list[str] = Field(default_factory=list)
    """Criteria the registry cannot tell (e.g. a pregnant member): ask the household."""


class RegistrySummary(BaseModel):
    found: bool
    household_id: UUID | None = None
    welfare_decile: int | None = None
    programs: list[str] = Field(default_factory=list)
    prelist_requested: bool = False
    warnings: list[str] = Field(default_factory=list)
    may_qualify_for: list[MayQualify] = Field(default_factory=list)
    """Programs the household may qualify for, at the registry check (since proginfo)."""


class InformationAnswer(BaseModel):
    """What answered an information request at the front office: the program-information
    entry (and its version) and the answer given, as free text (masked on the wire)."""

    model_config = ConfigDict(frozen=True)

    entry_id: UUID
    entry_version: int = Field(ge=1)
    topic: str = Field(pattern=r"^[A-Za-z0-9_]{2,40}$")
    """The entry's topic (a program code, or an FAQ topic): what the dashboard counts by."""
    answer: str = Field(min_length=1, max_length=5000)


class ComplaintSnapshot(BaseModel):
    """The complaint's public state after a transition (no personal data)."""

    complaint_id: UUID
    ticket_number: str
    step: ComplaintStep
    holder_role: Role | None
    """Who must act now (None when the complaint waits on the outside or is closed)."""
    place_code: str
    category: Category
    channel: Channel
    program_code: str | None = None
    referral_destination: str | None = None
    referral_id: UUID | None = None
    """The current referral (the id program managers answer on; None before a referral)."""
    acknowledge_due: date | None = None
    resolve_due: date | None = None
    step_due: date | None = None
    """When the current step is due: what the household sees as "next step due"."""
    repeat_of: list[str] = Field(default_factory=list)
    escalation_count: int = 0
    escalated: bool = False
    overdue: bool = False
    registry: RegistrySummary | None = None
    outcome: Outcome | None = None
    reopened: bool = False


class HistoryEntry(BaseModel):
    """One recorded transition (or same-step event such as an escalation) of a complaint."""

    sequence: int
    from_step: ComplaintStep | None
    to_step: ComplaintStep
    actor: str
    """A user id, ``program:<code>`` for a program manager's answer, or ``system``."""
    actor_role: str
    at: datetime
    reason: str | None = None
    decision_code: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ComplaintState(BaseModel):
    """What ``QUERY_STATE`` returns: the snapshot, the full history and the running clocks."""

    snapshot: ComplaintSnapshot
    history: list[HistoryEntry]
    clocks: dict[str, Any] = Field(default_factory=dict)
    """Each running clock by kind: holder, started/remind/due/expiry dates, escalations."""
    notifications: list[dict[str, Any]] = Field(default_factory=list)
    """Notification requests sent so far (kind, destination, template, breached, at)."""
