"""The workflow's own data: its policy, routing options, clocks and activity names.

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
ACTIVITY_FIND_REPEATS = "find_repeats"
ACTIVITY_ROUTING_OPTIONS = "routing_options"


class SlaPolicy(BaseModel):
    """Working-day SLAs and windows (defaults from routing's settings), plus the days off."""

    model_config = ConfigDict(frozen=True)

    days_off: list[date]
    acknowledge_days: int = Field(default=3, ge=1)
    acknowledge_reminder_days: int = Field(default=2, ge=0)
    resolve_days: int = Field(default=20, ge=1)
    resolve_reminder_days: int = Field(default=15, ge=0)
    step_days: int = Field(default=5, ge=1)
    step_reminder_days: int = Field(default=3, ge=0)
    referral_reminder_fraction: float = Field(default=0.7, gt=0, le=1)
    """Reminder mark of a referral whose program names none: this share of its SLA."""
    referral_expiry_extra_days: int = Field(default=10, ge=0)
    """Working days after a referral's deadline before it closes as ``no_response``."""
    escalation_interval_days: int = Field(default=2, ge=1)
    """After a breach, working days before the next level up is alerted."""
    registry_wait_days: int = Field(default=1, ge=1)
    """Working days to wait for the registry before back office proceeds without it."""
    repeat_window_days: int = Field(default=183, ge=1)
    reopen_window_days: int = Field(default=14, ge=1)
    """Calendar days after closing in which a not-satisfied household reopens the complaint."""
    clock_speed: float = Field(default=1.0, ge=1.0, le=1_000_000.0)
    """How many times faster than real time the SLA clocks run: 1 in production; a demo or
    training stack sets more so that a working week passes in minutes. Only the clocks speed
    up (reminders, deadlines, escalations, expiry, windows); the recorded times stay real."""


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
