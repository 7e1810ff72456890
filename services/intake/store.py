"""Intake's SQL: complaints, ticket counters, the status projection, the catalog copy, answers
and rate windows. Every function takes the connection of the caller's transaction."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from slrt.contracts.complaints import ComplaintSnapshot
from slrt.contracts.events import ComplaintTransitioned, ProgramCatalogEntry, ProgramInfoPublished
from slrt.db import Connection

SUBMISSION_LOST_RACE = "SL409"
"""The SQLSTATE of ``submission_lost_race()`` (migration 0010): the key's winner committed first."""


async def prior_submission(
    conn: Connection, submitted_by: str, key: str, program_code: str | None
) -> asyncpg.Record:
    """What a submission needs read before it is written, in one round trip: the complaint
    already accepted under (caller, key) if any (``id`` is null when none), and the named
    program's catalog entry (``program_entry``) and whether the catalog has reached intake
    (``catalog_known``)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        """
        SELECT c.id, c.ticket_number, c.request_hash, c.anonymous, c.tracking_code, c.warnings,
               s.step,
               (SELECT p.entry FROM programs p WHERE p.code = $3) AS program_entry,
               ($3::text IS NOT NULL AND EXISTS (SELECT 1 FROM programs)) AS catalog_known
        FROM (VALUES (1)) AS one (x)
        LEFT JOIN complaints c ON c.submitted_by = $1 AND c.idempotency_key = $2
        LEFT JOIN complaint_status s ON s.complaint_id = c.id
        """,
        submitted_by,
        key,
        program_code,
    )
    assert row is not None  # the one-row VALUES always gives a row
    return row


@functools.lru_cache(maxsize=8)
def _accept_sql(names: tuple[str, ...]) -> str:
    """:func:`accept`'s statement for the complaint columns ``names`` (made once: the same
    text every call, which asyncpg's statement cache and the statement span's cache key on)."""
    columns = ", ".join(names)
    params = ", ".join(
        f"${i}::text::jsonb" if column in JSON_TEXT_COLUMNS else f"${i}"
        for i, column in enumerate(names, start=1)
    )
    n = len(names)
    return f"""
        WITH guard AS MATERIALIZED (
            SELECT (${n + 15}::text IS NULL OR NOT EXISTS (SELECT 1 FROM programs) OR EXISTS (
                SELECT 1 FROM programs p WHERE p.code = ${n + 15}::text
                AND (NOT ${n + 16}::bool OR p.entry -> 'categories' ? 'program_need')
            )) AS holds
        ), serial AS (
            INSERT INTO ticket_counters (district, year, last)
            SELECT ${n + 1}::text, ${n + 2}::int, 1 FROM guard WHERE guard.holds
            ON CONFLICT (district, year) DO UPDATE SET last = ticket_counters.last + 1
            RETURNING last
        ), ticket AS (
            SELECT ${n + 1}::text || '-' || lpad((${n + 2}::int % 100)::text, 2, '0') || '-'
                || lpad(last::text, greatest(6, length(last::text)), '0') AS number
            FROM serial
        ), complaint AS (
            INSERT INTO complaints ({columns}, ticket_number)
            SELECT {params}, ticket.number FROM ticket
            ON CONFLICT (submitted_by, idempotency_key) DO NOTHING
            RETURNING id, ticket_number
        ), status AS (
            INSERT INTO complaint_status (complaint_id, ticket_number, sequence, step,
                holder_role, place_code, category, channel, program_code, referral_destination,
                referral_id, step_due, resolve_due, overdue, escalated, repeat, outcome,
                snapshot, submitted_at, updated_at)
            SELECT c.id, c.ticket_number, 0, ${n + 3}::text, ${n + 4}::text, ${n + 5}::text,
                ${n + 6}::text, ${n + 7}::text, ${n + 8}::text, NULL, NULL, NULL, NULL, false,
                false, false, NULL,
                jsonb_set(${n + 9}::text::jsonb, '{{ticket_number}}', to_jsonb(c.ticket_number)),
                ${n + 10}::timestamptz, ${n + 10}::timestamptz
            FROM complaint c
        ), event AS (
            INSERT INTO outbox (event_id, topic, envelope, trace_headers)
            SELECT ${n + 11}::text, ${n + 12}::text,
                jsonb_set(${n + 13}::text::jsonb, '{{data,ticket_number}}',
                    to_jsonb(c.ticket_number)),
                ${n + 14}::text::jsonb
            FROM complaint c
        )
        SELECT CASE WHEN (SELECT holds FROM guard)
            THEN COALESCE((SELECT ticket_number FROM complaint), submission_lost_race()) END
        """  # noqa: S608 -- fixed columns


JSON_TEXT_COLUMNS = frozenset({"complainant", "information_answer"})
"""Columns of :func:`accept`'s ``row`` given as JSON text (pydantic's ``model_dump_json``; the
statement casts them to ``jsonb``), not as values for the jsonb codec's ``json.dumps``."""


