"""The workflow's own data: routing options, clocks and activity names (the SLA policy is
``slrt.contracts.sla.SlaPolicy``).

Everything here crosses the workflow/activity boundary through Temporal's pydantic converter,
so it must stay serialisable and free of I/O.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from slrt.auth.principal import Role
from slrt.contracts.events import (
    ComplaintTransitioned,
    NotificationRequested,
    PrelistEntryRequested,
    RegistryCheckRequested,
    RegistryCorrectionRequested,
)
from slrt.contracts.vocabulary import Category, ProgramChannel

# Activity names (implemented by services.routing.activities.ComplaintActivities).
ACTIVITY_SLA_POLICY = "sla_policy"
ACTIVITY_EMIT_TRANSITION = "emit_transition"
ACTIVITY_REQUEST_NOTIFICATION = "request_notification"
ACTIVITY_REQUEST_REGISTRY_CHECK = "request_registry_check"
ACTIVITY_REQUEST_PRELIST_ENTRY = "request_prelist_entry"
ACTIVITY_REQUEST_REGISTRY_CORRECTION = "request_registry_correction"
ACTIVITY_FIND_REPEATS = "find_repeats"
ACTIVITY_ROUTING_OPTIONS = "routing_options"
ACTIVITY_PUBLISH_EFFECTS = "publish_effects"

MEMO_SLA_POLICY = "slrt_sla_policy"
"""The memo key under which routing's consumer passes a complaint's ``SlaPolicy`` in with the
workflow's start (``perf-path-policy-at-start``). A memo, not a second ``run`` argument: the
SDK decodes the arguments by the method's type hints only when their counts match, so an
optional argument would leave the older histories' single argument undecoded. Encrypted like
the arguments (the payload codec); no personal data in it anyway."""

Effect = (
    ComplaintTransitioned
    | NotificationRequested
    | RegistryCheckRequested
    | PrelistEntryRequested
    | RegistryCorrectionRequested
)
"""What the workflow asks its activities to publish, in order."""


class EffectItem(BaseModel):
    """One effect of an :class:`EffectBatch`: exactly one field is set (named, so the payload
    decodes to the right event model without guessing from its fields)."""

    transition: ComplaintTransitioned | None = None
    notification: NotificationRequested | None = None
    registry_check: RegistryCheckRequested | None = None
    prelist_entry: PrelistEntryRequested | None = None
    registry_correction: RegistryCorrectionRequested | None = None

    @classmethod
    def of(cls, effect: Effect) -> EffectItem:
        if isinstance(effect, ComplaintTransitioned):
            return cls(transition=effect)
        if isinstance(effect, NotificationRequested):
            return cls(notification=effect)
        if isinstance(effect, RegistryCheckRequested):
            return cls(registry_check=effect)
        if isinstance(effect, PrelistEntryRequested):
            return cls(prelist_entry=effect)
        return cls(registry_correction=effect)

    def effect(self) -> Effect:
        found = [
            e
            for e in (
                self.transition,
                self.notification,
                self.registry_check,
                self.prelist_entry,
                self.registry_correction,
            )
            if e is not None
        ]
        if len(found) != 1:
            raise ValueError(f"an effect item holds exactly one effect, not {len(found)}")
        return found[0]


class EffectBatch(BaseModel):
    """Effects queued together, published in this order by one activity
    (``ACTIVITY_PUBLISH_EFFECTS``, since patch ``perf-batch-effects``)."""

    items: list[EffectItem]

    def effects(self) -> list[Effect]:
        return [item.effect() for item in self.items]


class RoutePlan(BaseModel):
    """Where a referral goes (tujuan rujukan), through which channel, with which SLA."""

    model_config = ConfigDict(frozen=True)

    destination: str
    """The program code in the catalog."""
    program_name: str
    owner_agency: str
    channel: ProgramChannel
    sla_working_days: int
    reminder_working_days: int | None = None


class RouteRequest(BaseModel):
    complaint_id: UUID
    category: Category
    program_code: str | None
    sub_type: str | None
    place_code: str
    registry_found: bool | None
    registry_programs: list[str] = Field(default_factory=list)


class RoutingOptions(BaseModel):
    suggested: RoutePlan | None
    destinations: dict[str, RoutePlan]
    """Every active program that serves the complaint's place, by code (for overrides)."""


class RepeatQuery(BaseModel):
    complaint_id: UUID
    ticket_number: str
    household_id: UUID | None
    individual_id: UUID | None
    program_code: str | None
    category: Category
    submitted_at: datetime
    window_days: int


ClockKind = Literal["acknowledge", "resolve", "step", "referral"]


class Clock(BaseModel):
    """One running SLA clock: a reminder mark (at risk) and a deadline (breached)."""

    kind: ClockKind
    holder: Role | None
    started_on: date
    remind_on: date | None
    due_on: date
    expire_on: date | None = None
    reminded: bool = False
    breached: bool = False
    escalations: int = 0
    next_escalation_on: date | None = None
    """The due date of the next level's alert (None once the top of the chain was alerted)."""
    paused_since: date | None = None


class SentNotification(BaseModel):
    request_id: UUID
    kind: str
    destination: str
    template: str
    breached: bool
    at: datetime
