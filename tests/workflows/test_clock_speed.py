"""A sped-up SLA clock (``SLRT_ROUTING_SLA_CLOCK_SPEED``), on the dev server in real time: the
same code path as production, only the clock runs faster. A referral whose deadline is weeks
ahead on the SLA clock expires as ``no_response`` within seconds, while every recorded time
stays real."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from services.routing.settings import RoutingSettings
from slrt.contracts.complaints import (
    ComplaintStep,
)
from slrt.contracts.events import ComplaintSubmitted
from tests.support.complaints import Driven, submitted

S = ComplaintStep
SPEED = 200_000.0
"""A calendar day on the SLA clock lasts 0.43 s of real time."""


@pytest.fixture
def routing_settings() -> RoutingSettings:
    return RoutingSettings(sla_clock_speed=SPEED)


async def test_a_fast_clock_expires_an_unanswered_referral_in_seconds_and_keeps_real_times(
    drive: Callable[[ComplaintSubmitted], Awaitable[Driven]],
) -> None:
    began = datetime.now(UTC)
    c = await drive(submitted(program="PKH"))
    # Nobody answers the registry check: its one-working-day wait passes on the fast clock.
    at_back = await c.until(
        lambda s: any(h.reason == "registry_no_answer" for h in s.history), timeout=60
    )
    assert at_back.snapshot.step is S.BACK_OFFICE
    await c.to_referral()

    back = await c.until(lambda s: any(h.reason == "no_response" for h in s.history), timeout=90)
    assert back.snapshot.step is S.BACK_OFFICE
    (expired,) = [h for h in back.history if h.reason == "no_response"]
    # The referral clock's marks were set weeks ahead on the SLA clock (PKH: 10 working days,
    # then 10 more before expiry) …
    referral_started = next(h for h in back.history if h.to_step is S.REFERRED)
    referral_breach = next(h for h in back.history if h.reason == "referral_breached")
    due_on = date.fromisoformat(referral_breach.details["due_on"])
    assert due_on - began.date() >= timedelta(days=14)
    # … yet every entry, the expiry included, is stamped with the real time it happened.
    now = datetime.now(UTC)
    assert all(began <= h.at <= now for h in back.history)
    assert referral_started.at <= expired.at
    # The reminder, the breach alert and the expiry notice went out in that order, as at speed 1.
    templates = [n["template"] for n in back.notifications if n["destination"] == "PKH"]
    assert templates == ["referral", "referral_reminder", "referral_overdue"]
    assert [
        n["destination"] for n in back.notifications if n["template"] == "referral_no_response"
    ] == ["manager:3204"]
