"""Due dates in Indonesian working days, across a real holiday period."""

from __future__ import annotations

from datetime import UTC, date, datetime

from workflows.working_days import (
    WorkingCalendar,
    end_of,
    indonesian_days_off,
    local_date,
    start_of,
)

CALENDAR_2026 = WorkingCalendar(indonesian_days_off([2026]))
CALENDAR_2027 = WorkingCalendar(indonesian_days_off([2027]))

CUTI_BERSAMA_2026 = [
    date(2026, 2, 16),
    date(2026, 3, 18),
    date(2026, 3, 20),
    date(2026, 3, 23),
    date(2026, 3, 24),
    date(2026, 5, 15),
    date(2026, 5, 28),
    date(2026, 12, 24),
]
"""SKB 3 Menteri on 2026 collective leave (the list this project used to keep by hand)."""

CUTI_BERSAMA_2027 = [
    date(2027, 2, 5),
    date(2027, 3, 9),
    date(2027, 3, 12),
    date(2027, 3, 15),
    date(2027, 3, 25),
    date(2027, 5, 18),
    date(2027, 5, 19),
    date(2027, 12, 24),
]
"""2027 cuti bersama as the pinned ``holidays`` release ships them (GOVERNMENT category)."""


def test_a_referral_sent_before_idul_fitri_2026_is_due_after_the_holidays_and_cuti_bersama() -> (
    None
):
    # Sent Tuesday 17 March 2026. Off: 18 (cuti, Nyepi), 19 (Nyepi), 20 (cuti), 21-22 (Idul
    # Fitri, weekend), 23-24 (cuti), 3 April (Good Friday).
    assert CALENDAR_2026.add(date(2026, 3, 17), 1) == date(2026, 3, 25)
    assert CALENDAR_2026.add(date(2026, 3, 17), 7) == date(2026, 4, 2)
    assert CALENDAR_2026.add(date(2026, 3, 17), 10) == date(2026, 4, 8)


def test_the_2026_cuti_bersama_come_from_holidays_not_a_hand_kept_list() -> None:
    days = set(indonesian_days_off([2026]))
    assert set(CUTI_BERSAMA_2026) <= days
    assert date(2026, 1, 1) in days  # New Year (PUBLIC)
    assert date(2026, 8, 17) in days  # Independence Day (PUBLIC)


def test_the_2027_cuti_bersama_and_holidays_are_days_off() -> None:
    days = set(indonesian_days_off([2027]))
    assert set(CUTI_BERSAMA_2027) <= days
    assert date(2027, 12, 25) in days
    assert date(2027, 8, 17) in days


def test_a_decree_after_the_release_adds_and_removes_joint_leave() -> None:
    changed = set(
        indonesian_days_off(
            [2027],
            leave_added=[date(2027, 2, 8), date(2026, 2, 9)],
            leave_removed=[date(2027, 5, 19), date(2027, 12, 25)],
        )
    )
    assert date(2027, 2, 8) in changed  # added
    assert date(2026, 2, 9) not in changed  # another year: ignored
    assert date(2027, 5, 19) not in changed  # joint leave cancelled: a working day again
    assert date(2027, 12, 25) in changed  # a national holiday cannot be removed


def test_a_referral_sent_before_idul_fitri_2027_is_due_after_nyepi_lebaran_and_cuti() -> None:
    # Sent Friday 5 March 2027. Off: 8 (Nyepi), 9 (cuti), 10-11 (Idul Fitri), 12 (cuti),
    # 13-14 weekend, 15 (cuti); Good Friday 26 (and its cuti on 25).
    assert CALENDAR_2027.add(date(2027, 3, 5), 1) == date(2027, 3, 16)
    assert CALENDAR_2027.add(date(2027, 3, 5), 10) == date(2027, 3, 31)
    assert CALENDAR_2027.between(date(2027, 3, 5), date(2027, 3, 16)) == 1


def test_without_the_government_category_joint_leave_is_a_working_day() -> None:
    import holidays

    public = holidays.country_holidays("ID", years=[2026], categories=(holidays.PUBLIC,))
    assert date(2026, 12, 24) not in public
    assert date(2026, 12, 24) in set(indonesian_days_off([2026]))


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
