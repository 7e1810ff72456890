"""SLA clocks as plain functions over ``Clock`` values (pure; the workflow holds the state).

Marks are dates in WIB: a reminder goes out at the start of ``remind_on``; a deadline is missed
when ``due_on`` is over (midnight after it), and so is a referral's ``expire_on``.
"""

from __future__ import annotations

from datetime import date, datetime

from slrt.auth.principal import Role
from workflows.model import Clock, ClockKind
from workflows.working_days import WorkingCalendar, end_of, start_of

__all__ = ["end_of", "moved_to", "new", "next_moment", "paused", "resumed", "start_of"]


def new(
    calendar: WorkingCalendar,
    kind: ClockKind,
    holder: Role | None,
    started_on: date,
    working_days: int,
    reminder_days: int | None,
    *,
    expiry_extra: int | None = None,
) -> Clock:
    due = calendar.add(started_on, working_days)
    remind = (
        calendar.add(started_on, reminder_days)
        if reminder_days is not None and 0 < reminder_days < working_days
        else None
    )
    return Clock(
        kind=kind,
        holder=holder,
        started_on=started_on,
        remind_on=remind,
        due_on=due,
        expire_on=calendar.add(due, expiry_extra) if expiry_extra is not None else None,
        next_escalation_on=due,
    )


def moved_to(calendar: WorkingCalendar, clock: Clock, due_on: date, expiry_extra: int) -> Clock:
    """A referral clock re-armed for a new expected date (program manager: under review)."""
    return clock.model_copy(
        update={
            "due_on": due_on,
            "remind_on": None,
            "breached": False,
            "next_escalation_on": due_on,
            "expire_on": calendar.add(due_on, expiry_extra),
        }
    )


def paused(clock: Clock, today: date) -> Clock:
    return clock if clock.paused_since else clock.model_copy(update={"paused_since": today})


def resumed(calendar: WorkingCalendar, clock: Clock, today: date) -> Clock:
    """Push every mark still ahead by the working days the clock stood still."""
    since = clock.paused_since
    if since is None:
        return clock
    shift = calendar.between(since, today)

    def push(day: date | None) -> date | None:
        return calendar.add(day, shift) if day is not None and day >= since else day

    return clock.model_copy(
        update={
            "paused_since": None,
            "remind_on": None if clock.reminded else push(clock.remind_on),
            "due_on": push(clock.due_on),
            "next_escalation_on": push(clock.next_escalation_on),
            "expire_on": push(clock.expire_on),
        }
    )


def next_moment(clock: Clock) -> datetime | None:
    """When this clock next needs attention (None: paused, or nothing left to do)."""
    if clock.paused_since is not None:
        return None
    moments = []
    if clock.remind_on is not None and not clock.reminded:
        moments.append(start_of(clock.remind_on))
    if clock.next_escalation_on is not None:
        moments.append(end_of(clock.next_escalation_on))
    if clock.expire_on is not None:
        moments.append(end_of(clock.expire_on))
    return min(moments) if moments else None
