"""The complaint-handling figures: one SQL aggregate per breakdown over the read model.

SQL text is assembled only from constants here; every value travels as a bind argument.

Every query takes the same :class:`Filters` (area prefix, period of receipt, program,
category) and the day the SLA clocks are judged on, so a figure and its filtered list agree.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.dashboard.domain import rollup
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
        if uses_rollups(filters):
            return await _rolled_places(conn, filters, today, child)
        return await by_place(conn, filters, today, child)

    rolled = uses_rollups(filters)
    scans: tuple[Callable[[Connection], Awaitable[Any]], ...] = (
        places,
        lambda conn: (_rolled_volumes if rolled else volumes)(conn, filters),
        lambda conn: (_rolled_funnel if rolled else funnel)(conn, filters),
        lambda conn: (_rolled_agencies if rolled else agencies)(conn, filters),
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


# --- National and provincial pages: the monthly rollups ------------------------------------
#
# Above the district, the summable figures come from complaint_rollup / referral_rollup
# (kept by the consumer, services/dashboard/domain/rollup.py): whole months of the period from
# the rollups, the days of a partly covered month at either end from the facts. What cannot be
# summed is read from the facts through partial indexes: the SLA judgements as of today (only
# promises not yet kept can turn late) and the percentiles (index-only scans).


def uses_rollups(filters: Filters) -> bool:
    """National and provincial pages read the rollups; a district and below, the facts."""
    return len(filters.area) < rollup.DISTRICT_LENGTH


@dataclass(frozen=True)
class PeriodSplit:
    """A period of receipt cut into whole months (read from the rollups) and the days at
    either end (read from the facts)."""

    months: tuple[date | None, date | None] | None
    """[from, to) first days of months; None bound = unbounded; None = no whole month."""
    days: tuple[tuple[date | None, date | None], ...]
    """[from, to) local days read from the facts."""


def split_period(start: date | None, end: date | None) -> PeriodSplit:
    """``start``..``end`` inclusive (either open) as whole months and leftover days."""
    lo = start
    hi = end + timedelta(days=1) if end is not None else None
    m_lo = None if lo is None else lo if lo.day == 1 else _next_month(lo)
    m_hi = None if hi is None else hi.replace(day=1)
    if m_lo is not None and m_hi is not None and m_lo >= m_hi:
        return PeriodSplit(None, ((lo, hi),))
    days: list[tuple[date | None, date | None]] = []
    if lo is not None and m_lo is not None and lo < m_lo:
        days.append((lo, m_lo))
    if hi is not None and m_hi is not None and m_hi < hi:
        days.append((m_hi, hi))
    return PeriodSplit((m_lo, m_hi), tuple(days))


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


class _Sql:
    """Bind arguments collected while a statement is assembled (from constants only)."""

    def __init__(self, *values: Any) -> None:
        self.values = list(values)

    def arg(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def rollup_where(self, filters: Filters, split: PeriodSplit, alias: str = "r") -> str:
        clauses = [f"{alias}.page_area = {self.arg(filters.area)}"]
        assert split.months is not None
        m_lo, m_hi = split.months
        if m_lo is not None:
            clauses.append(f"{alias}.month >= {self.arg(m_lo)}")
        if m_hi is not None:
            clauses.append(f"{alias}.month < {self.arg(m_hi)}")
        if filters.program is not None:
            clauses.append(f"{alias}.program_code = {self.arg(filters.program)}")
        if filters.category is not None:
            clauses.append(f"{alias}.category = {self.arg(filters.category)}")
        return " AND ".join(clauses)

    def facts_where(self, filters: Filters, alias: str = "c") -> str:
        """``filters`` over a facts table (the whole period)."""
        where, args = filters.where(alias=alias, first=len(self.values) + 1)
        self.values.extend(args)
        return where

    def edge_where(self, filters: Filters, split: PeriodSplit, alias: str = "c") -> str:
        """``filters`` over a facts table, restricted to the period's leftover days."""
        plain = replace(filters, start=None, end=None)
        ranges = []
        for lo, hi in split.days:
            bounds = []
            if lo is not None:
                bounds.append(f"{alias}.received_at >= {self.arg(_midnight(lo))}")
            if hi is not None:
                bounds.append(f"{alias}.received_at < {self.arg(_midnight(hi))}")
            ranges.append("(" + " AND ".join(bounds or ["true"]) + ")")
        return f"{self.facts_where(plain, alias)} AND ({' OR '.join(ranges)})"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), JAKARTA)


def _union(
    sql: _Sql,
    filters: Filters,
    split: PeriodSplit,
    rollup_select: str,
    facts_select: str,
    rollup_table: str = "complaint_rollup r",
    facts_table: str = "complaint_facts c",
    rollup_extra: str = "true",
    facts_extra: str = "true",
) -> str:
    """The rows of the rollup for the whole months and of the facts for the leftover days."""
    parts = []
    if split.months is not None:
        alias = rollup_table.split()[-1]
        parts.append(
            f"SELECT {rollup_select} FROM {rollup_table} "  # noqa: S608
            f"WHERE {rollup_extra} AND {sql.rollup_where(filters, split, alias)}"
        )
    if split.days:
        alias = facts_table.split()[-1]
        parts.append(
            f"SELECT {facts_select} FROM {facts_table} "  # noqa: S608
            f"WHERE {facts_extra} AND {sql.edge_where(filters, split, alias)}"
        )
    return " UNION ALL ".join(parts)


