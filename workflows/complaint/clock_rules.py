"""The complaint's clock rules as pure functions: which clocks a step change starts, pauses and
stops; what is due at a moment (remind, breach, expire, the registry wait, the reopen window);
when the next mark comes; and the SLA clock's time scaling. No Temporal here: the workflow
asks, then acts on the decisions in the order they are returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.sla import SlaPolicy
from workflows import clocks
from workflows.escalation import escalation_target, is_top
from workflows.model import Clock, ClockKind
from workflows.rules import HOLDER
from workflows.working_days import WorkingCalendar, end_of, start_of

S = ComplaintStep

KINDS: Final[tuple[ClockKind, ...]] = ("acknowledge", "resolve", "step", "referral")
"""The order clocks are looked at when several marks have passed at once."""


# --- Decisions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryTimedOut:
    """The registry did not answer in time: back office goes ahead without it."""


@dataclass(frozen=True)
class WindowOver:
    """The reopen window after closing is over: the complaint ends."""


@dataclass(frozen=True)
class Remind:
    """A clock reached its reminder mark (at risk); ``clock`` is marked reminded."""

    kind: ClockKind
    clock: Clock


@dataclass(frozen=True)
class Breach:
    """A clock missed its deadline (or the next level's): escalate to ``target``."""

    kind: ClockKind
    updated: Clock
    """The clock after the breach (breached, counted, next level's date or None)."""
    target: str
    number: int
    missed: date


@dataclass(frozen=True)
class Expire:
    """The referral's grace period after its deadline is over: it closes as no response."""


Decision = RegistryTimedOut | WindowOver | Remind | Breach | Expire


# --- SLA time ----------------------------------------------------------------------------


def on_sla_clock(moment: datetime, origin: datetime | None, speed: float) -> datetime:
    """A real moment on the SLA clock, which runs ``speed`` times faster than real time from
    ``origin`` (the workflow's start; the same moment at speed 1)."""
    if speed == 1.0 or origin is None:
        return moment
    return origin + (moment - origin) * speed


def real_wait(sla_interval: timedelta, speed: float) -> timedelta:
    """How long to sleep for ``sla_interval`` to pass on the SLA clock."""
    if speed == 1.0:
        return sla_interval
    # A millisecond more: the timer must not wake a hair before the mark (rounding).
    return sla_interval / speed + timedelta(milliseconds=1)


WAITING_ON_OTHERS: Final = frozenset({S.AWAITING_INFORMATION, S.AWAITING_REGISTRATION})
"""Steps that pause the resolve clock: the household (information) or SIKS-NG (registration)."""


# --- Step changes ------------------------------------------------------------------------


def restart_step_clocks(
    running: Mapping[str, Clock],
    calendar: WorkingCalendar,
    policy: SlaPolicy | None,
    today: date,
    from_step: ComplaintStep | None,
    to: ComplaintStep,
) -> dict[str, Clock]:
    """The clocks after moving from ``from_step`` to ``to``: the step clock restarts for a human
    step, the referral clock lives only while referred, the resolve clock pauses while waiting
    for the household, the complaint clocks stop at feedback; every clock names the holder."""
    after = dict(running)
    if policy is None:
        return after
    if to is not S.UNDER_REVIEW:
        after.pop("step", None)
    if to not in (S.REFERRED, S.UNDER_REVIEW):
        after.pop("referral", None)
    resolve = after.get("resolve")
    if resolve is not None:
        if to in WAITING_ON_OTHERS and from_step not in WAITING_ON_OTHERS:
            after["resolve"] = clocks.paused(resolve, today)
        elif from_step in WAITING_ON_OTHERS and to not in WAITING_ON_OTHERS:
            after["resolve"] = clocks.resumed(calendar, resolve, today)
    if to in (S.FEEDBACK, S.CLOSED, S.WITHDRAWN):
        after.pop("resolve", None)
        after.pop("acknowledge", None)
    holder = HOLDER[to]
    if holder is not None and to not in (S.REFERRED, S.UNDER_REVIEW):
        after["step"] = clocks.new(
            calendar, "step", holder, today, policy.step_days, policy.step_reminder_days
        )
    if "acknowledge" in after:
        after["acknowledge"] = after["acknowledge"].model_copy(update={"holder": holder})
    if "resolve" in after:
        after["resolve"] = after["resolve"].model_copy(update={"holder": holder})
    return after


# --- What is due -------------------------------------------------------------------------


def breach(kind: ClockKind, clock: Clock, calendar: WorkingCalendar, policy: SlaPolicy) -> Breach:
    """One level up per breach; the next level is due ``escalation_interval_days`` later
    (none after the top of the chain, none for a referral: it expires instead)."""
    number = clock.escalations + 1
    target = escalation_target(clock.holder, number)
    next_on = (
        None
        if is_top(target) or kind == "referral"
        else calendar.add(clock.next_escalation_on or clock.due_on, policy.escalation_interval_days)
    )
    updated = clock.model_copy(
        update={"breached": True, "escalations": number, "next_escalation_on": next_on}
    )
    return Breach(kind, updated, target, number, clock.next_escalation_on or clock.due_on)


def due(
    *,
    step: ComplaintStep,
    registry_wait_until: date | None,
    reopen_deadline: datetime | None,
    running: Mapping[str, Clock],
    now: datetime,
    calendar: WorkingCalendar,
    policy: SlaPolicy,
) -> list[Decision]:
    """Every mark that has passed at ``now`` (on the SLA clock), in the order to act on them.

    ``reopen_deadline`` is the end of the reopen window of a closed complaint (else None).
    """
    waiting = step is S.REGISTRY_CHECK and registry_wait_until is not None
    if waiting and registry_wait_until is not None and now >= end_of(registry_wait_until):
        return [RegistryTimedOut()]
    if step is S.CLOSED and reopen_deadline is not None and now >= reopen_deadline:
        return [WindowOver()]
    decisions: list[Decision] = []
    for kind in KINDS:
        clock = running.get(kind)
        if clock is None:
            continue
        if not clock.reminded and clock.remind_on and now >= start_of(clock.remind_on):
            clock = clock.model_copy(update={"reminded": True})
            decisions.append(Remind(kind, clock))
        if clock.next_escalation_on and now >= end_of(clock.next_escalation_on):
            breached = breach(kind, clock, calendar, policy)
            decisions.append(breached)
            clock = breached.updated
        if clock.kind == "referral" and clock.expire_on and now >= end_of(clock.expire_on):
            decisions.append(Expire())
    return decisions


def next_moment(
    step: ComplaintStep,
    running: Mapping[str, Clock],
    registry_wait_until: date | None,
    reopen_deadline: datetime | None,
) -> datetime | None:
    """When something next falls due (None: nothing; wait for a change).

    ``reopen_deadline`` is given only while a closed complaint may still be reopened.
    """
    moments = [m for c in running.values() if (m := clocks.next_moment(c)) is not None]
    if step is S.REGISTRY_CHECK and registry_wait_until is not None:
        moments.append(end_of(registry_wait_until))
    if step is S.CLOSED and reopen_deadline is not None:
        moments.append(reopen_deadline)
    return min(moments) if moments else None
