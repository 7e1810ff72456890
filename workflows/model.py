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
