"""Intake's referral records (table ``referrals``, migration ``0003``): written from the lifecycle
events (``referral_history.change_for``), read by the referral routes, the callbacks and the
answer link. Every function takes the connection of the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.referral_history import (
    WAITING,
    Opened,
    ReferralStatus,
    Updated,
    change_for,
)
from slrt.contracts.events import ComplaintTransitioned
from slrt.db import Connection

_WAITING = sorted(s.value for s in WAITING)


async def apply(conn: Connection, event: ComplaintTransitioned) -> None:
    """Record what ``event`` does to a referral of its complaint (a redelivery changes
    nothing: a referral keeps the sequence of the last event applied to it)."""
    change = change_for(event)
    if change is None:
        return
    if isinstance(change, Opened):
        await _open(conn, event, change)
    else:
        await _update(conn, event, change)


async def _open(conn: Connection, event: ComplaintTransitioned, change: Opened) -> None:
    snap = event.snapshot
    known = await conn.fetchval(
        "SELECT true FROM complaint_status WHERE complaint_id = $1", snap.complaint_id
    )
    if not known:
        return
    await conn.execute(
        """
        INSERT INTO referrals (referral_id, complaint_id, ticket_number, place_code, category,
            destination, channel, status, approved_by, approved_at, approval_note,
            separation_of_duties, answer_due, sequence)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (referral_id) DO NOTHING
        """,
        change.referral_id,
        snap.complaint_id,
        snap.ticket_number,
        snap.place_code,
        snap.category.value,
        change.destination,
        change.channel,
        ReferralStatus.REFERRED.value,
        change.approved_by,
        change.approved_at,
        change.approval_note,
        change.separation_of_duties,
        change.answer_due,
        event.sequence,
    )


async def _update(conn: Connection, event: ComplaintTransitioned, change: Updated) -> None:
    if change.referral_id is not None:
        row = await conn.fetchrow(
            "SELECT * FROM referrals WHERE referral_id = $1 AND complaint_id = $2 FOR UPDATE",
            change.referral_id,
            event.complaint_id,
        )
    else:  # events recorded before the workflow named the referral in every transition
        row = await conn.fetchrow(
            "SELECT * FROM referrals WHERE complaint_id = $1 AND status = ANY($2) "
            "ORDER BY approved_at DESC LIMIT 1 FOR UPDATE",
            event.complaint_id,
            _WAITING,
        )
    if row is None or row["sequence"] >= event.sequence:
        return
    values: dict[str, Any] = {"sequence": event.sequence}
    if change.delivered_at is not None and row["delivered_at"] is None:
        values["delivered_at"] = change.delivered_at
    if row["status"] in _WAITING:
        if change.answer_due is not None:
            values["answer_due"] = change.answer_due
        if change.status is not None:
            values["status"] = change.status.value
            values["closed_at"] = change.closed_at
        values.update(change.answer)
    columns = list(values)
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    await conn.execute(
        f"UPDATE referrals SET {assignments} WHERE referral_id = $1",  # noqa: S608 -- fixed names
        row["referral_id"],
        *values.values(),
    )


async def referral(conn: Connection, referral_id: UUID) -> asyncpg.Record | None:
    """One referral with its complaint's current step (``step``)."""
    return await conn.fetchrow(
        "SELECT r.*, s.step FROM referrals r "
        "LEFT JOIN complaint_status s ON s.complaint_id = r.complaint_id "
        "WHERE r.referral_id = $1",
        referral_id,
    )


async def of_complaint(conn: Connection, complaint_id: UUID) -> list[asyncpg.Record]:
    """Every referral of a complaint, oldest first (its referral history)."""
    return await conn.fetch(
        "SELECT * FROM referrals WHERE complaint_id = $1 ORDER BY approved_at, referral_id",
        complaint_id,
    )


async def to_programs(
    conn: Connection,
    *,
    programs: list[str],
    waiting_only: bool,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Referrals to ``programs``, newest approval first (keyset pagination)."""
    args: list[Any] = [programs, limit]
    where = ["r.destination = ANY($1)"]
    if waiting_only:
        args.append(_WAITING)
        where.append(f"r.status = ANY(${len(args)})")
    if after is not None:
        args.extend(after)
        where.append(f"(r.approved_at, r.referral_id) < (${len(args) - 1}, ${len(args)})")
    return await conn.fetch(
        "SELECT r.*, s.step FROM referrals r "  # noqa: S608 -- clauses are fixed text
        "LEFT JOIN complaint_status s ON s.complaint_id = r.complaint_id WHERE "
        + " AND ".join(where)
        + " ORDER BY r.approved_at DESC, r.referral_id DESC LIMIT $2",
        *args,
    )


async def final_answer(conn: Connection, referral_id: UUID) -> asyncpg.Record | None:
    """A final answer recorded here for the referral (accepted, rejected, not responsible) that
    the workflow may not have confirmed yet: a second answer must not pass it."""
    return await conn.fetchrow(
        "SELECT * FROM referral_answers WHERE referral_id = $1 AND decision <> 'under_review' "
        "ORDER BY answered_at LIMIT 1",
        referral_id,
    )