async def accept(
    conn: Connection,
    row: dict[str, Any],
    snapshot: ComplaintSnapshot,
    event: tuple[str, str, str, str],
    year: int,
    *,
    program_known: ProgramGuard | None = None,
) -> str | None:
    """Accept a new complaint in ONE statement (atomic on its own, one round trip): the next
    ticket serial of (district, year), the complaint row, its first status and its outbox row
    ``event`` = (event id, topic, envelope, trace headers; the last two as JSON text,
    :func:`slrt.outbox.row`). The ticket number is made here, so ``row`` has none, and it is
    written into the snapshot's and the envelope's data.

    ``program_known``: write only if intake's catalog copy holds the named program and, for a
    program need, the program takes needs, or the copy is still empty — what
    :func:`services.intake.domain.check_program` lets through; when it does not hold, nothing is
    written and the caller reads and asks the rule for the error.

    Returns the ticket number; ``None`` when nothing was written: a request with the same
    idempotency key committed first (the statement failed: nothing of it stays, the counter
    included), or ``program_known`` did not hold."""
    sql = _accept_sql(tuple(row))
    district = snapshot.place_code[:4]
    s = snapshot
    event_id, topic, envelope, trace_headers = event
    try:
        ticket: str | None = await conn.fetchval(
            sql,
            *row.values(),
            district,
            year,
            s.step.value,
            s.holder_role.value if s.holder_role else None,
            s.place_code,
            s.category.value,
            s.channel.value,
            s.program_code,
            # JSON text made by pydantic (one pass in Rust) rather than a dict for the jsonb
            # codec's ``json.dumps``; the statement casts it.
            s.model_dump_json(),
            row["submitted_at"],
            event_id,
            topic,
            envelope,
            trace_headers,
            None if program_known is None else program_known.code,
            program_known is not None and program_known.takes_needs,
        )
    except asyncpg.PostgresError as exc:
        if exc.sqlstate == SUBMISSION_LOST_RACE:
            return None
        raise
    return ticket


@dataclass(frozen=True)
class ProgramGuard:
    """What :func:`accept` checks of the named program in the same statement: it is in the
    catalog copy (``code``) and, if ``takes_needs``, takes program needs."""

    code: str
    takes_needs: bool


async def apply_transition(conn: Connection, event: ComplaintTransitioned) -> bool:
    """Record the transition in the timeline; move the status only forward (highest sequence).
    Returns whether the status moved. Complaints intake never accepted are ignored (every real
    one has its first status row from the submission's transaction)."""
    if not await conn.fetchval(
        "SELECT true FROM complaint_status WHERE complaint_id = $1", event.complaint_id
    ):
        return False
    args = (
        event.complaint_id,
        event.sequence,
        event.from_step,
        event.to_step,
        event.actor,
        event.actor_role,
        event.at,
        event.reason,
        event.decision_code,
        event.details,
    )
    if not await conn.fetchval(_TIMELINE_INSERT, *args) and await conn.fetchval(
        # The sequence is taken by one of intake's own entries ("personal data erased", a
        # complaint erased on request then reopened; a "handover" of its step to another
        # person): that entry moves to the end, the transition in.
        "UPDATE complaint_timeline SET sequence = (SELECT max(sequence) + 1 FROM "
        "complaint_timeline WHERE complaint_id = $1) WHERE complaint_id = $1 AND sequence = $2 "
        "AND reason IN ('personal_data_erased', 'handover') RETURNING true",
        event.complaint_id,
        event.sequence,
    ):
        await conn.execute(_TIMELINE_INSERT, *args)
    return await _upsert_status(
        conn, event.snapshot, event.sequence, event.at, event.at, _referral_id(event)
    )


_TIMELINE_INSERT = (
    "INSERT INTO complaint_timeline (complaint_id, sequence, from_step, to_step, actor, "
    "actor_role, at, reason, decision_code, details) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
    "ON CONFLICT (complaint_id, sequence) DO NOTHING RETURNING true"
)


