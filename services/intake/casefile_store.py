"""Intake's SQL for staff reads of personal data: the complaint as submitted, the timeline with
each transition's details (the case file and the referral history are folded from it), and the
audit log every such read writes. Every function takes the connection of the caller's
transaction: the read and its audit row commit together."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from slrt.db import Connection


async def submitted(conn: Connection, complaint_id: UUID) -> asyncpg.Record | None:
    """The complaint as submitted (complainant, phone, email where intake keeps one: personal
    data), its ``description`` as it stands (the last correction's, else as submitted) and
    ``submitted_description``."""
    return await conn.fetchrow(
        "SELECT c.id, COALESCE(k.description, c.description) AS description, "
        "c.description AS submitted_description, k.corrected_at, "
        "COALESCE(k.sub_type, c.sub_type) AS sub_type, c.occurred_on, c.anonymous, "
        "c.complainant, c.phone, to_jsonb(c) ->> 'email' AS email, c.warnings, "
        "c.information_answer "
        "FROM complaints c LEFT JOIN LATERAL (SELECT * FROM complaint_corrections k "
        "WHERE k.complaint_id = c.id ORDER BY k.corrected_at DESC LIMIT 1) k ON true "
        "WHERE c.id = $1",
        complaint_id,
    )


async def record_correction(
    conn: Connection,
    *,
    complaint_id: UUID,
    request_id: str,
    description: str,
    category: str,
    program_code: str | None,
    sub_type: str | None,
    corrected_by: str,
) -> None:
    """A facilitator's correction the workflow accepted (once per request id)."""
    await conn.execute(
        "INSERT INTO complaint_corrections (complaint_id, request_id, description, category, "
        "program_code, sub_type, corrected_by, corrected_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, now()) "
        "ON CONFLICT (complaint_id, request_id) DO NOTHING",
        complaint_id,
        request_id,
        description,
        category,
        program_code,
        sub_type,
        corrected_by,
    )


async def submitted_many(conn: Connection, ids: list[UUID]) -> dict[UUID, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT id, anonymous, complainant, phone FROM complaints WHERE id = ANY($1)", ids
    )
    return {r["id"]: r for r in rows}


async def case_timeline(conn: Connection, complaint_id: UUID) -> list[asyncpg.Record]:
    """Every transition with its details, by sequence (the referral history folds from it)."""
    return await conn.fetch(
        "SELECT * FROM complaint_timeline WHERE complaint_id = $1 ORDER BY sequence", complaint_id
    )


async def case_timelines(conn: Connection, ids: list[UUID]) -> dict[UUID, list[asyncpg.Record]]:
    rows = await conn.fetch(
        "SELECT * FROM complaint_timeline WHERE complaint_id = ANY($1) "
        "ORDER BY complaint_id, sequence",
        ids,
    )
    found: dict[UUID, list[asyncpg.Record]] = {i: [] for i in ids}
    for r in rows:
        found[r["complaint_id"]].append(r)
    return found


async def audit(
    conn: Connection,
    *,
    actor: str,
    actor_role: str,
    action: str,
    reads: Iterable[tuple[UUID | None, str, str | None, list[str]]],
    detail: str | None = None,
) -> None:
    """One audit row per complaint read: ``reads`` are (complaint id, its place code, its step
    at the read — why —, the fields disclosed)."""
    await conn.executemany(
        "INSERT INTO audit_log (actor, actor_role, action, complaint_id, place_code, step, "
        "fields, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
            (actor, actor_role, action, cid, place, step, fields, detail)
            for cid, place, step, fields in reads
        ],
    )


async def read_audited(
    conn: Connection,
    complaint_id: UUID,
    *,
    actor: str,
    actor_role: str,
    action: str,
    identity: bool,
) -> asyncpg.Record | None:
    """The complaint as it stands (``submitted``) for a reader already authorised, with its
    audit row — the complaint's place and current step taken from the status projection. With
    ``identity`` False only the description counts as read. Call inside a transaction."""
    found = await submitted(conn, complaint_id)
    status = await conn.fetchrow(
        "SELECT place_code, step FROM complaint_status WHERE complaint_id = $1", complaint_id
    )
    if found is None or status is None:
        return None
    fields = (
        ["description", "complainant"] if identity and not found["anonymous"] else ["description"]
    )
    await audit(
        conn,
        actor=actor,
        actor_role=actor_role,
        action=action,
        reads=[(complaint_id, status["place_code"], status["step"], fields)],
    )
    return found


async def audit_page(
    conn: Connection,
    *,
    area: str,
    complaint_id: UUID | None,
    actor: str | None,
    at_from: datetime | None,
    at_to: datetime | None,
    before_id: int | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Audit rows of complaints in ``area``, newest first (keyset on the id)."""
    where = ["place_code LIKE $1"]
    args: list[Any] = [f"{area}%"]  # place codes are digits: no LIKE escaping needed

    def add(clause: str, value: Any) -> None:
        args.append(value)
        where.append(clause.replace("?", f"${len(args)}"))

    if complaint_id is not None:
        add("complaint_id = ?", complaint_id)
    if actor is not None:
        add("actor = ?", actor)
    if at_from is not None:
        add("at >= ?", at_from)
    if at_to is not None:
        add("at < ?", at_to)
    if before_id is not None:
        add("id < ?", before_id)
    args.append(limit)
    sql = (
        "SELECT * FROM audit_log WHERE "  # noqa: S608 -- clauses are fixed text
        + " AND ".join(where)
        + f" ORDER BY id DESC LIMIT ${len(args)}"
    )
    return await conn.fetch(sql, *args)
