"""Routing's Prometheus metrics: how long complaints stay in each step, and the SLA reminders
and breaches the workflows ask the notifier to send (served on ``/metrics`` with the
platform's).

Labels come from closed vocabularies only (steps, SLA clocks, escalation levels): an
unexpected value becomes ``other`` so a bad event can never grow the series count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from prometheus_client import Counter, Histogram

from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.events import NotificationRequested
from slrt.contracts.vocabulary import NotificationKind
from slrt.metrics import REGISTRY
from workflows.escalation import CHAIN

_MINUTE, _HOUR, _DAY = 60.0, 3600.0, 86400.0

STEP_DURATION = Histogram(
    "slrt_complaint_step_duration_seconds",
    "How long a complaint stayed in the step it left (real time, observed once per step "
    "change; events within a step such as escalations do not end it)",
    ["step"],
    # Steps last from seconds (automatic ones) to weeks (a referral's answer): working-day SLAs
    # need day-sized buckets past the first hours; +Inf catches parked complaints.
    buckets=(
        _MINUTE,
        15 * _MINUTE,
        _HOUR,
        4 * _HOUR,
        8 * _HOUR,
        _DAY,
        2 * _DAY,
        3 * _DAY,
        5 * _DAY,
        7 * _DAY,
        14 * _DAY,
        21 * _DAY,
        30 * _DAY,
        60 * _DAY,
    ),
    registry=REGISTRY,
)
SLA_REMINDERS = Counter(
    "slrt_sla_reminders",
    "SLA clocks that reached their reminder mark (at risk), by clock. At least once: a "
    "publish retried after a lost activity completion may count again",
    ["clock"],
    registry=REGISTRY,
)
SLA_BREACHES = Counter(
    "slrt_sla_breaches",
    "SLA clocks breached, by clock and the level escalated to (each further escalation of the "
    "same clock counts again, one level up). At least once, like slrt_sla_reminders",
    ["clock", "level"],
    registry=REGISTRY,
)

_CLOCKS = frozenset({"acknowledge", "resolve", "step", "referral"})
_STEPS = frozenset(s.value for s in ComplaintStep)


@dataclass(frozen=True)
class StepMark:
    """Where routing last saw a complaint: its step, since when, at which transition."""

    step: str
    entered_at: datetime
    sequence: int


def step_left(
    mark: StepMark | None, from_step: str | None, to_step: str, at: datetime
) -> tuple[str, float] | None:
    """The step a transition ends and how long (seconds) the complaint was in it; None for a
    transition within the step, a first transition, or when the recorded mark is not the step
    being left (a transition went unrecorded: no honest duration to give)."""
    if mark is None or from_step is None or from_step == to_step or mark.step != from_step:
        return None
    return _bounded(from_step, _STEPS), max((at - mark.entered_at).total_seconds(), 0.0)


@dataclass(frozen=True)
class SlaNotice:
    """An SLA notification as the counters see it; ``level`` is set for breaches only."""

    kind: Literal["reminder", "breach"]
    clock: str
    level: str | None = None


def sla_notice(request: NotificationRequested) -> SlaNotice | None:
    """What an SLA notification request counts as: a reminder (clock at risk) or a breach
    (escalation to the next level); None for every other notification, including the
    overdue note sent to a referral's program alongside the breach's escalation."""
    clock = request.params.get("clock")
    if clock is None:
        return None  # immediate escalations (no answer, delivery failed) carry no SLA clock
    if request.kind is NotificationKind.REMINDER and not request.breached:
        return SlaNotice("reminder", _bounded(str(clock), _CLOCKS))
    if request.kind is NotificationKind.ESCALATION:
        level = request.destination.split(":", 1)[0]
        return SlaNotice("breach", _bounded(str(clock), _CLOCKS), _bounded(level, frozenset(CHAIN)))
    return None


def count_sla_notice(request: NotificationRequested) -> None:
    notice = sla_notice(request)
    if notice is None:
        return
    if notice.level is None:
        SLA_REMINDERS.labels(notice.clock).inc()
    else:
        SLA_BREACHES.labels(notice.clock, notice.level).inc()


def _bounded(value: str, allowed: frozenset[str]) -> str:
    return value if value in allowed else "other"