_SUMMED = rollup.COMPLAINT_MEASURES


async def _histogram(
    conn: Connection, filters: Filters, kind: str, prefix_length: int
) -> dict[str | None, dict[int, int]] | None:
    """Bucket counts per child (None: the whole page) of days to outcome or to answer, or
    None when a program or category filter asks for more than the histogram keeps."""
    if filters.program is not None or filters.category is not None:
        return None
    split = split_period(filters.start, filters.end)
    sql = _Sql()
    assert kind in ("outcome", "answer")
    if kind == "outcome":
        facts = (
            f"substr(c.place_code, 1, {int(prefix_length)}) AS child, "
            f"{rollup.bucket_sql(rollup.OUTCOME_SECONDS)} AS bucket, 1 AS n"
        )
        table, condition = "complaint_facts c", "c.outcome IS NOT NULL AND c.closed_at IS NOT NULL"
    else:
        facts = (
            f"r.destination AS child, {rollup.bucket_sql(rollup.ANSWER_SECONDS)} AS bucket, 1 AS n"
        )
        table, condition = "referral_facts r", "r.answered_at IS NOT NULL"
    rows_sql = _union(
        sql,
        filters,
        split,
        "h.child, h.bucket, h.n",
        facts,
        rollup_table="duration_histogram h",
        facts_table=table,
        rollup_extra=f"h.kind = '{kind}'",
        facts_extra=condition,
    )
    rows = await conn.fetch(
        f"SELECT x.child, x.bucket, sum(x.n)::int AS n FROM ({rows_sql}) x "  # noqa: S608
        "GROUP BY 1, 2",
        *sql.values,
    )
    found: dict[str | None, dict[int, int]] = {None: {}}
    for r in rows:
        for key in (r["child"], None):
            counts = found.setdefault(key, {})
            counts[r["bucket"]] = counts.get(r["bucket"], 0) + r["n"]
    return found


async def _rolled_places(
    conn: Connection, filters: Filters, today: date, prefix_length: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    split = split_period(filters.start, filters.end)
    sql = _Sql()
    rows_sql = _union(
        sql,
        filters,
        split,
        "r.child AS key, " + ", ".join(f"r.{name}" for name, _ in _SUMMED),
        f"substr(c.place_code, 1, {int(prefix_length)}) AS key, "
        + ", ".join(f"{expr} AS {name}" for name, expr in _SUMMED),
    )
    sums = ", ".join(f"sum(x.{name}) AS {name}" for name, _ in _SUMMED)
    counted = await conn.fetch(
        f"SELECT GROUPING(x.key) AS total, x.key, {sums} FROM ({rows_sql}) x "  # noqa: S608
        "GROUP BY GROUPING SETS ((x.key), ())",
        *sql.values,
    )
    late_sql = _Sql(today, prefix_length)
    late = await conn.fetch(
        "SELECT GROUPING(substr(c.place_code, 1, $2)) AS total, "  # noqa: S608
        "substr(c.place_code, 1, $2) AS key, "
        f"count(*) FILTER (WHERE {ACK_LATE}) AS ack_late, "
        f"count(*) FILTER (WHERE {RESOLVE_LATE}) AS resolve_late "
        f"FROM complaint_facts c WHERE {late_sql.facts_where(filters)} AND {LATE} "
        "GROUP BY GROUPING SETS ((substr(c.place_code, 1, $2)), ())",
        *late_sql.values,
    )
    histogram = await _histogram(conn, filters, "outcome", prefix_length)
    if histogram is not None:
        pct_by: dict[str | None, tuple[float | None, float | None]] = {
            key: (
                rollup.histogram_percentile(counts, 0.5),
                rollup.histogram_percentile(counts, 0.9),
            )
            for key, counts in histogram.items()
        }
    else:
        pct_sql = _Sql(prefix_length)
        days = "extract(epoch FROM c.closed_at - c.received_at) / 86400"
        exact = await conn.fetch(
            "SELECT GROUPING(substr(c.place_code, 1, $1)) AS total, "  # noqa: S608
            "substr(c.place_code, 1, $1) AS key, "
            f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) AS median_days, "
            f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {days}) AS p90_days "
            f"FROM complaint_facts c WHERE {pct_sql.facts_where(filters)} "
            "AND c.outcome IS NOT NULL AND c.closed_at IS NOT NULL "
            "GROUP BY GROUPING SETS ((substr(c.place_code, 1, $1)), ())",
            *pct_sql.values,
        )
        pct_by = {
            None if r["total"] else r["key"]: (r["median_days"], r["p90_days"]) for r in exact
        }
    late_by = {None if r["total"] else r["key"]: r for r in late}

    def measures(row: asyncpg.Record | None, key: str | None) -> dict[str, Any]:
        got = {name: int((row[name] if row else None) or 0) for name, _ in _SUMMED}
        late_row = late_by.get(key)
        median, p90 = pct_by.get(key, (None, None))
        found = {
            **{n: got[n] for n in MEASURE_NAMES if n in got},
            "ack_due": got["ack_done"] + (late_row["ack_late"] if late_row else 0),
            "resolve_due": got["resolve_done"] + (late_row["resolve_late"] if late_row else 0),
            "median_days": median,
            "p90_days": p90,
        }
        return {n: found[n] for n in MEASURE_NAMES}

    by_key = {None if r["total"] else r["key"]: r for r in counted}
    total = measures(by_key.get(None), None)
    places = [
        {"key": key, **measures(row, key)}
        for key, row in sorted((k, r) for k, r in by_key.items() if k is not None)
        if row["complaints"]
    ]
    return total, places


