"""Acting on the clock rules' decisions: reminders to whoever holds the step, escalations one
level up per breach, the referral's expiry, back office going ahead without the registry, the
end of the reopen window. What is due is decided in ``clock_rules`` (pure); this module only
records and notifies."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.contacts import HouseholdMessage
from slrt.contracts.transitions import Reason
from slrt.contracts.vocabulary import NotificationKind
from workflows.complaint import clock_rules, journal, stage_registry
from workflows.complaint.clock_rules import Breach, Expire, RegistryTimedOut, Remind, WindowOver
from workflows.complaint.stage_closing import may_reopen, reopen_deadline
from workflows.complaint.stage_referral import expire
from workflows.complaint.state import Complaint
from workflows.escalation import staff_destination
from workflows.model import Clock

S = ComplaintStep


def sla_now(c: Complaint) -> datetime:
    return c.clocks.on_sla_clock(workflow.now())


def real_wait(c: Complaint, sla_interval: timedelta) -> timedelta:
    return clock_rules.real_wait(sla_interval, c.clocks.speed)


def next_moment(c: Complaint) -> datetime | None:
    reopenable = c.step is S.CLOSED and c.outcome.closed_on is not None and may_reopen(c)
    moment = clock_rules.next_moment(
        c.step,
        c.clocks.running,
        c.registry.wait_until,
        reopen_deadline(c) if reopenable else None,
    )
    results = stage_registry.next_moment(c)  # None unless waiting for registry results
    if results is None:
        return moment
    return results if moment is None else min(moment, results)


def fire(c: Complaint, now: datetime) -> None:
    """Act on every mark that has passed: reminders, breaches, expiry, windows."""
    journal.changed(c)
    if stage_registry.wait_over(c, now):
        return
    closed = c.step is S.CLOSED and c.outcome.closed_on is not None and not c.outcome.window_over
    decisions = clock_rules.due(
        step=c.step,
        registry_wait_until=c.registry.wait_until,
        reopen_deadline=reopen_deadline(c) if closed else None,
        running=c.clocks.running,
        now=now,
        calendar=c.clocks.calendar,
        policy=c.clocks.policy_or_fail(),
    )
    for decision in decisions:
        match decision:
            case RegistryTimedOut():
                c.registry.wait_until = None
                c.referral.options_fresh = False
                journal.move(c, S.BACK_OFFICE, None, reason=Reason.REGISTRY_NO_ANSWER)
            case WindowOver():
                final = c.outcome.final
                if final is not None:
                    journal.tell_household(c, HouseholdMessage.FINAL, {"outcome": final.value})
                c.outcome.window_over = True
                c.finished = not stage_registry.holds_run(c)
            case Remind(kind=kind, clock=clock):
                c.clocks.running[kind] = clock
                _remind(c, clock)
            case Breach():
                _breach(c, decision)
            case Expire():
                expire(c)


def _remind(c: Complaint, clock: Clock) -> None:
    params = {
        "ticket": c.submitted.ticket_number,
        "clock": clock.kind,
        "step": c.step.value,
        "due_on": clock.due_on.isoformat(),
    }
    referral = c.referral.current
    if clock.kind == "referral" and referral is not None:
        journal.notify(
            c, NotificationKind.REMINDER, referral.plan.destination, "referral_reminder", params
        )
    elif clock.holder is not None:
        journal.notify(
            c,
            NotificationKind.REMINDER,
            staff_destination(clock.holder.value, c.submitted.village_code),
            "step_at_risk",
            params,
        )


def _breach(c: Complaint, breach: Breach) -> None:
    c.clocks.running[breach.kind] = breach.updated
    c.clocks.escalation_count += 1
    params = {
        "ticket": c.submitted.ticket_number,
        "clock": breach.kind,
        "step": c.step.value,
        "due_on": breach.missed.isoformat(),
        "level": breach.number,
    }
    journal.notify(
        c,
        NotificationKind.ESCALATION,
        staff_destination(breach.target, c.submitted.village_code),
        "sla_breached",
        params,
        breached=True,
    )
    referral = c.referral.current
    if breach.kind == "referral" and referral is not None:
        journal.notify(
            c,
            NotificationKind.REMINDER,
            referral.plan.destination,
            "referral_overdue",
            params,
            breached=True,
        )
    journal.move(
        c,
        c.step,
        None,
        reason=Reason.breached(breach.kind),
        details={
            "clock": breach.kind,
            "escalated_to": breach.target,
            "escalation": breach.number,
            "due_on": breach.missed.isoformat(),
        },
    )
