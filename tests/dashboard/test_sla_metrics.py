"""The SLA gauges of open complaints: counted from a read model fed through the real broker,
exported in the Prometheus text format, and served by the running dashboard on ``/metrics``."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import date
from pathlib import Path

import asyncpg
import httpx
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.dashboard.domain.facts import fold
from services.dashboard.settings import DashboardSettings
from services.dashboard.sla_metrics import GAUGES, SlaCount, SlaGauges, count_open
from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.vocabulary import Category, Channel
from slrt.kafka import EventProducer
from slrt.metrics import REGISTRY
from tests.dashboard.stories import Story, district_stories, spread_stories
from tests.support.dashboard import consume, publish, start_dashboard

S = ComplaintStep
TODAY = date(2026, 11, 10)
BANDUNG, BANDUNG_CITY = "3204052001", "3273010001"
Samples = dict[tuple[str, str, str], float]


def story(place: str, ack_due: date, resolve_due: date = date(2026, 11, 30)) -> Story:
    return Story(
        place, Category.IMPLEMENTATION, Channel.PUSKESOS_WALK_IN, "pkh", 0, ack_due, resolve_due
    ).intake()


def sla_stories() -> list[Story]:
    """Judged on 10 Nov 2026 with a two-day horizon (10–12 Nov)."""
    late_ack = story(BANDUNG, date(2026, 11, 9))
    ack_tomorrow = story(BANDUNG, date(2026, 11, 11))
    ack_today = story(BANDUNG, date(2026, 11, 10))  # due today: not late yet, at risk
    late_resolve = story(BANDUNG, date(2026, 11, 5), date(2026, 11, 5))
    late_resolve.step(S.MANAGER_APPROVAL, 1)  # leaving back office acknowledged it in time
    on_track = story(BANDUNG, date(2026, 11, 5))
    on_track.step(S.MANAGER_APPROVAL, 1).step(S.REFERRED, 1, role="manager")
    closed_late = story(BANDUNG, date(2026, 11, 3), date(2026, 11, 4))
    closed_late.step(S.CLOSED, 9, outcome=Outcome.RESOLVED_LOCALLY)  # not open: not counted
    horizon_edge = story(BANDUNG_CITY, date(2026, 11, 12))
    return [late_ack, ack_tomorrow, ack_today, late_resolve, on_track, closed_late, horizon_edge]


def samples(text: str) -> Samples:
    """(metric, step, district) → value of the SLA gauges in a Prometheus text exposition."""
    return {
        (s.name, s.labels["step"], s.labels["district"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name
        in ("slrt_complaints_open", "slrt_complaints_at_risk", "slrt_complaints_breached")
        for s in family.samples
    }


async def test_open_complaints_are_counted_per_step_and_district_with_their_sla_state(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    stories = sla_stories()
    for s in stories:
        for event in s.events:
            await publish(producer, dashboard_settings.lifecycle_topic, event, str(s.complaint_id))
    await consume(dashboard_settings, dashboard_pool, producer, sum(len(s.events) for s in stories))

    async with dashboard_pool.acquire() as conn:
        GAUGES.update(await count_open(conn, TODAY, at_risk_days=2), time.time())
    exported = samples(generate_latest(REGISTRY).decode())

    assert exported == {
        ("slrt_complaints_open", "back_office", "3204"): 3,
        ("slrt_complaints_at_risk", "back_office", "3204"): 2,
        ("slrt_complaints_breached", "back_office", "3204"): 1,
        ("slrt_complaints_open", "manager_approval", "3204"): 1,
        ("slrt_complaints_at_risk", "manager_approval", "3204"): 0,
        ("slrt_complaints_breached", "manager_approval", "3204"): 1,
        ("slrt_complaints_open", "referred", "3204"): 1,
        ("slrt_complaints_at_risk", "referred", "3204"): 0,
        ("slrt_complaints_breached", "referred", "3204"): 0,
        ("slrt_complaints_open", "back_office", "3273"): 1,
        ("slrt_complaints_at_risk", "back_office", "3273"): 1,
        ("slrt_complaints_breached", "back_office", "3273"): 0,
    }


def test_a_step_without_open_complaints_leaves_the_export() -> None:
    gauges = SlaGauges()
    gauges.update([SlaCount("referred", "3204", 2, 1, 0), SlaCount("feedback", "3204", 1, 0, 1)], 1)
    gauges.update([SlaCount("feedback", "3204", 1, 0, 1)], 2)
    families = {f.name: f for f in gauges.collect()}
    assert [s.labels for s in families["slrt_complaints_open"].samples] == [
        {"step": "feedback", "district": "3204"}
    ]
    assert families["slrt_complaints_sla_refreshed_timestamp_seconds"].samples[0].value == 2


async def test_the_running_dashboard_serves_the_open_counts_on_metrics(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    tmp_path: Path,
) -> None:
    folds = [fold(s.events) for s in district_stories() + spread_stories()]
    expected = Counter((f.step, f.place_code[:4]) for f in folds if f.open)
    assert expected, "the stories leave some complaints open"
    extra = {"SLRT_DASHBOARD_SLA_METRICS_SECONDS": "0.2"}
    async with (
        start_dashboard(dashboard_settings, dashboard_pool, producer, tmp_path, extra) as running,
        httpx.AsyncClient(base_url=running.url) as http,
    ):
        caught_up = time.time()  # the read model holds every story from here on
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            text = (await http.get("/metrics")).text
            refreshed = [
                s.value
                for f in text_string_to_metric_families(text)
                if f.name == "slrt_complaints_sla_refreshed_timestamp_seconds"
                for s in f.samples
            ]
            if refreshed and refreshed[0] > caught_up:
                break
            assert asyncio.get_running_loop().time() < deadline, "the gauges were not refreshed"
            await asyncio.sleep(0.2)
    served = {
        (step, district): value
        for (name, step, district), value in samples(text).items()
        if name == "slrt_complaints_open"
    }
    assert served == {key: float(n) for key, n in expected.items()}
