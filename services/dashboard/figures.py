"""The complaint-handling figures: one SQL aggregate per breakdown over the read model.

SQL text is assembled only from constants here; every value travels as a bind argument.

Every query takes the same :class:`Filters` (area prefix, period of receipt, program,
category) and the day the SLA clocks are judged on, so a figure and its filtered list agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.dashboard.domain.facts import FUNNEL
from services.dashboard.domain.scope import child_length
from slrt.db import Connection

JAKARTA = ZoneInfo("Asia/Jakarta")


@dataclass(frozen=True)
class Filters:
    area: str = ""
    """Place-code prefix ("" national)."""
    start: date | None = None
    end: date | None = None
    """Inclusive period of receipt (tanggal pengaduan diterima), local dates."""
    program: str | None = None
    category: str | None = None

    def where(self, alias: str = "c", first: int = 1) -> tuple[str, list[Any]]:
        """The SQL condition and its arguments (numbered from ``first``)."""
        clauses = [f"{alias}.place_code LIKE ${first}"]
        args: list[Any] = [self.area + "%"]
        if self.start is not None:
            args.append(datetime.combine(self.start, time(), JAKARTA))
            clauses.append(f"{alias}.received_at >= ${first + len(args) - 1}")
        if self.end is not None:
            args.append(datetime.combine(self.end + timedelta(days=1), time(), JAKARTA))
            clauses.append(f"{alias}.received_at < ${first + len(args) - 1}")
        if self.program is not None:
            args.append(self.program)
            clauses.append(f"{alias}.program_code = ${first + len(args) - 1}")
        if self.category is not None:
            args.append(self.category)
            clauses.append(f"{alias}.category = ${first + len(args) - 1}")
        return " AND ".join(clauses), args


# The one definition of a late promise (terlambat), judged as of ``$1`` (today): the due date
# has passed and the household has not had what it was promised. The SLA rates below and the
# dashboard's breached/at-risk gauges (services/dashboard/sla_metrics.py) both use it. Never
# NULL, so it can be negated.
ACK_LATE = (
    "(c.acknowledged_at IS NULL AND c.acknowledge_due IS NOT NULL AND c.acknowledge_due < $1)"
)
RESOLVE_LATE = "(c.resolved_at IS NULL AND c.resolve_due IS NOT NULL AND c.resolve_due < $1)"
LATE = f"({ACK_LATE} OR {RESOLVE_LATE})"

# Days from receipt to the outcome, and SLA judgements as of ``$today`` (the first argument).
_MEASURES = f"""
    count(*) AS complaints,
    count(*) FILTER (WHERE c.open) AS open,
    count(*) FILTER (WHERE NOT c.open) AS closed,
    count(*) FILTER (WHERE c.escalation_count > 0) AS escalated,
    coalesce(sum(c.escalation_count), 0)::int AS escalations,
    count(*) FILTER (WHERE c.repeat) AS repeats,
    count(*) FILTER (WHERE c.reopened) AS reopened,
    count(*) FILTER (WHERE c.resolved_at IS NOT NULL) AS resolved,
    count(*) FILTER (WHERE c.household_response = 'satisfied') AS satisfied,
    count(*) FILTER (WHERE c.household_response IS NOT NULL) AS responses,
    count(*) FILTER (WHERE c.acknowledge_due IS NOT NULL AND c.acknowledged_at IS NOT NULL
        OR {ACK_LATE}) AS ack_due,
    count(*) FILTER (WHERE c.acknowledge_due IS NOT NULL AND c.acknowledged_at IS NOT NULL
        AND (c.acknowledged_at AT TIME ZONE 'Asia/Jakarta')::date <= c.acknowledge_due)
        AS ack_on_time,
    count(*) FILTER (WHERE c.resolve_due IS NOT NULL AND c.resolved_at IS NOT NULL
        OR {RESOLVE_LATE}) AS resolve_due,
    count(*) FILTER (WHERE c.resolve_due IS NOT NULL AND c.resolved_at IS NOT NULL
        AND (c.resolved_at AT TIME ZONE 'Asia/Jakarta')::date <= c.resolve_due)
        AS resolve_on_time,
    count(*) FILTER (WHERE c.outcome IS NOT NULL) AS with_outcome,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY
        extract(epoch FROM c.closed_at - c.received_at) / 86400)
        FILTER (WHERE c.outcome IS NOT NULL AND c.closed_at IS NOT NULL) AS median_days,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY
        extract(epoch FROM c.closed_at - c.received_at) / 86400)
        FILTER (WHERE c.outcome IS NOT NULL AND c.closed_at IS NOT NULL) AS p90_days
"""

MEASURE_NAMES = (
    "complaints",
    "open",
    "closed",
    "escalated",
    "escalations",
    "repeats",
    "reopened",
    "resolved",
    "satisfied",
    "responses",
    "ack_due",
    "ack_on_time",
    "resolve_due",
    "resolve_on_time",
    "with_outcome",
    "median_days",
    "p90_days",
)


async def summary(conn: Connection, filters: Filters, today: date) -> dict[str, Any]:
    where, args = filters.where(first=2)
    sql = f"SELECT {_MEASURES} FROM complaint_facts c WHERE {where}"  # noqa: S608
    row = await conn.fetchrow(sql, today, *args)
    assert row is not None
    return dict(row)


async def by_place(
    conn: Connection, filters: Filters, today: date, prefix_length: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The measures of the whole area and per place one level below it, in one scan."""
    where, args = filters.where(first=3)
    rows = await conn.fetch(
        f"SELECT GROUPING(substr(c.place_code, 1, $2)) AS total, "  # noqa: S608
        f"substr(c.place_code, 1, $2) AS key, {_MEASURES} FROM complaint_facts c "
        f"WHERE {where} GROUP BY GROUPING SETS ((substr(c.place_code, 1, $2)), ()) "
        "ORDER BY 1, 2",
        today,
        prefix_length,
        *args,
    )
    places = [dict(r) for r in rows if not r["total"]]
    total = next(dict(r) for r in rows if r["total"])
    for row in (total, *places):
        del row["total"]
    del total["key"]
    return total, places


