"""The complaint-handling read model, fed real lifecycle events through the real broker.

The figures asserted here are worked out by hand from ``stories.district_stories()``.
"""

from __future__ import annotations

import re
from datetime import date

import asyncpg
import pytest

from services.dashboard.figures import Filters, collect
from services.dashboard.rebuild import rebuild
from services.dashboard.settings import DashboardSettings
from slrt.contracts.envelope import Envelope, to_kafka
from slrt.contracts.events import ComplaintTransitioned, ProgramCatalogEntry
from slrt.contracts.vocabulary import Category, ProgramChannel
from slrt.kafka import EventProducer
from tests.dashboard.stories import VILLAGE_A, VILLAGE_B, district_stories
from tests.support.dashboard import consume, publish
from tests.support.harness import RealStack
from tests.support.kafka_tools import read_topic

TODAY = date(2026, 12, 1)


def _catalog(code: str, agency: str) -> ProgramCatalogEntry:
    return ProgramCatalogEntry(
        code=code,
        name=code.upper(),
        level="national",
        owner_agency=agency,
        channel=ProgramChannel.DIRECT,
        categories=[Category.IMPLEMENTATION, Category.PROGRAM_NEED],
        sla_working_days=10,
        version=1,
    )


async def _feed(settings: DashboardSettings, producer: EventProducer) -> int:
    """Publish the stories (every transition twice: once redelivered with the same event id,
    once republished under a new id) and the catalog; returns the number of messages."""
    sent = 0
    for code, agency in (("pkh", "Ditjen Linjamsos, Kemensos"), ("bpnt", "Perum BULOG")):
        await publish(producer, settings.catalog_topic, _catalog(code, agency), code)
        sent += 1
    for story in district_stories():
        for event in story.events:
            subject = str(story.complaint_id)
            envelope = await publish(producer, settings.lifecycle_topic, event, subject)
            await publish(producer, settings.lifecycle_topic, event, subject, id=envelope.id)
            await publish(producer, settings.lifecycle_topic, event, subject)
            sent += 3
    return sent


