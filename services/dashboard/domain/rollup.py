"""The monthly rollups behind the national and provincial pages: what one complaint (and each
of its referrals) adds to them.

Pure functions. The consumer that stores a complaint's refolded facts adds, in the same
transaction, the difference between what the complaint contributed before and what it
contributes now (a reopened complaint moves from ``closed`` back to ``open``, a late answer
adds to ``answered``), so the rollups stay equal to a from-scratch ``GROUP BY`` over the facts
(``ROLLUP_FROM_FACTS``) without a refresh.

Keys: the district (first four digits of the place code), the month of receipt (local,
Asia/Jakarta, as the page's period filter), the category, the program ('' for none) and the
channel; for referrals the destination too. Everything that can be summed is here; what
cannot — the SLA judgements as of today and the percentiles — is read from the facts
(``services/dashboard/figures.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from services.dashboard.domain.facts import FUNNEL

JAKARTA = ZoneInfo("Asia/Jakarta")
K = TypeVar("K", bound=tuple[Any, ...])
DISTRICT_LENGTH = 4

ComplaintKey = tuple[str, date, str, str, str]
"""(district, month, category, program or '', channel)."""
ReferralKey = tuple[str, date, str, str, str]
"""(district, month, category, program or '', destination)."""

COMPLAINT_KEY = ("district", "month", "category", "program_code", "channel")
REFERRAL_KEY = ("district", "month", "category", "program_code", "destination")

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


def _from_scratch(table: str, alias: str, keys: str, measures: Iterable[tuple[str, str]]) -> str:
    sums = ", ".join(f"sum({expr})::int AS {name}" for name, expr in measures)
    return (
        f"SELECT left({alias}.place_code, {DISTRICT_LENGTH}) AS district, "  # noqa: S608
        f"{MONTH_SQL.format(alias=alias)} AS month, {alias}.category, "
        f"coalesce({alias}.program_code, '') AS program_code, {keys}, {sums} "
        f"FROM {table} {alias} GROUP BY 1, 2, 3, 4, 5"
    )


COMPLAINT_ROLLUP_FROM_FACTS = _from_scratch("complaint_facts", "c", "c.channel", COMPLAINT_MEASURES)
"""complaint_rollup computed from scratch (the migration's backfill, the tests' reference)."""
REFERRAL_ROLLUP_FROM_FACTS = _from_scratch(
    "referral_facts", "r", "r.destination", REFERRAL_MEASURES
)


def local_month(at: datetime) -> date:
    return at.astimezone(JAKARTA).date().replace(day=1)


def _local_day(at: datetime) -> date:
    return at.astimezone(JAKARTA).date()


@dataclass(frozen=True)
class Contribution:
    """What one complaint adds to the rollups (negated when it is taken back)."""

    complaints: dict[ComplaintKey, tuple[int, ...]]
    referrals: dict[ReferralKey, tuple[int, ...]]


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
        return Contribution({}, {})
    base = (
        complaint["place_code"][:DISTRICT_LENGTH],
        local_month(complaint["received_at"]),
        complaint["category"],
        complaint["program_code"] or "",
    )
    found: dict[ReferralKey, tuple[int, ...]] = {}
    for r in referrals:
        key = (*base, r["destination"])
        found[key] = _add(found.get(key), referral_measures(r))
    return Contribution({(*base, complaint["channel"]): complaint_measures(complaint)}, found)


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


def changes(
    before: Contribution, after: Contribution
) -> tuple[list[tuple[ComplaintKey, tuple[int, ...]]], list[tuple[ReferralKey, tuple[int, ...]]]]:
    """The non-zero additions to each rollup that turn ``before`` into ``after``."""
    return (
        _difference(before.complaints, after.complaints),
        _difference(before.referrals, after.referrals),
    )
