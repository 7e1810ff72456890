"""The national read model's rollups, kept by the consumer one event at a time, equal a
from-scratch computation over the facts; the national and provincial figures read from them
equal the figures computed from the facts.

Real events through the real broker: every story's transitions arrive shuffled (a later step
before an earlier one, so a complaint is refolded through states it never had in that order),
redelivered and republished; one complaint is closed, reopened, closed and reopened again.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import asyncpg
import pytest

from services.dashboard.domain import rollup
from services.dashboard.figures import (
    Filters,
    agencies,
    by_place,
    collect,
    funnel,
    information_topics,
    uses_rollups,
    volumes,
)
from services.dashboard.settings import DashboardSettings
from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.vocabulary import Category, Channel
from slrt.kafka import EventProducer
from tests.dashboard.stories import Story, district_stories, spread_stories
from tests.support.dashboard import consume, publish

pytestmark = pytest.mark.timeout(300)

TODAY = date(2026, 12, 1)
S = ComplaintStep


def _back_and_forth() -> Story:
    """Closed, reopened (not satisfied), closed again, reopened again: open at the end."""
    story = Story(
        "3302012001",
        Category.IMPLEMENTATION,
        Channel.PUSKESOS_WALK_IN,
        "pkh",
        acknowledge_due=date(2026, 11, 5),
        resolve_due=date(2026, 11, 16),
    ).intake()
    for round_ in range(2):
        story.step(S.FEEDBACK, 2 + 4 * round_, reason="resolved_locally")
        story.step(
            S.CLOSED,
            3 + 4 * round_,
            role="facilitator",
            details={"household_response": "not_satisfied"},
            outcome=Outcome.RESOLVED_LOCALLY,
        )
        story.step(
            S.BACK_OFFICE,
            4 + 4 * round_,
            role="facilitator",
            reason="reopened_not_satisfied",
            details={"household_response": "not_satisfied"},
            reopened=True,
            outcome=None,
        )
    return story


async def _feed(settings: DashboardSettings, producer: EventProducer) -> int:
    rng = random.Random(3)
    sent = 0
    for story in [*district_stories(), *spread_stories(), _back_and_forth()]:
        events = list(story.events)
        rng.shuffle(events)
        subject = str(story.complaint_id)
        for event in events:
            envelope = await publish(producer, settings.lifecycle_topic, event, subject)
            await publish(producer, settings.lifecycle_topic, event, subject, id=envelope.id)
            await publish(producer, settings.lifecycle_topic, event, subject)
            sent += 3
    return sent


async def _rows(conn: Any, sql: str, keys: int) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Rows keyed by their first ``keys`` columns, all-zero rows left out (a complaint that
    moved leaves a row of zeros behind)."""
    found = {}
    for r in await conn.fetch(sql):
        values = tuple(r.values())
        if any(values[keys:]):
            found[values[:keys]] = values[keys:]
    return found


def _approx_equal(a: Any, b: Any) -> None:
    """Counts equal; percentiles within the histogram's bucket (a tenth of a day here)."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            if key in ("median_days", "p90_days", "median_days_to_answer"):
                if a[key] is None or b[key] is None:
                    assert a[key] is None, key
                    assert b[key] is None, key
                else:
                    assert float(a[key]) == pytest.approx(float(b[key]), abs=0.1), key
            else:
                _approx_equal(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _approx_equal(x, y)
    else:
        assert a == b


async def test_incremental_rollups_equal_a_from_scratch_computation(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    sent = await _feed(dashboard_settings, producer)
    consumer = await consume(dashboard_settings, dashboard_pool, producer, expect=sent)
    assert consumer.dead_lettered == 0
    async with dashboard_pool.acquire() as conn:
        back_and_forth = await conn.fetchrow(
            "SELECT open, reopened, closed_at FROM complaint_facts WHERE place_code = $1",
            "3302012001",
        )
        assert back_and_forth is not None
        assert (back_and_forth["open"], back_and_forth["reopened"]) == (True, True)
        assert back_and_forth["closed_at"] is None
        for table, scratch, keys in (
            ("complaint_rollup", rollup.COMPLAINT_ROLLUP_FROM_FACTS, 6),
            ("referral_rollup", rollup.REFERRAL_ROLLUP_FROM_FACTS, 5),
            ("duration_histogram", rollup.HISTOGRAM_FROM_FACTS, 5),
        ):
            columns = (
                "*"
                if table != "complaint_rollup"
                else (
                    "page_area, child, month, category, program_code, channel, "
                    + ", ".join(rollup.COMPLAINT_COLUMNS)
                )
            )
            if table == "referral_rollup":
                columns = "page_area, month, category, program_code, destination, " + ", ".join(
                    rollup.REFERRAL_COLUMNS
                )
            kept = await _rows(conn, f"SELECT {columns} FROM {table}", keys)  # noqa: S608
            computed = await _rows(conn, scratch, keys)
            assert kept, table
            assert kept == computed, table
        # The from-scratch reference is itself right: one row per page and complaint.
        complaints = await conn.fetchval("SELECT count(*) FROM complaint_facts")
        assert (
            await conn.fetchval("SELECT sum(complaints) FROM complaint_rollup WHERE page_area = ''")
            == complaints
        )
    assert complaints == len(district_stories()) + len(spread_stories()) + 1


@pytest.mark.parametrize(
    "filters",
    [
        Filters(area=""),
        Filters(area="32"),
        Filters(area="", start=date(2026, 11, 1)),  # a whole month from the rollups
        Filters(area="", start=date(2026, 11, 10)),  # days from the facts, months after
        Filters(area="32", start=date(2026, 11, 5), end=date(2026, 11, 20)),  # days only
        Filters(area="", category="implementation"),  # percentiles exact from the facts
        Filters(area="35", program="pkh"),
    ],
    ids=["national", "province", "month", "edge-days", "days-only", "category", "program"],
)
async def test_figures_from_the_rollups_equal_the_figures_from_the_facts(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    filters: Filters,
) -> None:
    sent = await _feed(dashboard_settings, producer)
    await consume(dashboard_settings, dashboard_pool, producer, expect=sent)
    assert uses_rollups(filters)
    async with dashboard_pool.acquire() as conn:
        rolled = await collect(conn, filters, TODAY)
        total, places = await by_place(conn, filters, TODAY, len(filters.area) + 2)
        from_facts = {
            "summary": total,
            "places": places,
            **await volumes(conn, filters),
            "funnel": await funnel(conn, filters),
            "agencies": await agencies(conn, filters),
            "topics": await information_topics(conn, filters),  # always from the facts
        }
    assert rolled["summary"]["complaints"] > 0
    _approx_equal(rolled, from_facts)


@pytest.mark.unit
def test_the_migration_backfills_with_the_same_statements() -> None:
    """The migration's backfill is the from-scratch computation the tests compare against."""
    from pathlib import Path

    import services.dashboard

    text = (
        Path(services.dashboard.__file__).parent / "migrations" / "0003_rollups.sql"
    ).read_text()
    flat = " ".join(text.split())
    for statement in (
        rollup.COMPLAINT_ROLLUP_FROM_FACTS,
        rollup.REFERRAL_ROLLUP_FROM_FACTS,
        rollup.HISTOGRAM_FROM_FACTS,
    ):
        assert " ".join(statement.split()) in flat


