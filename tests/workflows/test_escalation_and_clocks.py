"""Who is alerted, in which order, and how clocks pause and move."""

from __future__ import annotations

from datetime import date

from slrt.auth.principal import Role
from workflows import clocks
from workflows.escalation import escalation_target, is_top, staff_destination
from workflows.working_days import WorkingCalendar

PLAIN = WorkingCalendar([])


def test_a_facilitators_step_escalates_up_the_whole_chain_in_order() -> None:
    order = [escalation_target(Role.FACILITATOR, n) for n in range(1, 6)]
    assert order == ["supervisor", "manager", "district_coordination", "province", "province"]


def test_back_office_and_program_managers_answer_to_the_manager_first() -> None:
    assert [escalation_target(Role.BACK_OFFICE, n) for n in (1, 2, 3)] == [
        "manager",
        "district_coordination",
        "province",
    ]
    assert escalation_target(Role.PROGRAM_MANAGER, 1) == "manager"
    assert escalation_target(Role.MANAGER, 1) == "district_coordination"
    assert is_top("province")
    assert not is_top("manager")


def test_staff_are_addressed_by_role_and_the_area_of_their_level() -> None:
    village = "3204052001"
    assert staff_destination("facilitator", village) == "facilitator:3204052001"
    assert staff_destination("supervisor", village) == "supervisor:320405"
    assert staff_destination("manager", village) == "manager:3204"
    assert staff_destination("district_coordination", village) == "district_coordination:3204"
    assert staff_destination("province", village) == "province:32"


def test_a_new_clock_has_its_marks_in_working_days() -> None:
    clock = clocks.new(PLAIN, "step", Role.BACK_OFFICE, date(2026, 11, 27), 5, 3)
    assert (clock.remind_on, clock.due_on) == (date(2026, 12, 2), date(2026, 12, 4))
    assert clock.next_escalation_on == clock.due_on
    assert clocks.next_moment(clock) == clocks.start_of(date(2026, 12, 2))


def test_a_paused_clock_waits_and_resumes_pushed_by_the_working_days_it_stood_still() -> None:
    clock = clocks.new(PLAIN, "resolve", None, date(2026, 11, 27), 20, 15)
    stopped = clocks.paused(clock, date(2026, 11, 30))
    assert clocks.next_moment(stopped) is None
    resumed = clocks.resumed(PLAIN, stopped, date(2026, 12, 3))  # Tue, Wed, Thu: 3 days
    assert resumed.due_on == PLAIN.add(clock.due_on, 3)
    assert resumed.remind_on == PLAIN.add(date(2026, 12, 18), 3)
    assert resumed.paused_since is None


def test_a_referral_moved_to_a_new_expected_date_rearms_deadline_and_expiry() -> None:
    clock = clocks.new(
        PLAIN, "referral", Role.PROGRAM_MANAGER, date(2026, 11, 27), 10, 7, expiry_extra=10
    )
    assert clock.expire_on == PLAIN.add(clock.due_on, 10)
    moved = clocks.moved_to(
        PLAIN, clock.model_copy(update={"breached": True}), date(2027, 1, 15), 10
    )
    assert moved.due_on == date(2027, 1, 15)
    assert moved.expire_on == PLAIN.add(date(2027, 1, 15), 10)
    assert not moved.breached
    assert moved.remind_on is None
