"""Generated complaint facts for the national read model, written straight into the dashboard's
tables with COPY (the Kafka path is what the tests cover), then the rollups computed from them
with the migration's own from-scratch statements.

The distribution is made up but shaped like the real thing, over the real place codes the
project carries (``slrt.places``: 38 provinces, 514 districts, 83,762 villages): districts
weighted unevenly (log-normal, a few big cities and many small regencies), a year of receipt
with fewer complaints at weekends and a rising trend, the categories and channels in the
proportions of the guideline's examples, most older complaints closed and most recent ones
open, a third referred to a program, durations log-normal around the SLA promises.
"""

from __future__ import annotations

import csv
import math
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from services.dashboard.domain.rollup import (
    COMPLAINT_ROLLUP_FROM_FACTS,
    HISTOGRAM_FROM_FACTS,
    REFERRAL_ROLLUP_FROM_FACTS,
)
from slrt.db import Connection
from slrt.places import directory

END = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
"""The last day of the generated year (08:00 in Jakarta; complaints arrive in office hours)."""
DAYS = 365

CATEGORIES = (("membership", 35), ("implementation", 30), ("program_need", 20), ("information", 15))
CHANNELS = (("puskesos_walk_in", 55), ("district_walk_in", 20), ("facilitator_visit", 25))
PROGRAMS = (("PKH", 35), ("BPNT", 30), ("PBI-JK", 15), ("PIP", 12), ("ATENSI", 8))
PROGRAM_AGENCIES = {
    "PKH": "Ditjen Linjamsos, Kemensos",
    "BPNT": "Ditjen PFM, Kemensos",
    "PBI-JK": "BPJS Kesehatan",
    "PIP": "Kemendikdasmen",
    "ATENSI": "Ditjen Rehsos, Kemensos",
}

COMPLAINT_COLUMNS = (
    "complaint_id",
    "ticket_number",
    "place_code",
    "category",
    "channel",
    "program_code",
    "step",
    "open",
    "outcome",
    "received_at",
    "acknowledged_at",
    "acknowledge_due",
    "resolved_at",
    "resolve_due",
    "closed_at",
    "steps_reached",
    "escalation_count",
    "repeat",
    "reopened",
    "household_response",
    "last_sequence",
)
REFERRAL_COLUMNS = (
    "referral_id",
    "complaint_id",
    "place_code",
    "category",
    "program_code",
    "destination",
    "received_at",
    "sent_at",
    "answered_at",
    "decision",
    "expired",
)


def _choices(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[int]]:
    return [p for p, _ in pairs], [w for _, w in pairs]