@pytest.mark.unit
def test_a_histogram_percentile_stays_within_its_bucket() -> None:
    from datetime import timedelta

    rng = random.Random(1)
    durations = [timedelta(seconds=rng.randrange(0, 40 * 86400)) for _ in range(501)]
    counts: dict[int, int] = {}
    for d in durations:
        b = rollup.bucket(d)
        counts[b] = counts.get(b, 0) + 1
    days = sorted(d.total_seconds() / 86400 for d in durations)
    for q in (0.5, 0.9):
        position = q * (len(days) - 1)
        low = int(position)
        exact = days[low] + (position - low) * (days[min(low + 1, len(days) - 1)] - days[low])
        _, width = rollup.bucket_bounds(rollup.bucket(timedelta(days=exact)))
        approx = rollup.histogram_percentile(counts, q)
        assert approx is not None
        assert approx == pytest.approx(exact, abs=width)
    assert rollup.histogram_percentile({}, 0.5) is None


@pytest.mark.unit
def test_a_period_is_cut_into_whole_months_and_leftover_days() -> None:
    from services.dashboard.figures import PeriodSplit, split_period

    whole = split_period(date(2026, 3, 1), date(2026, 5, 31))
    assert (whole.months, whole.days) == ((date(2026, 3, 1), date(2026, 6, 1)), ())
    cut = split_period(date(2026, 3, 15), date(2026, 8, 20))
    assert cut.months == (date(2026, 4, 1), date(2026, 8, 1))
    assert cut.days == (
        (date(2026, 3, 15), date(2026, 4, 1)),
        (date(2026, 8, 1), date(2026, 8, 21)),
    )
    inside = split_period(date(2026, 11, 5), date(2026, 11, 20))
    assert (inside.months, inside.days) == (None, ((date(2026, 11, 5), date(2026, 11, 21)),))
    assert split_period(None, None) == PeriodSplit((None, None), ())
    open_start = split_period(date(2026, 11, 10), None)
    assert open_start.months == (date(2026, 12, 1), None)
    assert open_start.days == ((date(2026, 11, 10), date(2026, 12, 1)),)


@pytest.mark.unit
def test_reopening_moves_a_complaint_from_closed_to_open_and_out_of_the_histogram() -> None:
    from datetime import UTC, datetime, timedelta

    received = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    closed: dict[str, Any] = {
        "place_code": "3204052001",
        "received_at": received,
        "category": "implementation",
        "program_code": None,
        "channel": "puskesos_walk_in",
        "open": False,
        "escalation_count": 0,
        "repeat": False,
        "reopened": False,
        "resolved_at": received + timedelta(days=2),
        "household_response": "not_satisfied",
        "acknowledge_due": date(2026, 11, 5),
        "acknowledged_at": received + timedelta(days=1),
        "resolve_due": date(2026, 11, 16),
        "outcome": "resolved_locally",
        "closed_at": received + timedelta(days=3),
        "steps_reached": ("received", "registered", "feedback", "closed"),
    }
    reopened = {**closed, "open": True, "reopened": True, "outcome": None, "closed_at": None}
    delta = rollup.changes(rollup.contribution(closed, []), rollup.contribution(reopened, []))
    columns = rollup.COMPLAINT_COLUMNS
    assert [k[:2] for k, _ in delta.complaints] == [("", "32"), ("32", "3204")]
    for _, values in delta.complaints:
        moved = {c: v for c, v in zip(columns, values, strict=True) if v}
        assert moved == {"open": 1, "closed": -1, "reopened": 1, "with_outcome": -1}
    assert [(k[0], k[1], k[4], v) for k, v in delta.histogram] == [
        ("outcome", "", 30, (-1,)),
        ("outcome", "32", 30, (-1,)),
    ]
    assert rollup.changes(rollup.contribution(None, []), rollup.contribution(None, [])) == (
        rollup.Changes([], [], [])
    )