async def test_figures_from_real_events_match_the_hand_count(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    sent = await _feed(dashboard_settings, producer)
    consumer = await consume(dashboard_settings, dashboard_pool, producer, expect=sent)
    assert consumer.dead_lettered == 0
    figures = await collect(dashboard_pool, Filters(area="320405"), TODAY)  # scans in parallel
    transitions = await dashboard_pool.fetchval("SELECT count(*) FROM transitions")
    assert transitions == sum(len(s.events) for s in district_stories())

    s = figures["summary"]
    assert (s["complaints"], s["open"], s["closed"]) == (4, 2, 2)
    assert (s["escalated"], s["escalations"], s["repeats"], s["reopened"]) == (1, 1, 1, 1)
    assert (s["satisfied"], s["responses"]) == (1, 2)
    # Acknowledged on time: the referred (day 1) and the expired one (day 3 ≤ 9 Nov); the
    # reopened one answered on day 5 (7 Nov) after its 5 Nov promise.
    assert (s["ack_on_time"], s["ack_due"]) == (2, 3)
    # Resolved on time: two; the expired one is past its 18 Nov due date unresolved.
    assert (s["resolve_on_time"], s["resolve_due"]) == (2, 3)
    # Outcomes after 4 days (referral accepted) and 0 days (information answered).
    assert s["with_outcome"] == 2
    assert s["median_days"] == pytest.approx(2.0)
    assert s["p90_days"] == pytest.approx(3.6)

    places = {p["key"]: (p["complaints"], p["open"]) for p in figures["places"]}
    assert places == {VILLAGE_A: (2, 1), VILLAGE_B: (2, 1)}
    assert {r["key"]: r["complaints"] for r in figures["category"]} == {
        "membership": 1,
        "implementation": 1,
        "information": 1,
        "program_need": 1,
    }
    assert {r["key"]: r["complaints"] for r in figures["program"]} == {"pkh": 1, "bpnt": 1, "-": 2}
    assert [(r["key"], r["complaints"]) for r in figures["funnel"]] == [
        ("received", 4),
        ("registered", 3),
        ("registry_check", 3),
        ("back_office", 3),
        ("manager_approval", 2),
        ("referred", 2),
        ("feedback", 2),
        ("closed", 2),
    ]
    agencies = {a["key"]: a for a in figures["agencies"]}
    assert agencies["pkh"]["agency"] == "Ditjen Linjamsos, Kemensos"
    assert (agencies["pkh"]["referrals"], agencies["pkh"]["answered"]) == (1, 1)
    assert agencies["pkh"]["accepted"] == 1
    assert agencies["pkh"]["median_days_to_answer"] == pytest.approx(2.0)
    assert agencies["bpnt"]["agency"] == "Perum BULOG"
    assert (agencies["bpnt"]["answered"], agencies["bpnt"]["no_response"]) == (0, 1)


async def test_filters_narrow_every_figure(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    sent = await _feed(dashboard_settings, producer)
    await consume(dashboard_settings, dashboard_pool, producer, expect=sent)
    async with dashboard_pool.acquire() as conn:
        later = await collect(conn, Filters(area="3204", start=date(2026, 11, 3)), TODAY)
        membership = await collect(conn, Filters(area="32", category="membership"), TODAY)
        village = await collect(conn, Filters(area=VILLAGE_B), TODAY)
        elsewhere = await collect(conn, Filters(area="3205"), TODAY)
    assert later["summary"]["complaints"] == 1  # only the story that starts on day 2
    assert [a["key"] for a in later["agencies"]] == ["bpnt"]
    assert membership["summary"]["complaints"] == 1
    assert [p["key"] for p in membership["places"]] == ["3204"]
    assert village["summary"]["complaints"] == 2
    assert village["places"] == []  # a village has no level below it
    assert elsewhere["summary"]["complaints"] == 0


async def test_rebuilding_from_the_topic_gives_the_same_figures(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    sent = await _feed(dashboard_settings, producer)
    await consume(dashboard_settings, dashboard_pool, producer, expect=sent)
    filters = Filters(area="3204")
    async with dashboard_pool.acquire() as conn:
        before = await collect(conn, filters, TODAY)
        # Damage the read model: a lost complaint and a bogus one must both be set right.
        await conn.execute("DELETE FROM complaint_facts WHERE category = 'information'")
        await conn.execute(
            "UPDATE complaint_facts SET place_code = '3204019999', open = true "
            "WHERE category = 'membership'"
        )
        damaged = await collect(conn, filters, TODAY)
    assert damaged != before

    applied = await rebuild(dashboard_settings, dashboard_pool)

    async with dashboard_pool.acquire() as conn:
        after = await collect(conn, filters, TODAY)
    assert after == before
    # Each distinct event once: 2 catalog entries and every transition's two distinct ids.
    assert applied == 2 + 2 * sum(len(s.events) for s in district_stories())


async def test_a_rebuild_replays_everything_every_time_it_is_run(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    """Operators may run a rebuild again. Each run starts every partition at its beginning:
    a reset race once left a partition at its end with nothing replayed, and the replay then
    waited for it for ever (about one run in thirty)."""
    sent = await _feed(dashboard_settings, producer)
    await consume(dashboard_settings, dashboard_pool, producer, expect=sent)
    every_event = 2 + 2 * sum(len(s.events) for s in district_stories())
    applied = [await rebuild(dashboard_settings, dashboard_pool) for _ in range(12)]
    assert applied == [every_event] * 12


async def test_a_rebuild_from_a_missing_topic_is_refused_and_changes_nothing(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    sent = await _feed(dashboard_settings, producer)
    await consume(dashboard_settings, dashboard_pool, producer, expect=sent)
    before = await dashboard_pool.fetchval("SELECT count(*) FROM complaint_facts")
    missing = dashboard_settings.model_copy(update={"catalog_topic": "test.no-such-topic"})
    with pytest.raises(ValueError, match=re.escape("topic not found: test.no-such-topic")):
        await rebuild(missing, dashboard_pool)
    assert await dashboard_pool.fetchval("SELECT count(*) FROM complaint_facts") == before == 4


async def test_an_event_that_breaks_the_contract_is_dead_lettered_and_the_rest_counted(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    real_stack: RealStack,
) -> None:
    story = district_stories()[2]  # the information request: received, closed
    broken = Envelope(
        type=ComplaintTransitioned.event_type,
        source="/slrt/routing",
        subject=str(story.complaint_id),
        data={"complaint_id": str(story.complaint_id), "sequence": 0},
    )
    await (await producer.send(dashboard_settings.lifecycle_topic, broken))
    for event in story.events:
        await publish(producer, dashboard_settings.lifecycle_topic, event, str(story.complaint_id))
    consumer = await consume(dashboard_settings, dashboard_pool, producer, expect=3)
    assert consumer.dead_lettered == 1
    dead = await read_topic(
        real_stack.kafka_bootstrap, f"{dashboard_settings.lifecycle_topic}.dlq", expect=1
    )
    assert [r.value for r in dead] == [to_kafka(broken)[2]]
    async with dashboard_pool.acquire() as conn:
        figures = await collect(conn, Filters(area=VILLAGE_B), TODAY)
    assert (figures["summary"]["complaints"], figures["summary"]["closed"]) == (1, 1)