class Generator:
    def __init__(self, seed: int = 17) -> None:
        self.rng = random.Random(seed)
        places = directory()
        villages: dict[str, list[str]] = {}
        for p in places:
            if len(p.code) == 10:
                villages.setdefault(p.code[:4], []).append(p.code)
        self.districts = sorted(villages)
        self.villages = villages
        # Uneven districts: a log-normal weight each (a few cities carry many complaints).
        self.weights = [self.rng.lognormvariate(0, 0.9) for _ in self.districts]
        # Day weights: a rising year, fewer complaints at weekends.
        start = END - timedelta(days=DAYS)
        self.days = [start + timedelta(days=d) for d in range(DAYS)]
        self.day_weights = [
            (0.7 + 0.6 * d / DAYS) * (0.25 if day.weekday() >= 5 else 1.0)
            for d, day in enumerate(self.days)
        ]

    def complaints(self, n: int) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
        """``n`` complaint_facts rows, each with its referral_facts rows."""
        rng = self.rng
        categories, category_w = _choices(CATEGORIES)
        channels, channel_w = _choices(CHANNELS)
        programs, program_w = _choices(PROGRAMS)
        district_of = rng.choices(self.districts, self.weights, k=n)
        day_of = rng.choices(self.days, self.day_weights, k=n)
        category_of = rng.choices(categories, category_w, k=n)
        channel_of = rng.choices(channels, channel_w, k=n)
        program_of = rng.choices(programs, program_w, k=n)
        for i in range(n):
            district, category = district_of[i], category_of[i]
            place = rng.choice(self.villages[district])
            received = day_of[i] + timedelta(minutes=rng.randrange(0, 8 * 60))
            age = (END - received).total_seconds() / 86400
            program = (
                None
                if category == "information" or (category == "membership" and rng.random() < 0.5)
                else program_of[i]
            )
            ack_due = (received + timedelta(days=3)).date()
            resolve_due = (received + timedelta(days=14)).date()
            yield self._one(
                i, place, category, channel_of[i], program, received, age, ack_due, resolve_due
            )

    def _one(
        self,
        i: int,
        place: str,
        category: str,
        channel: str,
        program: str | None,
        received: datetime,
        age: float,
        ack_due: date,
        resolve_due: date,
    ) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
        rng = self.rng
        complaint_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        steps = ["received", "registered"]
        referrals: list[tuple[Any, ...]] = []
        acknowledged = resolved = closed = None
        outcome = response = None
        escalations = 1 if rng.random() < 0.06 else 0
        escalations += 1 if escalations and rng.random() < 0.2 else 0
        reopened = False
        if category == "information":
            # Answered at registration and closed the same day.
            closed = resolved = acknowledged = received + timedelta(hours=rng.uniform(0.1, 4))
            steps.append("closed")
            outcome, step = "answered", "closed"
        else:
            steps += ["registry_check", "back_office"]
            ack_days = rng.lognormvariate(math.log(1.5), 0.7)
            resolve_days = ack_days + rng.lognormvariate(math.log(6), 0.6)
            open_chance = 0.6 if age < 14 else 0.15 if age < 60 else 0.03
            referred = program is not None and rng.random() < 0.45
            if ack_days < age:
                acknowledged = received + timedelta(days=ack_days)
            if referred:
                steps += ["manager_approval", "referred"]
                sent = received + timedelta(days=ack_days + rng.uniform(0.5, 2))
                answer_days = rng.lognormvariate(math.log(5), 0.8)
                answered = sent + timedelta(days=answer_days)
                decision: str | None = None
                expired = False
                if sent < END and answered < END and rng.random() < 0.85:
                    decision = "accepted" if rng.random() < 0.65 else "rejected"
                else:
                    expired = (END - sent).days > 30
                assert program is not None
                referrals.append(
                    (
                        uuid.UUID(int=rng.getrandbits(128), version=4),
                        complaint_id,
                        place,
                        category,
                        program,
                        program,
                        received,
                        min(sent, END),
                        answered if decision else None,
                        decision,
                        expired,
                    )
                )
                answered_at = answered if decision else None
                if answered_at is not None:
                    resolve_days = max(resolve_days, (answered_at - received).days + 0.5)
            if rng.random() < open_chance or resolve_days >= age:
                step = rng.choice(["back_office", "registry_check", "manager_approval"])
                if referrals:
                    step = "referred"
                if rng.random() < 0.02:
                    step, outcome = "withdrawn", "withdrawn"
                    closed = received + timedelta(days=min(age, 2))
                    acknowledged = acknowledged or closed
            else:
                resolved = received + timedelta(days=resolve_days)
                steps.append("feedback")
                roll = rng.random()
                response = "satisfied" if roll < 0.7 else "not_satisfied" if roll < 0.85 else None
                reopened = response == "not_satisfied" and rng.random() < 0.3
                closed = resolved + timedelta(days=rng.uniform(0, 3))
                if closed < END:
                    steps.append("closed")
                    step = "closed"
                    outcome = (
                        (
                            "referral_accepted"
                            if referrals[0][9] == "accepted"
                            else "referral_rejected"
                        )
                        if referrals and referrals[0][9]
                        else "resolved_locally"
                    )
                else:
                    step, closed = "feedback", None
                acknowledged = acknowledged or resolved
        is_open = step not in ("closed", "withdrawn")
        row = (
            complaint_id,
            f"{place[:4]}-{received:%y}-{i:07d}",
            place,
            category,
            channel,
            program,
            step,
            is_open,
            outcome,
            received,
            acknowledged,
            ack_due,
            resolved,
            resolve_due,
            closed if not is_open else None,
            steps,
            escalations,
            rng.random() < 0.04,
            reopened,
            response,
            len(steps) + (2 if reopened else 0),
        )
        return row, referrals