def _referral_id(event: ComplaintTransitioned) -> UUID | None:
    """The referral this transition names: the snapshot's, else the details' (the referral
    transition carries it there)."""
    if event.snapshot.referral_id is not None:
        return event.snapshot.referral_id
    named = event.details.get("referral_id")
    try:
        return UUID(str(named)) if named else None
    except ValueError:
        return None


async def _upsert_status(
    conn: Connection,
    snap: ComplaintSnapshot,
    sequence: int,
    submitted_at: datetime,
    updated_at: datetime,
    referral_id: UUID | None,
) -> bool:
    """Later transitions keep the last referral id until a new referral names another."""
    moved = await conn.fetchval(
        """
        INSERT INTO complaint_status (complaint_id, ticket_number, sequence, step, holder_role,
            place_code, category, channel, program_code, referral_destination, referral_id,
            step_due, resolve_due, overdue, escalated, repeat, outcome, snapshot, submitted_at,
            updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20)
        ON CONFLICT (complaint_id) DO UPDATE SET
            sequence = EXCLUDED.sequence, step = EXCLUDED.step,
            holder_role = EXCLUDED.holder_role, place_code = EXCLUDED.place_code,
            category = EXCLUDED.category, channel = EXCLUDED.channel,
            program_code = EXCLUDED.program_code,
            referral_destination = EXCLUDED.referral_destination,
            referral_id = COALESCE(EXCLUDED.referral_id, complaint_status.referral_id),
            step_due = EXCLUDED.step_due,
            resolve_due = EXCLUDED.resolve_due, overdue = EXCLUDED.overdue,
            escalated = EXCLUDED.escalated, repeat = EXCLUDED.repeat,
            outcome = EXCLUDED.outcome, snapshot = EXCLUDED.snapshot,
            updated_at = EXCLUDED.updated_at
        WHERE complaint_status.sequence < EXCLUDED.sequence
        RETURNING true
        """,
        snap.complaint_id,
        snap.ticket_number,
        sequence,
        snap.step.value,
        snap.holder_role.value if snap.holder_role else None,
        snap.place_code,
        snap.category.value,
        snap.channel.value,
        snap.program_code,
        snap.referral_destination,
        referral_id,
        snap.step_due,
        snap.resolve_due,
        snap.overdue,
        snap.escalated or snap.escalation_count > 0,
        bool(snap.repeat_of),
        snap.outcome.value if snap.outcome else None,
        snap.model_dump(mode="json"),
        submitted_at,
        updated_at,
    )
    return bool(moved)


async def status(conn: Connection, complaint_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM complaint_status WHERE complaint_id = $1", complaint_id
    )


async def status_by_ticket(conn: Connection, ticket: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT s.*, c.tracking_code, c.phone_last4 FROM complaint_status s "
        "JOIN complaints c ON c.id = s.complaint_id WHERE s.ticket_number = $1",
        ticket,
    )


async def timeline(conn: Connection, complaint_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM complaint_timeline WHERE complaint_id = $1 ORDER BY sequence", complaint_id
    )


async def list_status(
    conn: Connection,
    *,
    area: str,
    steps: list[str] | None,
    category: str | None,
    program: str | None,
    overdue: bool | None,
    submitted_from: date | None,
    submitted_to: date | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
    assignee: UUID | None = None,
    within: list[str] | None = None,
) -> list[asyncpg.Record]:
    """One page of the projection, newest first, keyset-paginated on (submitted_at, id);
    ``within``: only places inside one of these prefixes too (a caller of several areas)."""
    where = ["place_code LIKE $1"]
    args: list[Any] = [_prefix_pattern(area)]

    def add(clause: str, value: Any) -> None:
        args.append(value)
        where.append(clause.replace("?", f"${len(args)}"))

    if assignee is not None:
        add("assignee = ?", assignee)

    if within is not None:
        add("place_code LIKE ANY(?)", [_prefix_pattern(a) for a in within])
    if steps is not None:
        add("step = ANY(?)", steps)
    if category is not None:
        add("category = ?", category)
    if program is not None:
        add("(program_code = ? OR referral_destination = ?)", program)
    if overdue is not None:
        add("overdue = ?", overdue)
    if submitted_from is not None:
        add("submitted_at >= ?::date", submitted_from)
    if submitted_to is not None:
        add("submitted_at < ?::date + 1", submitted_to)
    if after is not None:
        args.extend(after)
        where.append(f"(submitted_at, complaint_id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    sql = (
        "SELECT * FROM complaint_status WHERE "  # noqa: S608 -- clauses are fixed text
        + " AND ".join(where)
        + f" ORDER BY submitted_at DESC, complaint_id DESC LIMIT ${len(args)}"
    )
    return await conn.fetch(sql, *args)