async def _rolled_volumes(conn: Connection, filters: Filters) -> dict[str, list[dict[str, Any]]]:
    split = split_period(filters.start, filters.end)
    sql = _Sql()
    rows_sql = _union(
        sql,
        filters,
        split,
        "r.category, nullif(r.program_code, '') AS program_code, r.channel, r.complaints, r.open",
        "c.category, c.program_code, c.channel, 1 AS complaints, c.open::int AS open",
    )
    rows = await conn.fetch(
        "SELECT CASE WHEN GROUPING(x.category) = 0 THEN 'category' "  # noqa: S608
        "WHEN GROUPING(x.program_code) = 0 THEN 'program' ELSE 'channel' END AS breakdown, "
        "coalesce(x.category, x.program_code, x.channel, '-') AS key, "
        "sum(x.complaints) AS complaints, sum(x.open) AS open "
        f"FROM ({rows_sql}) x "
        "GROUP BY GROUPING SETS ((x.category), (x.program_code), (x.channel)) "
        "HAVING sum(x.complaints) > 0 ORDER BY 1, 3 DESC, 2",
        *sql.values,
    )
    found: dict[str, list[dict[str, Any]]] = {"category": [], "program": [], "channel": []}
    for r in rows:
        found[r["breakdown"]].append(
            {"key": r["key"], "complaints": r["complaints"], "open": r["open"]}
        )
    return found


async def _rolled_funnel(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    split = split_period(filters.start, filters.end)
    sql = _Sql()
    steps = [f"reached_{s.value}" for s in FUNNEL]
    exprs = dict(_SUMMED)
    rows_sql = _union(
        sql,
        filters,
        split,
        ", ".join(f"r.{name}" for name in steps),
        ", ".join(f"{exprs[name]} AS {name}" for name in steps),
    )
    row = await conn.fetchrow(
        f"SELECT {', '.join(f'sum(x.{n}) AS {n}' for n in steps)} "  # noqa: S608
        f"FROM ({rows_sql}) x",
        *sql.values,
    )
    assert row is not None
    return [{"key": s.value, "complaints": int(row[f"reached_{s.value}"] or 0)} for s in FUNNEL]


async def _rolled_agencies(conn: Connection, filters: Filters) -> list[dict[str, Any]]:
    split = split_period(filters.start, filters.end)
    sql = _Sql()
    measures = rollup.REFERRAL_MEASURES
    rows_sql = _union(
        sql,
        filters,
        split,
        "r.destination, " + ", ".join(f"r.{name}" for name, _ in measures),
        "f.destination, "
        + ", ".join(f"{expr.replace('r.', 'f.')} AS {name}" for name, expr in measures),
        rollup_table="referral_rollup r",
        facts_table="referral_facts f",
    )
    sums = ", ".join(f"sum(x.{name}) AS {name}" for name, _ in measures)
    rows = await conn.fetch(
        "SELECT x.destination AS key, coalesce(p.owner_agency, x.destination) AS agency, "  # noqa: S608
        f"{sums} FROM ({rows_sql}) x LEFT JOIN programs p ON p.code = x.destination "
        "GROUP BY 1, 2 HAVING sum(x.referrals) > 0 ORDER BY 3 DESC, 1",
        *sql.values,
    )
    histogram = await _histogram(conn, filters, "answer", 0)
    if histogram is not None:
        median_by = {
            key: rollup.histogram_percentile(counts, 0.5) for key, counts in histogram.items()
        }
    else:
        pct_sql = _Sql()
        medians = await conn.fetch(
            "SELECT r.destination, percentile_cont(0.5) WITHIN GROUP (ORDER BY "  # noqa: S608
            "extract(epoch FROM r.answered_at - r.sent_at) / 86400) AS median_days_to_answer "
            f"FROM referral_facts r WHERE {pct_sql.facts_where(filters, alias='r')} "
            "AND r.answered_at IS NOT NULL GROUP BY 1",
            *pct_sql.values,
        )
        median_by = {m["destination"]: m["median_days_to_answer"] for m in medians}
    return [
        {
            "key": r["key"],
            "agency": r["agency"],
            **{name: int(r[name]) for name, _ in measures},
            "median_days_to_answer": median_by.get(r["key"]),
        }
        for r in rows
    ]
