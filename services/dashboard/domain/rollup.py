"""The monthly rollups behind the national and provincial pages: what one complaint (and each
of its referrals) adds to them.

Pure functions. The consumer that stores a complaint's refolded facts adds, in the same
transaction, the difference between what the complaint contributed before and what it
contributes now (a reopened complaint moves from ``closed`` back to ``open``, a late answer
adds to ``answered``), so the rollups stay equal to a from-scratch ``GROUP BY`` over the facts
(``*_FROM_FACTS``) without a refresh.

Every row belongs to the page it feeds: ``page_area`` '' (national; ``child`` the province)
or a province (``child`` the district), so a page reads only its own rows. Keys besides: the
month of receipt (local, Asia/Jakarta, as the period filter), the category, the program ('' for
none) and the channel; for referrals the destination. The percentiles (days to outcome, days
to answer) come from ``duration_histogram``: counts per bucket of a tenth of a day up to 10
days, half a day up to 30, a day up to 365. What depends on today (late promises) is read from
the facts (``services/dashboard/figures.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from services.dashboard.domain.facts import FUNNEL

JAKARTA = ZoneInfo("Asia/Jakarta")
K = TypeVar("K", bound=tuple[Any, ...])
DISTRICT_LENGTH = 4
PROVINCE_LENGTH = 2

ComplaintKey = tuple[str, str, date, str, str, str]
"""(page_area, child, month, category, program or '', channel)."""
ReferralKey = tuple[str, date, str, str, str]
"""(page_area, month, category, program or '', destination)."""
HistogramKey = tuple[str, str, str, date, int]
"""(kind 'outcome' | 'answer', page_area, child (place or destination), month, bucket)."""

COMPLAINT_KEY = ("page_area", "child", "month", "category", "program_code", "channel")
REFERRAL_KEY = ("page_area", "month", "category", "program_code", "destination")
HISTOGRAM_KEY = ("kind", "page_area", "child", "month", "bucket")

# Each summed column of complaint_rollup and its definition over one complaint_facts row ``c``
# (the same expression feeds the from-scratch GROUP BY and the page's period edges).
COMPLAINT_MEASURES: tuple[tuple[str, str], ...] = (
    ("complaints", "1"),
    ("open", "(c.open)::int"),
    ("closed", "(NOT c.open)::int"),
    ("escalated", "(c.escalation_count > 0)::int"),
    ("escalations", "c.escalation_count"),
    ("repeats", "(c.repeat)::int"),
    ("reopened", "(c.reopened)::int"),
    ("resolved", "(c.resolved_at IS NOT NULL)::int"),
    ("satisfied", "(c.household_response IS NOT DISTINCT FROM 'satisfied')::int"),
    ("responses", "(c.household_response IS NOT NULL)::int"),
    ("ack_done", "(c.acknowledge_due IS NOT NULL AND c.acknowledged_at IS NOT NULL)::int"),
    (
        "ack_on_time",
        "(c.acknowledge_due IS NOT NULL AND c.acknowledged_at IS NOT NULL AND "
        "(c.acknowledged_at AT TIME ZONE 'Asia/Jakarta')::date <= c.acknowledge_due)::int",
    ),
    ("resolve_done", "(c.resolve_due IS NOT NULL AND c.resolved_at IS NOT NULL)::int"),
    (
        "resolve_on_time",
        "(c.resolve_due IS NOT NULL AND c.resolved_at IS NOT NULL AND "
        "(c.resolved_at AT TIME ZONE 'Asia/Jakarta')::date <= c.resolve_due)::int",
    ),
    ("with_outcome", "(c.outcome IS NOT NULL)::int"),
    *((f"reached_{s.value}", f"('{s.value}' = ANY(c.steps_reached))::int") for s in FUNNEL),
)
COMPLAINT_COLUMNS = tuple(name for name, _ in COMPLAINT_MEASURES)

REFERRAL_MEASURES: tuple[tuple[str, str], ...] = (
    ("referrals", "1"),
    ("answered", "(r.answered_at IS NOT NULL)::int"),
    ("accepted", "(r.decision IS NOT DISTINCT FROM 'accepted')::int"),
    ("rejected", "(r.decision IS NOT DISTINCT FROM 'rejected')::int"),
    ("no_response", "(r.expired)::int"),
)
REFERRAL_COLUMNS = tuple(name for name, _ in REFERRAL_MEASURES)

MONTH_SQL = "date_trunc('month', {alias}.received_at AT TIME ZONE 'Asia/Jakarta')::date"

# Histogram buckets, from whole seconds (integer arithmetic: SQL and Python agree exactly).
DAY = 86_400
_TENTHS_UNTIL = 10 * DAY
_HALVES_UNTIL = 30 * DAY
_DAYS_UNTIL = 365 * DAY
LAST_BUCKET = 100 + 40 + 335


def bucket_sql(seconds: str) -> str:
    """The bucket of a duration of ``seconds`` (an SQL bigint expression)."""
    s = f"greatest({seconds}, 0)"
    return (
        f"(CASE WHEN {s} < {_TENTHS_UNTIL} THEN {s} * 10 / {DAY} "
        f"WHEN {s} < {_HALVES_UNTIL} THEN 100 + ({s} - {_TENTHS_UNTIL}) * 2 / {DAY} "
        f"WHEN {s} < {_DAYS_UNTIL} THEN 140 + ({s} - {_HALVES_UNTIL}) / {DAY} "
        f"ELSE {LAST_BUCKET} END)::int"
    )


def bucket(duration: timedelta) -> int:
    s = max(duration // timedelta(seconds=1), 0)
    if s < _TENTHS_UNTIL:
        return s * 10 // DAY
    if s < _HALVES_UNTIL:
        return 100 + (s - _TENTHS_UNTIL) * 2 // DAY
    if s < _DAYS_UNTIL:
        return 140 + (s - _HALVES_UNTIL) // DAY
    return LAST_BUCKET


def bucket_bounds(b: int) -> tuple[float, float]:
    """(lowest value, width) of bucket ``b`` in days."""
    if b < 100:
        return b / 10, 0.1
    if b < 140:
        return 10 + (b - 100) / 2, 0.5
    if b < LAST_BUCKET:
        return 30.0 + (b - 140), 1.0
    return 365.0, 0.0


def histogram_percentile(counts: Mapping[int, int], q: float) -> float | None:
    """``percentile_cont(q)`` over a histogram, each bucket's items spread evenly inside it:
    within a bucket's width (a tenth of a day below 10 days) of the exact figure."""
    n = sum(counts.values())
    if n == 0:
        return None
    ordered = sorted((b, c) for b, c in counts.items() if c > 0)

    def value_at(rank: int) -> float:
        seen = 0
        for b, c in ordered:
            if rank < seen + c:
                start, width = bucket_bounds(b)
                return start + width * (rank - seen + 0.5) / c
            seen += c
        raise AssertionError("rank beyond the histogram")

    position = q * (n - 1)
    low = int(position)
    below = value_at(low)
    above = value_at(min(low + 1, n - 1))
    return below + (position - low) * (above - below)


