"""The SLA state of open complaints as Prometheus gauges, by step and district.

A background loop recounts the read model every ``sla_metrics_seconds`` and a collector serves
the last count. Not a query per scrape: prometheus_client collects synchronously on the event
loop (asyncpg cannot be awaited there), and each replica of every Prometheus would multiply the
load. Every dashboard replica exports the same counts: aggregate with ``max``, not ``sum``.

Breached and at risk use the dashboard's own definition of a late promise
(:data:`services.dashboard.figures.LATE`), so the gauges agree with the pages' SLA rates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.dashboard.figures import LATE
from services.dashboard.settings import DashboardSettings
from slrt.db import Connection
from slrt.metrics import REGISTRY
from slrt.stopping import sleep_or_stop

log = logging.getLogger(__name__)

DISTRICT_DIGITS = 4
"""Place codes are province (2) + district (2) + sub-district + village: ~500 districts keep
the label bounded; sub-districts and villages would not."""

# An unmet promise falling due between today ($1) and the horizon ($2), not yet late.
_DUE_SOON = (
    "((c.acknowledged_at IS NULL AND c.acknowledge_due BETWEEN $1 AND $2)"
    " OR (c.resolved_at IS NULL AND c.resolve_due BETWEEN $1 AND $2))"
)

# One aggregate over the partial index complaint_facts_open (migration 0002).
_COUNT = f"""
    SELECT c.step, substr(c.place_code, 1, {DISTRICT_DIGITS}) AS district,
           count(*) AS open,
           count(*) FILTER (WHERE NOT {LATE} AND {_DUE_SOON}) AS at_risk,
           count(*) FILTER (WHERE {LATE}) AS breached
    FROM complaint_facts c
    WHERE c.open
    GROUP BY 1, 2
"""  # noqa: S608 (assembled from constants only)


@dataclass(frozen=True)
class SlaCount:
    step: str
    district: str
    open: int
    at_risk: int
    breached: int


async def count_open(conn: Connection, today: date, at_risk_days: int) -> list[SlaCount]:
    """Open complaints per step and district, and how many of them are at risk or late."""
    rows = await conn.fetch(_COUNT, today, today + timedelta(days=at_risk_days))
    return [SlaCount(**dict(r)) for r in rows]


class SlaGauges(Collector):
    """Serves the last count; a step/district that no longer has open complaints vanishes
    instead of lingering at its old value, as labelled ``Gauge`` children would."""

    def __init__(self) -> None:
        self._counts: Sequence[SlaCount] = ()
        self._refreshed: float | None = None

    def update(self, counts: Sequence[SlaCount], as_of: float) -> None:
        """Serve ``counts`` from now on; ``as_of`` is when their query started (Unix time)."""
        self._counts, self._refreshed = tuple(counts), as_of

    def collect(self) -> Iterable[GaugeMetricFamily]:
        labels = ["step", "district"]
        families = {
            "open": GaugeMetricFamily(
                "slrt_complaints_open", "Open complaints by current step", labels=labels
            ),
            "at_risk": GaugeMetricFamily(
                "slrt_complaints_at_risk",
                "Open complaints whose promised acknowledgement or resolution falls due today or "
                "within the next SLRT_DASHBOARD_SLA_AT_RISK_DAYS days (not yet late)",
                labels=labels,
            ),
            "breached": GaugeMetricFamily(
                "slrt_complaints_breached",
                "Open complaints whose promised acknowledgement or resolution date has passed",
                labels=labels,
            ),
        }
        for c in self._counts:
            for field, family in families.items():
                family.add_metric([c.step, c.district], getattr(c, field))
        yield from families.values()
        refreshed = GaugeMetricFamily(
            "slrt_complaints_sla_refreshed_timestamp_seconds",
            "When the last recount of the SLA gauges started (alert when it stops moving)",
        )
        if self._refreshed is not None:
            refreshed.add_metric([], self._refreshed)
        yield refreshed


GAUGES = SlaGauges()
REGISTRY.register(GAUGES)


async def refresh_once(pool: asyncpg.Pool, settings: DashboardSettings) -> None:
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    async with pool.acquire() as conn:
        # Stamped before the query: the counts include everything committed before the stamp.
        as_of = time.time()
        GAUGES.update(await count_open(conn, today, settings.sla_at_risk_days), as_of)


async def refresh_loop(
    pool: asyncpg.Pool, settings: DashboardSettings, stop: asyncio.Event
) -> None:
    """Recount until stopped; a failed pass leaves the last count (and its timestamp) up."""
    while not stop.is_set():
        try:
            await refresh_once(pool, settings)
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("SLA gauges not refreshed", extra={"error_type": type(exc).__name__})
        await sleep_or_stop(stop, settings.sla_metrics_seconds)