async def volumes(conn: Connection, filters: Filters) -> dict[str, list[dict[str, Any]]]:
    """Complaint counts by category, by program and by channel (jumlah pengaduan), one scan."""
    where, args = filters.where()
    rows = await conn.fetch(
        "SELECT CASE WHEN GROUPING(c.category) = 0 THEN 'category' "  # noqa: S608
        "WHEN GROUPING(c.program_code) = 0 THEN 'program' ELSE 'channel' END AS breakdown, "
        "coalesce(c.category, c.program_code, c.channel, '-') AS key, "
        "count(*) AS complaints, count(*) FILTER (WHERE c.open) AS open "
        f"FROM complaint_facts c WHERE {where} "
        "GROUP BY GROUPING SETS ((c.category), (c.program_code), (c.channel)) "
        "ORDER BY 1, 3 DESC, 2",
        *args,
    )
    found: dict[str, list[dict[str, Any]]] = {"category": [], "program": [], "channel": []}
    for r in rows:
        found[r["breakdown"]].append(
            {"key": r["key"], "complaints": r["complaints"], "open": r["open"]}
        )
    return found


async def information_topics(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Information requests by the topic of the entry that answered them (permintaan informasi
    menurut topik); those closed without a recorded answer count as "-"."""
    where, args = filters.where()
    rows = await conn.fetch(
        "SELECT coalesce(c.information_topic, '-') AS key, count(*) AS requests "  # noqa: S608
        f"FROM complaint_facts c WHERE {where} AND c.category = 'information' "
        "GROUP BY 1 ORDER BY 2 DESC, 1",
        *args,
    )
    return [dict(r) for r in rows]


async def funnel(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """How many complaints reached each step (alur penanganan)."""
    where, args = filters.where(first=2)
    rows = await conn.fetch(
        "SELECT s.name AS key, coalesce(r.complaints, 0) AS complaints "  # noqa: S608
        "FROM unnest($1::text[]) WITH ORDINALITY AS s(name, position) LEFT JOIN ("
        "SELECT reached, count(*) AS complaints FROM complaint_facts c, "
        f"unnest(c.steps_reached) AS reached WHERE {where} GROUP BY reached"
        ") r ON r.reached = s.name ORDER BY s.position",
        [s.value for s in FUNNEL],
        *args,
    )
    return [dict(r) for r in rows]


async def agencies(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    """Referrals by destination and its owning agency: who answers, how fast, who does not
    (filtered like the complaints: by when the complaint was received)."""
    where, args = filters.where(alias="r")
    rows = await conn.fetch(
        f"""
        SELECT r.destination AS key, coalesce(p.owner_agency, r.destination) AS agency,
            count(*) AS referrals,
            count(*) FILTER (WHERE r.answered_at IS NOT NULL) AS answered,
            count(*) FILTER (WHERE r.decision = 'accepted') AS accepted,
            count(*) FILTER (WHERE r.decision = 'rejected') AS rejected,
            count(*) FILTER (WHERE r.expired) AS no_response,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY
                extract(epoch FROM r.answered_at - r.sent_at) / 86400)
                FILTER (WHERE r.answered_at IS NOT NULL) AS median_days_to_answer
        FROM referral_facts r LEFT JOIN programs p ON p.code = r.destination
        WHERE {where}
        GROUP BY 1, 2 ORDER BY 3 DESC, 1
        """,  # noqa: S608
        *args,
    )
    return [dict(r) for r in rows]


async def open_by_village(conn: Connection, area: str) -> dict[str, int]:
    """Open complaints per village (for the planning scorecard)."""
    rows = await conn.fetch(
        "SELECT place_code, count(*) AS n FROM complaint_facts "
        "WHERE open AND place_code LIKE $1 GROUP BY 1",
        area + "%",
    )
    return {r["place_code"]: r["n"] for r in rows}


async def collect(db: asyncpg.Pool | Connection, filters: Filters, today: date) -> dict[str, Any]:
    """Every breakdown the dashboard shows for ``filters`` (before any suppression).

    Given a pool, the five scans run at once on separate connections."""
    child = child_length(filters.area)

    async def places(conn: Connection) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if child is None:
            return await summary(conn, filters, today), []
        return await by_place(conn, filters, today, child)

    scans: tuple[Callable[[Connection], Awaitable[Any]], ...] = (
        places,
        lambda conn: volumes(conn, filters),
        lambda conn: funnel(conn, filters),
        lambda conn: agencies(conn, filters),
        lambda conn: information_topics(conn, filters),
    )
    if isinstance(db, asyncpg.Pool):
        pool = db

        async def on_own_connection(query: Callable[[Connection], Awaitable[Any]]) -> Any:
            async with pool.acquire() as conn:
                return await query(conn)

        found = await asyncio.gather(*(on_own_connection(q) for q in scans))
    else:
        found = [await query(db) for query in scans]
    (total, by_child), by_kind, steps, referrals, topics = found
    return {
        "summary": total,
        "places": by_child,
        **by_kind,
        "funnel": steps,
        "agencies": referrals,
        "topics": topics,
    }