async def load(
    conn: Connection,
    complaints: int,
    seed: int = 17,
    batch: int = 50_000,
    cache: Path | None = None,
) -> dict[str, float]:
    """Generate and COPY ``complaints`` facts (and their referrals), the catalog's owners, then
    the rollups from scratch; VACUUM ANALYZE so the page's index-only scans see clean pages.
    The facts' secondary indexes are dropped for the COPY and built again after it (as a bulk
    load would). With ``cache``, the generated facts are kept there as CSV files (made once per
    size and seed) and copied from them. Returns the seconds of each phase."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal started
        now = time.perf_counter()
        seconds[phase] = round(now - started, 1)
        started = now

    await conn.executemany(
        "INSERT INTO programs (code, name, owner_agency, version) VALUES ($1, $1, $2, 1) "
        "ON CONFLICT DO NOTHING",
        list(PROGRAM_AGENCIES.items()),
    )
    indexes = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename IN ('complaint_facts', 'referral_facts') AND indexname NOT LIKE '%_pkey'"
    )
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index["indexname"]}"')
    files = extract(cache, complaints, seed) if cache is not None else None
    lap("generate")
    if files is None:
        rows: list[tuple[Any, ...]] = []
        referrals: list[tuple[Any, ...]] = []
        for row, refs in Generator(seed).complaints(complaints):
            rows.append(row)
            referrals.extend(refs)
            if len(rows) >= batch:
                await _copy(conn, rows, referrals)
                rows, referrals = [], []
        await _copy(conn, rows, referrals)
    else:
        for table, columns, path in (
            ("complaint_facts", COMPLAINT_COLUMNS, files[0]),
            ("referral_facts", REFERRAL_COLUMNS, files[1]),
        ):
            await conn.copy_to_table(table, source=path, columns=columns, format="csv")
    lap("copy")
    for index in indexes:
        await conn.execute(index["indexdef"])
    lap("indexes")
    await conn.execute(f"INSERT INTO complaint_rollup {COMPLAINT_ROLLUP_FROM_FACTS}")
    await conn.execute(f"INSERT INTO referral_rollup {REFERRAL_ROLLUP_FROM_FACTS}")
    await conn.execute(f"INSERT INTO duration_histogram {HISTOGRAM_FROM_FACTS}")
    lap("rollups_from_scratch")
    for table in (
        "complaint_facts",
        "referral_facts",
        "complaint_rollup",
        "referral_rollup",
        "duration_histogram",
    ):
        await conn.execute(f"VACUUM ANALYZE {table}")
    lap("vacuum_analyze")
    return seconds


async def _copy(
    conn: Connection, rows: list[tuple[Any, ...]], referrals: list[tuple[Any, ...]]
) -> None:
    if rows:
        await conn.copy_records_to_table("complaint_facts", records=rows, columns=COMPLAINT_COLUMNS)
    if referrals:
        await conn.copy_records_to_table(
            "referral_facts", records=referrals, columns=REFERRAL_COLUMNS
        )


def extract(folder: Path, complaints: int, seed: int) -> tuple[Path, Path]:
    """The generated facts as CSV files in ``folder`` (written on first use)."""
    paths = (
        folder / f"complaints-{complaints}-{seed}.csv",
        folder / f"referrals-{complaints}-{seed}.csv",
    )
    if all(p.exists() for p in paths):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    partial = [p.with_suffix(".part") for p in paths]
    with partial[0].open("w", newline="") as c_out, partial[1].open("w", newline="") as r_out:
        complaints_csv, referrals_csv = csv.writer(c_out), csv.writer(r_out)
        for row, refs in Generator(seed).complaints(complaints):
            complaints_csv.writerow([_csv(v) for v in row])
            referrals_csv.writerows([_csv(v) for v in r] for r in refs)
    for part, path in zip(partial, paths, strict=True):
        part.rename(path)
    return paths


def _csv(value: Any) -> Any:
    """A value as PostgreSQL's CSV COPY reads it (an unquoted empty field is NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list):
        return "{" + ",".join(value) + "}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def today() -> date:
    """The day the generated SLA clocks are judged on (the day after the generated year)."""
    return (END + timedelta(days=1)).astimezone(UTC).date()
