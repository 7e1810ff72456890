"""Every clock, on the time-skipping server: reminders, breaches, escalation order, expiry,
registry timeout and the reopen window. Updates here return at once (no update waits on time).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from services.routing.activities import sla_policy_from
from services.routing.settings import RoutingSettings
from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    SIGNAL_REGISTRY_RESULT,
    UPDATE_BACK_OFFICE,
    UPDATE_FEEDBACK,
    BackOfficeAction,
    ComplaintState,
    ComplaintStep,
    FacilitatorFeedback,
    Outcome,
)
from slrt.contracts.events import ComplaintSubmitted
from tests.support.complaints import Driven, actor, registry_answer, request_id, submitted
from workflows.working_days import WorkingCalendar, end_of, indonesian_days_off

S = ComplaintStep
Drive = Callable[[ComplaintSubmitted], Awaitable[Driven]]
SETTINGS = RoutingSettings()
YEARS = range(2025, 2030)
CALENDAR = WorkingCalendar(indonesian_days_off(YEARS))


def breaches(state: ComplaintState, clock: str) -> list[tuple[str, str]]:
    return [
        (h.details["escalated_to"], h.details["due_on"])
        for h in state.history
        if h.reason == f"{clock}_breached"
    ]


def sent(state: ComplaintState, template: str) -> list[dict[str, Any]]:
    return [n for n in state.notifications if n["template"] == template]


def test_the_policy_covers_the_years_a_complaint_can_live_in() -> None:
    policy = sla_policy_from(SETTINGS, datetime(2026, 11, 27, tzinfo=UTC))
    assert date(2026, 12, 24) in policy.days_off  # cuti bersama (holidays, GOVERNMENT)
    assert date(2026, 12, 25) in policy.days_off  # Christmas (holidays package)
    assert date(2028, 1, 1) in policy.days_off
    assert (policy.step_days, policy.resolve_days, policy.reopen_window_days) == (5, 20, 14)


async def test_a_stuck_back_office_step_reminds_then_escalates_one_level_at_a_time(
    drive_skipping: Drive, time_skipping_env: WorkflowEnvironment
) -> None:
    c = await drive_skipping(submitted())
    at_back = await c.answer_registry()
    step = at_back.clocks["step"]
    started = date.fromisoformat(step["started_on"])
    due = CALENDAR.add(started, 5)
    assert date.fromisoformat(step["remind_on"]) == CALENDAR.add(started, 3)
    assert at_back.snapshot.step_due == due
    resolve_started = date.fromisoformat(at_back.clocks["resolve"]["started_on"])
    assert at_back.snapshot.resolve_due == CALENDAR.add(resolve_started, 20)

    await time_skipping_env.sleep(timedelta(days=45))
    final = await c.until(lambda s: len(breaches(s, "step")) == 3)
    second = CALENDAR.add(due, 2)
    third = CALENDAR.add(second, 2)
    assert breaches(final, "step") == [
        ("manager", due.isoformat()),
        ("district_coordination", second.isoformat()),
        ("province", third.isoformat()),
    ]
    # Acknowledge and resolve clocks escalated too, each one level per breach, in order.
    assert [t for t, _ in breaches(final, "acknowledge")] == [
        "manager",
        "district_coordination",
        "province",
    ]
    assert [t for t, _ in breaches(final, "resolve")][:1] == ["manager"]
    assert final.snapshot.overdue
    assert final.snapshot.escalation_count == sum(
        len(breaches(final, k)) for k in ("acknowledge", "resolve", "step")
    )
    # The at-risk reminder went to back office (digest), the escalations out at once.
    reminders = [n for n in sent(final, "step_at_risk") if n["destination"] == "back_office:3204"]
    assert reminders
    assert not any(n["breached"] for n in reminders)
    escalations = [n for n in final.notifications if n["kind"] == "escalation"]
    assert escalations
    assert all(n["breached"] for n in escalations)
    assert {n["destination"] for n in escalations} == {
        "manager:3204",
        "district_coordination:3204",
        "province:32",
    }
    # Still waiting for back office: nothing stalls silently, nothing was closed for it.
    assert final.snapshot.step is S.BACK_OFFICE


async def test_an_unanswered_referral_is_reminded_escalated_then_expires_as_no_response(
    drive_skipping: Drive, time_skipping_env: WorkflowEnvironment
) -> None:
    c = await drive_skipping(submitted(program="PKH"))
    await c.answer_registry()
    sent_out = await c.to_referral()
    referred = await c.state()
    clock = referred.clocks["referral"]
    started = date.fromisoformat(clock["started_on"])
    due = CALENDAR.add(started, 10)  # PKH's SLA in the catalog: 10 working days
    expiry = CALENDAR.add(due, SETTINGS.referral_expiry_extra_days)
    assert sent_out.step_due == due
    assert date.fromisoformat(clock["remind_on"]) == CALENDAR.add(started, 7)
    assert date.fromisoformat(clock["expire_on"]) == expiry

    await time_skipping_env.sleep(timedelta(days=40))
    back = await c.until(lambda s: any(h.reason == "no_response" for h in s.history))
    assert back.snapshot.step is S.BACK_OFFICE
    (expiry_entry,) = [h for h in back.history if h.reason == "no_response"]
    assert expiry_entry.decision_code == "no_response"
    assert expiry_entry.at.date() >= expiry
    assert breaches(back, "referral") == [("manager", due.isoformat())]
    reminder, overdue = sent(back, "referral_reminder"), sent(back, "referral_overdue")
    assert [(n["destination"], n["breached"]) for n in reminder] == [("PKH", False)]
    assert [(n["destination"], n["breached"]) for n in overdue] == [("PKH", True)]
    expired = sent(back, "referral_no_response")
    assert [(n["destination"], n["breached"]) for n in expired] == [("manager:3204", True)]
    # Order: reminder before the breach alert, breach before expiry.
    order = [n["template"] for n in back.notifications if n["destination"] in ("PKH",)]
    assert order == ["referral", "referral_reminder", "referral_overdue"]
    assert back.snapshot.referral_destination is None


async def test_without_a_registry_answer_back_office_goes_ahead_and_a_late_answer_attaches(
    drive_skipping: Drive, time_skipping_env: WorkflowEnvironment
) -> None:
    c = await drive_skipping(submitted())
    checking = await c.at(S.REGISTRY_CHECK)
    assert checking.snapshot.registry is None
    request = await c.registry_request()
    await time_skipping_env.sleep(timedelta(days=5))
    back = await c.until(lambda s: any(h.reason == "registry_no_answer" for h in s.history))
    (went_ahead,) = [h for h in back.history if h.reason == "registry_no_answer"]
    assert (went_ahead.from_step, went_ahead.to_step) == (S.REGISTRY_CHECK, S.BACK_OFFICE)
    wait_until = CALENDAR.add(date.fromisoformat(back.clocks["resolve"]["started_on"]), 1)
    assert went_ahead.at >= end_of(wait_until)
    await c.handle.signal(SIGNAL_REGISTRY_RESULT, registry_answer(c.complaint, request.request_id))
    attached = await c.until(lambda s: any(h.reason == "registry_attached" for h in s.history))
    assert attached.snapshot.registry is not None
    assert attached.snapshot.step is S.BACK_OFFICE


async def test_a_closed_complaint_waits_the_reopen_window_then_ends(
    drive_skipping: Drive, time_skipping_env: WorkflowEnvironment
) -> None:
    c = await drive_skipping(submitted())
    await c.answer_registry()
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=actor(Role.BACK_OFFICE),
            request_id=request_id(),
            kind="resolve",
            answer="Paid on 2 December",
            decision_code="paid_late",
        ),
    )
    closed = await c.act(
        UPDATE_FEEDBACK,
        FacilitatorFeedback(
            actor=actor(Role.FACILITATOR),
            request_id=request_id(),
            household_told=True,
            visited_on=date(2026, 12, 1),
        ),
    )
    assert closed.step is S.CLOSED
    open_for_appeal = await c.handle.describe()
    assert open_for_appeal.status == WorkflowExecutionStatus.RUNNING
    # Skip explicitly (not by awaiting the result): other tests' workflows cannot hold it up.
    await time_skipping_env.sleep(timedelta(days=SETTINGS.reopen_window_days, hours=1))
    result = await c.handle.result()
    assert result.step is S.CLOSED
    assert result.outcome is Outcome.RESOLVED_LOCALLY
    final = await c.state()
    closed_at = next(h.at for h in final.history if h.to_step is S.CLOSED)
    description = await c.handle.describe()
    assert description.close_time is not None
    assert description.close_time - closed_at >= timedelta(days=SETTINGS.reopen_window_days)
