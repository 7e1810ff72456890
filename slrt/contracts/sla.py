"""The SLA policy, defined once: routing's settings inherit its terms (``SLRT_ROUTING_*``), and
the ``sla_policy`` activity hands them, with the days off, to each complaint's workflow."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SlaTerms(BaseModel):
    """Working-day SLAs and windows: the defaults every complaint starts with."""

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
    """A complaint repeats an earlier one within this many days (default about six months)."""
    reopen_window_days: int = Field(default=14, ge=1)
    """Calendar days after closing in which a not-satisfied household reopens the complaint."""
    registry_result_wait_days: int = Field(default=130, ge=1)
    """Working days a complaint waits for SIKS-NG's verification result of a proposal it started
    (about half a year: results come back in periodic batches); then back office takes over
    (awaiting_registration) or the closed complaint's run ends (a later result is still
    recorded on its timeline by routing)."""


def clock_speed_field() -> Any:
    """How many times faster than real time the SLA clocks run (routing: ``sla_clock_speed``)."""
    return Field(default=1.0, ge=1.0, le=1_000_000.0)


class SlaPolicy(SlaTerms):
    """The terms a complaint keeps for its whole life, plus the days off and the clock speed."""

    model_config = ConfigDict(frozen=True)

    days_off: list[date]
    clock_speed: float = clock_speed_field()
    """How many times faster than real time the SLA clocks run: 1 in production; a demo or
    training stack sets more so that a working week passes in minutes. Only the clocks speed
    up (reminders, deadlines, escalations, expiry, windows); the recorded times stay real."""
    separation_of_duties: bool = True
    """The person who proposed a referral may not approve it (routing's
    ``separation_of_duties``). A district with a single manager turns it off; each approval
    made while it is off says so in its history entry. A policy from before the setting reads
    as on."""

    @classmethod
    def of(
        cls,
        terms: SlaTerms,
        days_off: list[date],
        clock_speed: float,
        *,
        separation_of_duties: bool = True,
    ) -> SlaPolicy:
        fields = terms.model_dump(include=set(SlaTerms.model_fields))
        return cls(
            days_off=days_off,
            clock_speed=clock_speed,
            separation_of_duties=separation_of_duties,
            **fields,
        )
