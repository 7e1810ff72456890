"""Due dates in Indonesian working days, across a real holiday period."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.routing.settings import CUTI_BERSAMA_2026
from workflows.working_days import (
    WorkingCalendar,
    end_of,
    indonesian_days_off,
    local_date,
    start_of,
)

CALENDAR_2026 = WorkingCalendar(indonesian_days_off([2026], CUTI_BERSAMA_2026))


def test_a_referral_sent_before_idul_fitri_2026_is_due_after_the_holidays_and_cuti_bersama() -> (
    None
):
    # Sent Tuesday 17 March 2026. Off: 18 (cuti, Nyepi), 19 (Nyepi), 20 (cuti), 21-22 (Idul
    # Fitri, weekend), 23-24 (cuti), 3 April (Good Friday).
    assert CALENDAR_2026.add(date(2026, 3, 17), 1) == date(2026, 3, 25)
    assert CALENDAR_2026.add(date(2026, 3, 17), 7) == date(2026, 4, 2)
    assert CALENDAR_2026.add(date(2026, 3, 17), 10) == date(2026, 4, 8)


def test_without_collective_leave_only_national_holidays_and_weekends_are_off() -> None:
    national_only = WorkingCalendar(indonesian_days_off([2026], []))
    assert national_only.add(date(2026, 3, 17), 10) == date(2026, 4, 1)


def test_collective_leave_of_other_years_is_ignored() -> None:
    days = indonesian_days_off([2027], CUTI_BERSAMA_2026)
    assert date(2026, 12, 24) not in days
    assert date(2027, 12, 25) in days


def test_weekends_are_skipped_and_zero_means_the_next_working_day() -> None:
    plain = WorkingCalendar([])
    friday = date(2026, 11, 27)
    assert plain.add(friday, 1) == date(2026, 11, 30)
    assert plain.add(friday, 5) == date(2026, 12, 4)
    assert plain.add(date(2026, 11, 28), 0) == date(2026, 11, 30)
    assert plain.add(friday, 0) == friday


def test_between_counts_the_working_days_that_passed() -> None:
    assert CALENDAR_2026.between(date(2026, 3, 17), date(2026, 3, 25)) == 1
    assert CALENDAR_2026.between(date(2026, 3, 17), date(2026, 3, 17)) == 0
    assert CALENDAR_2026.between(date(2026, 12, 23), date(2026, 12, 28)) == 1


def test_christmas_2026_and_its_cuti_bersama() -> None:
    # Wednesday 23 Dec: 24 (cuti), 25 (Christmas), 26-27 weekend.
    assert CALENDAR_2026.add(date(2026, 12, 23), 1) == date(2026, 12, 28)


def test_day_boundaries_are_in_wib() -> None:
    assert start_of(date(2026, 3, 25)) == datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
    assert end_of(date(2026, 3, 25)) == datetime(2026, 3, 25, 17, 0, tzinfo=UTC)
    assert local_date(datetime(2026, 3, 24, 17, 30, tzinfo=UTC)) == date(2026, 3, 25)
