"""Due dates in Indonesian working days (hari kerja).

A day is a working day unless it is a Saturday, a Sunday, a national holiday (hari libur
nasional) or a collective-leave day (cuti bersama, set each year by joint ministerial decree,
SKB 3 Menteri). Both come from the ``holidays`` package: Indonesia's ``PUBLIC`` category holds
the national holidays, its ``GOVERNMENT`` category the cuti bersama of every year it ships.
A decree that changes joint leave after a ``holidays`` release is configured as additions and
removals (routing's ``collective_leave_added`` / ``collective_leave_removed``).

The workflow only sees ``WorkingCalendar`` (a set of dates, deterministic); the holiday lookup
runs in an activity, so the sandbox never imports ``holidays``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone

WIB = timezone(timedelta(hours=7))
"""Waktu Indonesia Barat: the clocks' day boundary (the ministry's working time)."""


class WorkingCalendar:
    def __init__(self, days_off: Iterable[date]) -> None:
        self._days_off = frozenset(days_off)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._days_off

    def add(self, start: date, working_days: int) -> date:
        """The date ``working_days`` working days after ``start`` (``start`` itself not counted).

        Zero gives the first working day on or after ``start``.
        """
        day = start
        if working_days == 0:
            while not self.is_working_day(day):
                day += timedelta(days=1)
            return day
        left = working_days
        while left > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end <= start``)."""
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def local_date(moment: datetime) -> date:
    return moment.astimezone(WIB).date()


def start_of(day: date) -> datetime:
    """Midnight WIB at the start of ``day``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=WIB).astimezone(UTC)


def end_of(day: date) -> datetime:
    """The moment ``day`` is over in WIB (midnight after it), in UTC: when a due date is missed."""
    return start_of(day + timedelta(days=1))


def indonesian_days_off(
    years: Iterable[int],
    *,
    leave_added: Iterable[date] = (),
    leave_removed: Iterable[date] = (),
) -> list[date]:
    """National holidays and cuti bersama of ``years`` (``holidays``, categories ``PUBLIC`` and
    ``GOVERNMENT``), with the decree changes the package does not know yet: ``leave_added``
    days are off too, ``leave_removed`` days are working days again (only a joint-leave day can
    be removed: a national holiday stays off). Sorted."""
    import holidays  # imported here: only the activity that builds the policy needs it

    wanted = sorted(set(years))
    national = holidays.country_holidays("ID", years=wanted, categories=(holidays.PUBLIC,))
    joint = holidays.country_holidays("ID", years=wanted, categories=(holidays.GOVERNMENT,))
    removed = {d for d in leave_removed if d not in national}
    days = (set(national.keys()) | (set(joint.keys()) - removed)) | {
        d for d in leave_added if d.year in wanted
    }
    return sorted(days)