def _prefix_pattern(area: str) -> str:
    """Place codes are digits only, so the prefix needs no LIKE escaping."""
    return f"{area}%"


async def upsert_program(conn: Connection, entry: ProgramCatalogEntry) -> None:
    await conn.execute(
        "INSERT INTO programs (code, version, entry) VALUES ($1, $2, $3) "
        "ON CONFLICT (code) DO UPDATE SET version = EXCLUDED.version, entry = EXCLUDED.entry "
        "WHERE programs.version <= EXCLUDED.version",
        entry.code,
        entry.version,
        entry.model_dump(mode="json"),
    )


async def upsert_program_info(conn: Connection, entry: ProgramInfoPublished) -> None:
    """Keep the newest version of each program-information entry (replays change nothing)."""
    await conn.execute(
        "INSERT INTO program_info (entry_id, version, kind, district, topic, program_code, title) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (entry_id) DO UPDATE SET version = EXCLUDED.version, "
        "topic = EXCLUDED.topic, title = EXCLUDED.title "
        "WHERE program_info.version < EXCLUDED.version",
        entry.entry_id,
        entry.version,
        entry.kind,
        entry.district,
        entry.info_topic,
        entry.program_code,
        entry.title,
    )


async def program_info(conn: Connection, entry_id: UUID) -> asyncpg.Record | None:
    """The newest version intake knows of a program-information entry."""
    return await conn.fetchrow(
        "SELECT entry_id, version, district, topic, title FROM program_info WHERE entry_id = $1",
        entry_id,
    )


async def program(conn: Connection, code: str) -> ProgramCatalogEntry | None:
    entry = await conn.fetchval("SELECT entry FROM programs WHERE code = $1", code)
    return None if entry is None else ProgramCatalogEntry.model_validate(entry)


async def record_answer(
    conn: Connection,
    *,
    answer_id: str,
    referral_id: UUID,
    complaint_id: UUID,
    decision: str,
    via: str,
    answered_at: datetime,
    note: str | None = None,
    expected_date: date | None = None,
    suggested_destination: str | None = None,
) -> asyncpg.Record | None:
    """None when ``answer_id`` was seen before (a replay); else the new row."""
    return await conn.fetchrow(
        "INSERT INTO referral_answers (answer_id, referral_id, complaint_id, decision, via, "
        "answered_at, note, expected_date, suggested_destination) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (answer_id) DO NOTHING "
        "RETURNING *",
        answer_id,
        referral_id,
        complaint_id,
        decision,
        via,
        answered_at,
        note,
        expected_date,
        suggested_destination,
    )


async def answer(conn: Connection, answer_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM referral_answers WHERE answer_id = $1", answer_id)


async def contact(conn: Connection, complaint_id: UUID) -> asyncpg.Record | None:
    """The household's contact as submitted (personal data: the caller audits the read)."""
    return await conn.fetchrow(
        "SELECT ticket_number, village_code, anonymous, phone, email, "
        "personal_data_erased_at IS NOT NULL AS erased FROM complaints WHERE id = $1",
        complaint_id,
    )


async def complainant(conn: Connection, complaint_id: UUID) -> asyncpg.Record | None:
    """The complainant as submitted (personal data: the caller audits the read)."""
    return await conn.fetchrow(
        "SELECT village_code, anonymous, complainant, "
        "personal_data_erased_at IS NOT NULL AS erased FROM complaints WHERE id = $1",
        complaint_id,
    )


async def audit_redemption(
    conn: Connection,
    *,
    caller: str,
    caller_roles: list[str],
    complaint_id: UUID,
    request_id: UUID,
    purpose: str,
    released: list[str],
    outcome: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO contact_redemptions (caller, caller_roles, complaint_id, request_id, purpose,
                                         released, outcome)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        caller,
        caller_roles,
        complaint_id,
        request_id,
        purpose,
        released,
        outcome,
    )


async def contact_redemptions(conn: Connection, complaint_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM contact_redemptions WHERE complaint_id = $1 ORDER BY id", complaint_id
    )


async def keep_texts(
    conn: Connection,
    *,
    complaint_id: UUID,
    request_id: str,
    action: str,
    actor: str,
    texts: dict[str, str],
) -> None:
    """The original free text of an action that went to the workflow masked (a replay of the
    same key keeps the first)."""
    await conn.executemany(
        "INSERT INTO action_texts (complaint_id, request_id, action, field, text, actor) "
        "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        [(complaint_id, request_id, action, f, t, actor) for f, t in sorted(texts.items())],
    )
