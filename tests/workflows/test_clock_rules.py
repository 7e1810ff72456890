"""The complaint's clock rules as pure decisions (no Temporal server): which clocks a step change
starts, pauses and stops; what is due at a moment (remind, breach, expire, the registry wait,
the reopen window); when the next mark comes; and the SLA clock's time scaling."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.sla import SlaPolicy
from workflows import clocks
from workflows.complaint.clock_rules import (
    Breach,
    Decision,
    Expire,
    RegistryTimedOut,
    Remind,
    WindowOver,
    due,
    next_moment,
    on_sla_clock,
    real_wait,
    restart_step_clocks,
)
from workflows.model import Clock
from workflows.working_days import WorkingCalendar, end_of, start_of

S = ComplaintStep
PLAIN = WorkingCalendar([])
POLICY = SlaPolicy(days_off=[])
MONDAY = date(2026, 11, 30)


def started(kind: str = "step", holder: Role | None = Role.BACK_OFFICE) -> Clock:
    if kind == "referral":
        return clocks.new(PLAIN, "referral", Role.PROGRAM_MANAGER, MONDAY, 10, 7, expiry_extra=10)
    if kind == "resolve":
        return clocks.new(PLAIN, "resolve", holder, MONDAY, 20, 15)
    if kind == "acknowledge":
        return clocks.new(PLAIN, "acknowledge", holder, MONDAY, 3, 2)
    return clocks.new(PLAIN, "step", holder, MONDAY, 5, 3)


def at(**running: Clock) -> dict[str, Clock]:
    return dict(running)


def decide(
    running: dict[str, Clock], now: datetime, step: ComplaintStep = S.BACK_OFFICE
) -> list[Decision]:
    return due(
        step=step,
        registry_wait_until=None,
        reopen_deadline=None,
        running=running,
        now=now,
        calendar=PLAIN,
        policy=POLICY,
    )


# --- SLA time ----------------------------------------------------------------------------


def test_at_speed_one_the_sla_clock_is_real_time() -> None:
    moment = datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert on_sla_clock(moment, moment - timedelta(days=3), 1.0) is moment
    assert real_wait(timedelta(hours=5), 1.0) == timedelta(hours=5)


def test_a_faster_clock_runs_from_the_workflows_start() -> None:
    origin = datetime(2026, 12, 1, tzinfo=UTC)
    assert on_sla_clock(origin + timedelta(seconds=2), origin, 43_200.0) == origin + timedelta(
        days=1
    )
    assert on_sla_clock(origin, None, 43_200.0) == origin  # not started yet: real time
    # A timer sleeps the SLA interval divided by the speed, and a millisecond more.
    assert real_wait(timedelta(days=1), 43_200.0) == timedelta(seconds=2, milliseconds=1)


# --- Step changes ------------------------------------------------------------------------


def test_entering_a_human_step_starts_its_step_clock_and_names_the_holder() -> None:
    running = at(acknowledge=started("acknowledge", None), resolve=started("resolve", None))
    after = restart_step_clocks(running, PLAIN, POLICY, MONDAY, S.REGISTRY_CHECK, S.BACK_OFFICE)
    assert after["step"].holder is Role.BACK_OFFICE
    assert (after["step"].remind_on, after["step"].due_on) == (date(2026, 12, 3), date(2026, 12, 7))
    assert after["acknowledge"].holder is Role.BACK_OFFICE
    assert after["resolve"].holder is Role.BACK_OFFICE
    assert running == at(acknowledge=started("acknowledge", None), resolve=started("resolve", None))


def test_waiting_for_the_household_pauses_the_resolve_clock_and_the_answer_resumes_it() -> None:
    running = at(resolve=started("resolve"), step=started())
    asked = restart_step_clocks(
        running, PLAIN, POLICY, MONDAY, S.BACK_OFFICE, S.AWAITING_INFORMATION
    )
    assert asked["resolve"].paused_since == MONDAY
    assert asked["step"].holder is Role.FACILITATOR
    thursday = date(2026, 12, 3)
    back = restart_step_clocks(
        asked, PLAIN, POLICY, thursday, S.AWAITING_INFORMATION, S.BACK_OFFICE
    )
    assert back["resolve"].paused_since is None
    assert back["resolve"].due_on == PLAIN.add(running["resolve"].due_on, 3)


def test_a_referral_keeps_only_the_referral_and_complaint_clocks() -> None:
    running = at(resolve=started("resolve"), step=started(), referral=started("referral"))
    referred = restart_step_clocks(running, PLAIN, POLICY, MONDAY, S.MANAGER_APPROVAL, S.REFERRED)
    assert set(referred) == {"resolve", "referral"}
    assert referred["resolve"].holder is Role.PROGRAM_MANAGER
    back = restart_step_clocks(referred, PLAIN, POLICY, MONDAY, S.REFERRED, S.BACK_OFFICE)
    assert set(back) == {"resolve", "step"}


def test_feedback_stops_the_complaint_clocks_and_without_a_policy_nothing_changes() -> None:
    running = at(acknowledge=started("acknowledge"), resolve=started("resolve"), step=started())
    told = restart_step_clocks(running, PLAIN, POLICY, MONDAY, S.BACK_OFFICE, S.FEEDBACK)
    assert set(told) == {"step"}
    assert told["step"].holder is Role.FACILITATOR
    assert restart_step_clocks(running, PLAIN, None, MONDAY, S.BACK_OFFICE, S.WITHDRAWN) == running


# --- What is due -------------------------------------------------------------------------


def test_nothing_is_due_before_the_reminder_mark() -> None:
    assert decide(at(step=started()), start_of(date(2026, 12, 3)) - timedelta(seconds=1)) == []


def test_the_reminder_mark_reminds_once() -> None:
    (remind,) = decide(at(step=started()), start_of(date(2026, 12, 3)))
    assert remind == Remind("step", started().model_copy(update={"reminded": True}))
    assert decide(at(step=remind.clock), start_of(date(2026, 12, 4))) == []


def test_a_missed_deadline_escalates_one_level_and_sets_the_next_levels_date() -> None:
    reminded = started().model_copy(update={"reminded": True})
    (breach,) = decide(at(step=reminded), end_of(date(2026, 12, 7)))
    assert isinstance(breach, Breach)
    assert (breach.kind, breach.target, breach.number, breach.missed) == (
        "step",
        "manager",
        1,
        date(2026, 12, 7),
    )
    assert breach.updated.breached
    assert breach.updated.next_escalation_on == date(2026, 12, 9)  # escalation interval: 2
    (second,) = decide(at(step=breach.updated), end_of(date(2026, 12, 9)))
    assert isinstance(second, Breach)
    assert (second.target, second.number, second.missed) == (
        "district_coordination",
        2,
        date(2026, 12, 9),
    )


def test_the_top_of_the_chain_is_alerted_once() -> None:
    clock = started().model_copy(update={"reminded": True, "escalations": 2})
    (breach,) = decide(at(step=clock), end_of(date(2026, 12, 7)))
    assert isinstance(breach, Breach)
    assert breach.target == "province"
    assert breach.updated.next_escalation_on is None


def test_a_referral_is_reminded_breached_then_expires_in_that_order() -> None:
    referral = started("referral")
    assert referral.expire_on is not None
    decisions = decide(at(referral=referral), end_of(referral.expire_on), S.REFERRED)
    assert [type(d) for d in decisions] == [Remind, Breach, Expire]
    breach = decisions[1]
    assert isinstance(breach, Breach)
    assert breach.target == "manager"
    assert breach.updated.reminded  # the breach builds on the reminded clock
    assert breach.updated.next_escalation_on is None  # a referral expires instead


def test_several_clocks_are_looked_at_in_a_fixed_order() -> None:
    running = at(step=started(), resolve=started("resolve"), acknowledge=started("acknowledge"))
    decisions = decide(running, end_of(date(2026, 12, 30)))
    assert [(type(d).__name__, d.kind) for d in decisions if isinstance(d, Remind | Breach)] == [
        ("Remind", "acknowledge"),
        ("Breach", "acknowledge"),
        ("Remind", "resolve"),
        ("Breach", "resolve"),
        ("Remind", "step"),
        ("Breach", "step"),
    ]


def test_the_registry_wait_and_the_reopen_window_come_before_the_clocks() -> None:
    running = at(step=started())
    late = end_of(date(2026, 12, 30))
    registry = due(
        step=S.REGISTRY_CHECK,
        registry_wait_until=date(2026, 12, 1),
        reopen_deadline=None,
        running=running,
        now=late,
        calendar=PLAIN,
        policy=POLICY,
    )
    assert registry == [RegistryTimedOut()]
    window = due(
        step=S.CLOSED,
        registry_wait_until=None,
        reopen_deadline=late,
        running=running,
        now=late,
        calendar=PLAIN,
        policy=POLICY,
    )
    assert window == [WindowOver()]


def test_the_next_moment_is_the_earliest_mark() -> None:
    running = at(step=started(), resolve=started("resolve"))
    assert next_moment(S.BACK_OFFICE, running, None, None) == start_of(date(2026, 12, 3))
    assert next_moment(S.REGISTRY_CHECK, {}, MONDAY, None) == end_of(MONDAY)
    deadline = datetime(2026, 12, 14, tzinfo=UTC)
    assert next_moment(S.CLOSED, {}, None, deadline) == deadline
    assert next_moment(S.CLOSED, {}, None, None) is None
