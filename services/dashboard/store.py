"""Writing the read model: one transition in, the complaint's facts refolded and stored."""

from __future__ import annotations

import json

from services.dashboard.domain import rollup
from services.dashboard.domain.facts import ComplaintFacts, fold
from slrt.contracts.complaints import ComplaintSnapshot
from slrt.contracts.events import ComplaintTransitioned, ProgramCatalogEntry
from slrt.db import Connection

READ_MODEL_TABLES = (
    "transitions",
    "complaint_facts",
    "referral_facts",
    "programs",
    "complaint_rollup",
    "referral_rollup",
    "duration_histogram",
)


async def apply_transition(conn: Connection, event: ComplaintTransitioned) -> None:
    """Record ``event`` (a repeat of a recorded sequence changes nothing) and refold."""
    inserted = await conn.fetchval(
        """
        INSERT INTO transitions (complaint_id, sequence, from_step, to_step, actor_role, at,
                                 reason, decision_code, details, snapshot)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        event.complaint_id,
        event.sequence,
        event.from_step,
        event.to_step,
        event.actor_role,
        event.at,
        event.reason,
        event.decision_code,
        event.details,
        event.snapshot.model_dump(mode="json"),
    )
    if not inserted:
        return
    rows = await conn.fetch(
        "SELECT * FROM transitions WHERE complaint_id = $1 ORDER BY sequence", event.complaint_id
    )
    history = [
        ComplaintTransitioned(
            complaint_id=r["complaint_id"],
            sequence=r["sequence"],
            from_step=r["from_step"],
            to_step=r["to_step"],
            actor="",  # who acted is not needed for the figures and is not kept
            actor_role=r["actor_role"],
            at=r["at"],
            reason=r["reason"],
            decision_code=r["decision_code"],
            details=_json(r["details"]),
            snapshot=ComplaintSnapshot.model_validate(_json(r["snapshot"])),
        )
        for r in rows
    ]
    facts = fold(history)
    await _update_rollups(conn, facts)
    await _store_facts(conn, facts)


def _json(value: object) -> dict[str, object]:
    loaded = json.loads(value) if isinstance(value, str) else value
    assert isinstance(loaded, dict)
    return loaded


async def _update_rollups(conn: Connection, f: ComplaintFacts) -> None:
    """Add to the rollups what the refolded complaint changes in them (same transaction)."""
    old = await conn.fetchrow(
        "SELECT * FROM complaint_facts WHERE complaint_id = $1 FOR UPDATE", f.complaint_id
    )
    old_referrals = {
        r["referral_id"]: dict(r)
        for r in await conn.fetch(
            "SELECT * FROM referral_facts WHERE complaint_id = $1", f.complaint_id
        )
    }
    # Stored referrals stay (a fold never forgets one); the refold's version replaces each.
    new_referrals = dict(old_referrals)
    for r in f.referrals:
        new_referrals[r.referral_id] = {
            "destination": r.destination,
            "sent_at": r.sent_at,
            "answered_at": r.answered_at,
            "decision": r.decision,
            "expired": r.expired,
        }
    now = {
        "place_code": f.place_code,
        "received_at": f.received_at,
        "category": f.category,
        "program_code": f.program_code,
        "channel": f.channel,
        "open": f.open,
        "escalation_count": f.escalation_count,
        "repeat": f.repeat,
        "reopened": f.reopened,
        "resolved_at": f.resolved_at,
        "household_response": f.household_response,
        "acknowledge_due": f.acknowledge_due,
        "acknowledged_at": f.acknowledged_at,
        "resolve_due": f.resolve_due,
        "outcome": f.outcome,
        "closed_at": f.closed_at,
        "steps_reached": f.steps_reached,
    }
    delta = rollup.changes(
        rollup.contribution(dict(old) if old else None, old_referrals.values()),
        rollup.contribution(now, new_referrals.values()),
    )
    for statement, rows in (
        (_UPSERT_COMPLAINT_ROLLUP, delta.complaints),
        (_UPSERT_REFERRAL_ROLLUP, delta.referrals),
        (_UPSERT_HISTOGRAM, delta.histogram),
    ):
        if rows:
            await conn.executemany(statement, [(*k, *v) for k, v in rows])


def _additive_upsert(table: str, keys: tuple[str, ...], columns: tuple[str, ...]) -> str:
    names = (*keys, *columns)
    values = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    sums = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in columns)
    return (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sums}"
    )


_UPSERT_COMPLAINT_ROLLUP = _additive_upsert(
    "complaint_rollup", rollup.COMPLAINT_KEY, rollup.COMPLAINT_COLUMNS
)
_UPSERT_REFERRAL_ROLLUP = _additive_upsert(
    "referral_rollup", rollup.REFERRAL_KEY, rollup.REFERRAL_COLUMNS
)
_UPSERT_HISTOGRAM = _additive_upsert("duration_histogram", rollup.HISTOGRAM_KEY, ("n",))


async def _store_facts(conn: Connection, f: ComplaintFacts) -> None:
    await conn.execute(
        """
        INSERT INTO complaint_facts (complaint_id, ticket_number, place_code, category, channel,
            program_code, step, open, outcome, received_at, acknowledged_at, acknowledge_due,
            resolved_at, resolve_due, closed_at, steps_reached, escalation_count, repeat,
            reopened, household_response, last_sequence, information_topic)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18, $19, $20, $21, $22)
        ON CONFLICT (complaint_id) DO UPDATE SET
            ticket_number = EXCLUDED.ticket_number, place_code = EXCLUDED.place_code,
            category = EXCLUDED.category, channel = EXCLUDED.channel,
            program_code = EXCLUDED.program_code, step = EXCLUDED.step, open = EXCLUDED.open,
            outcome = EXCLUDED.outcome, received_at = EXCLUDED.received_at,
            acknowledged_at = EXCLUDED.acknowledged_at,
            acknowledge_due = EXCLUDED.acknowledge_due, resolved_at = EXCLUDED.resolved_at,
            resolve_due = EXCLUDED.resolve_due, closed_at = EXCLUDED.closed_at,
            steps_reached = EXCLUDED.steps_reached,
            escalation_count = EXCLUDED.escalation_count, repeat = EXCLUDED.repeat,
            reopened = EXCLUDED.reopened, household_response = EXCLUDED.household_response,
            last_sequence = EXCLUDED.last_sequence,
            information_topic = EXCLUDED.information_topic
        """,
        f.complaint_id,
        f.ticket_number,
        f.place_code,
        f.category,
        f.channel,
        f.program_code,
        f.step,
        f.open,
        f.outcome,
        f.received_at,
        f.acknowledged_at,
        f.acknowledge_due,
        f.resolved_at,
        f.resolve_due,
        f.closed_at,
        list(f.steps_reached),
        f.escalation_count,
        f.repeat,
        f.reopened,
        f.household_response,
        f.last_sequence,
        f.information_topic,
    )
    await conn.executemany(
        """
        INSERT INTO referral_facts (referral_id, complaint_id, place_code, category,
            program_code, destination, received_at, sent_at, answered_at, decision, expired)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (referral_id) DO UPDATE SET
            place_code = EXCLUDED.place_code, category = EXCLUDED.category,
            program_code = EXCLUDED.program_code, destination = EXCLUDED.destination,
            received_at = EXCLUDED.received_at, sent_at = EXCLUDED.sent_at,
            answered_at = EXCLUDED.answered_at,
            decision = EXCLUDED.decision, expired = EXCLUDED.expired
        """,
        [
            (
                r.referral_id,
                f.complaint_id,
                f.place_code,
                f.category,
                f.program_code,
                r.destination,
                f.received_at,
                r.sent_at,
                r.answered_at,
                r.decision,
                r.expired,
            )
            for r in f.referrals
        ],
    )


async def apply_catalog_entry(conn: Connection, entry: ProgramCatalogEntry) -> None:
    """Keep the newest version of each program (the compacted topic may replay older ones)."""
    await conn.execute(
        """
        INSERT INTO programs (code, name, owner_agency, version, level, area, categories, active)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,
            owner_agency = EXCLUDED.owner_agency, version = EXCLUDED.version,
            level = EXCLUDED.level, area = EXCLUDED.area, categories = EXCLUDED.categories,
            active = EXCLUDED.active, updated_at = now()
        WHERE programs.version < EXCLUDED.version
        """,
        entry.code,
        entry.name,
        entry.owner_agency,
        entry.version,
        entry.level,
        entry.area,
        [c.value for c in entry.categories],
        entry.active,
    )