def _pages(alias: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(page_area, child) SQL expressions of the two pages a place feeds."""
    return (
        ("''", f"left({alias}.place_code, {PROVINCE_LENGTH})"),
        (
            f"left({alias}.place_code, {PROVINCE_LENGTH})",
            f"left({alias}.place_code, {DISTRICT_LENGTH})",
        ),
    )


def _sums(measures: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"sum({expr})::int AS {name}" for name, expr in measures)


COMPLAINT_ROLLUP_FROM_FACTS = " UNION ALL ".join(
    f"SELECT {page} AS page_area, {child} AS child, {MONTH_SQL.format(alias='c')} AS month, "  # noqa: S608
    f"c.category, coalesce(c.program_code, '') AS program_code, c.channel, "
    f"{_sums(COMPLAINT_MEASURES)} FROM complaint_facts c GROUP BY 1, 2, 3, 4, 5, 6"
    for page, child in _pages("c")
)
"""complaint_rollup computed from scratch (the migration's backfill, the tests' reference)."""

REFERRAL_ROLLUP_FROM_FACTS = " UNION ALL ".join(
    f"SELECT {page} AS page_area, {MONTH_SQL.format(alias='r')} AS month, r.category, "  # noqa: S608
    f"coalesce(r.program_code, '') AS program_code, r.destination, "
    f"{_sums(REFERRAL_MEASURES)} FROM referral_facts r GROUP BY 1, 2, 3, 4, 5"
    for page, _ in _pages("r")
)

OUTCOME_SECONDS = "floor(extract(epoch FROM c.closed_at - c.received_at))::bigint"
ANSWER_SECONDS = "floor(extract(epoch FROM r.answered_at - r.sent_at))::bigint"

HISTOGRAM_FROM_FACTS = " UNION ALL ".join(
    [
        f"SELECT 'outcome' AS kind, {page} AS page_area, {child} AS child, "  # noqa: S608
        f"{MONTH_SQL.format(alias='c')} AS month, {bucket_sql(OUTCOME_SECONDS)} AS bucket, "
        "count(*)::int AS n FROM complaint_facts c "
        "WHERE c.outcome IS NOT NULL AND c.closed_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
        for page, child in _pages("c")
    ]
    + [
        f"SELECT 'answer' AS kind, {page} AS page_area, r.destination AS child, "  # noqa: S608
        f"{MONTH_SQL.format(alias='r')} AS month, {bucket_sql(ANSWER_SECONDS)} AS bucket, "
        "count(*)::int AS n FROM referral_facts r "
        "WHERE r.answered_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
        for page, _ in _pages("r")
    ]
)
"""duration_histogram computed from scratch."""


def local_month(at: datetime) -> date:
    return at.astimezone(JAKARTA).date().replace(day=1)


def _local_day(at: datetime) -> date:
    return at.astimezone(JAKARTA).date()


@dataclass(frozen=True)
class Contribution:
    """What one complaint adds to the rollups (negated when it is taken back)."""

    complaints: dict[ComplaintKey, tuple[int, ...]]
    referrals: dict[ReferralKey, tuple[int, ...]]
    histogram: dict[HistogramKey, tuple[int, ...]]


def complaint_measures(c: Mapping[str, Any]) -> tuple[int, ...]:
    """One complaint's counts, in the order of ``COMPLAINT_COLUMNS`` (mirrors the SQL above)."""
    ack_due, acked = c["acknowledge_due"], c["acknowledged_at"]
    resolve_due, resolved = c["resolve_due"], c["resolved_at"]
    reached = set(c["steps_reached"])
    values = (
        1,
        int(c["open"]),
        int(not c["open"]),
        int(c["escalation_count"] > 0),
        int(c["escalation_count"]),
        int(c["repeat"]),
        int(c["reopened"]),
        int(resolved is not None),
        int(c["household_response"] == "satisfied"),
        int(c["household_response"] is not None),
        int(ack_due is not None and acked is not None),
        int(ack_due is not None and acked is not None and _local_day(acked) <= ack_due),
        int(resolve_due is not None and resolved is not None),
        int(
            resolve_due is not None and resolved is not None and _local_day(resolved) <= resolve_due
        ),
        int(c["outcome"] is not None),
        *(int(s.value in reached) for s in FUNNEL),
    )
    assert len(values) == len(COMPLAINT_COLUMNS)
    return values


def referral_measures(r: Mapping[str, Any]) -> tuple[int, ...]:
    return (
        1,
        int(r["answered_at"] is not None),
        int(r["decision"] == "accepted"),
        int(r["decision"] == "rejected"),
        int(r["expired"]),
    )


def contribution(
    complaint: Mapping[str, Any] | None, referrals: Iterable[Mapping[str, Any]]
) -> Contribution:
    """A complaint's contribution: ``complaint`` has the columns of ``complaint_facts`` (None
    before its first transition), each referral those of ``referral_facts``."""
    if complaint is None:
        return Contribution({}, {}, {})
    place = complaint["place_code"]
    month = local_month(complaint["received_at"])
    pages = (("", place[:PROVINCE_LENGTH]), (place[:PROVINCE_LENGTH], place[:DISTRICT_LENGTH]))
    category, program = complaint["category"], complaint["program_code"] or ""
    measures = complaint_measures(complaint)
    complaints = {
        (page, child, month, category, program, complaint["channel"]): measures
        for page, child in pages
    }
    histogram: dict[HistogramKey, tuple[int, ...]] = {}
    if complaint["outcome"] is not None and complaint["closed_at"] is not None:
        b = bucket(complaint["closed_at"] - complaint["received_at"])
        for page, child in pages:
            histogram[("outcome", page, child, month, b)] = (1,)
    found: dict[ReferralKey, tuple[int, ...]] = {}
    for r in referrals:
        for page, _ in pages:
            key = (page, month, category, program, r["destination"])
            found[key] = _add(found.get(key), referral_measures(r))
            if r["answered_at"] is not None:
                hkey = (
                    "answer",
                    page,
                    r["destination"],
                    month,
                    bucket(r["answered_at"] - r["sent_at"]),
                )
                histogram[hkey] = _add(histogram.get(hkey), (1,))
    return Contribution(complaints, found, histogram)


def _add(a: tuple[int, ...] | None, b: tuple[int, ...], sign: int = 1) -> tuple[int, ...]:
    if a is None:
        return tuple(sign * v for v in b)
    return tuple(x + sign * y for x, y in zip(a, b, strict=True))


def _difference(
    before: dict[K, tuple[int, ...]], after: dict[K, tuple[int, ...]]
) -> list[tuple[K, tuple[int, ...]]]:
    delta: dict[K, tuple[int, ...]] = dict(after)
    for key, values in before.items():
        delta[key] = _add(delta.get(key), values, sign=-1)
    # Sorted: concurrent consumers lock rollup rows in one order, so they cannot deadlock.
    return sorted(
        ((k, v) for k, v in delta.items() if any(v)),
        key=lambda item: tuple(str(part) for part in item[0]),
    )


@dataclass(frozen=True)
class Changes:
    complaints: list[tuple[ComplaintKey, tuple[int, ...]]]
    referrals: list[tuple[ReferralKey, tuple[int, ...]]]
    histogram: list[tuple[HistogramKey, tuple[int, ...]]]


def changes(before: Contribution, after: Contribution) -> Changes:
    """The non-zero additions to each rollup that turn ``before`` into ``after``."""
    return Changes(
        _difference(before.complaints, after.complaints),
        _difference(before.referrals, after.referrals),
        _difference(before.histogram, after.histogram),
    )
