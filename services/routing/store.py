"""Routing's tables: its copy of the program catalog, the repeat-complaint index and where each
open complaint stands (for the step-duration metric)."""

from __future__ import annotations

from datetime import timedelta

from services.routing.metrics import StepMark
from slrt.contracts.complaints import OPEN_STEPS
from slrt.contracts.events import ComplaintTransitioned, ProgramCatalogEntry
from slrt.db import Connection
from workflows.model import RepeatQuery


async def upsert_program(conn: Connection, entry: ProgramCatalogEntry) -> bool:
    """Keep ``entry`` unless a newer (or the same) version is already held; True if stored."""
    stored = await conn.fetchval(
        """
        INSERT INTO programs (code, version, entry) VALUES ($1, $2, $3)
        ON CONFLICT (code) DO UPDATE
            SET version = EXCLUDED.version, entry = EXCLUDED.entry, updated_at = now()
            WHERE programs.version < EXCLUDED.version
        RETURNING true
        """,
        entry.code,
        entry.version,
        entry.model_dump(mode="json"),
    )
    return bool(stored)


async def catalog(conn: Connection) -> list[ProgramCatalogEntry]:
    rows = await conn.fetch("SELECT entry FROM programs ORDER BY code")
    return [ProgramCatalogEntry.model_validate(r["entry"]) for r in rows]


async def record_and_find_repeats(conn: Connection, query: RepeatQuery) -> list[str]:
    """Index this complaint; the tickets of earlier ones by the same person or household about
    the same program and category within the window (oldest first)."""
    await conn.execute(
        """
        INSERT INTO complaint_index (complaint_id, ticket_number, household_id, individual_id,
                                     program_code, category, submitted_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (complaint_id) DO NOTHING
        """,
        query.complaint_id,
        query.ticket_number,
        query.household_id,
        query.individual_id,
        query.program_code,
        query.category.value,
        query.submitted_at,
    )
    rows = await conn.fetch(
        """
        SELECT ticket_number FROM complaint_index
        WHERE complaint_id <> $1
          AND ((household_id IS NOT NULL AND household_id = $2)
               OR (individual_id IS NOT NULL AND individual_id = $3))
          AND program_code IS NOT DISTINCT FROM $4
          AND category = $5
          AND submitted_at >= $6::timestamptz - $7::interval AND submitted_at <= $6::timestamptz
        ORDER BY submitted_at, ticket_number
        """,
        query.complaint_id,
        query.household_id,
        query.individual_id,
        query.program_code,
        query.category.value,
        query.submitted_at,
        timedelta(days=query.window_days),
    )
    return [r["ticket_number"] for r in rows]


async def move_step_mark(conn: Connection, event: ComplaintTransitioned) -> StepMark | None:
    """Record ``event`` as the complaint's latest transition; the mark it replaces, or None if
    there was none or ``event`` was recorded already (a retried activity counts nothing)."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT step, entered_at, sequence FROM complaint_steps "
            "WHERE complaint_id = $1 FOR UPDATE",
            event.complaint_id,
        )
        mark = StepMark(**dict(row)) if row is not None else None
        if mark is not None and mark.sequence >= event.sequence:
            return None
        if event.to_step not in OPEN_STEPS:
            await conn.execute(
                "DELETE FROM complaint_steps WHERE complaint_id = $1", event.complaint_id
            )
            return mark
        # Concurrent first attempts both find no row: the sequence guard keeps one.
        await conn.execute(
            """
            INSERT INTO complaint_steps (complaint_id, step, entered_at, sequence)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (complaint_id) DO UPDATE SET
                entered_at = CASE WHEN complaint_steps.step = EXCLUDED.step
                                  THEN complaint_steps.entered_at ELSE EXCLUDED.entered_at END,
                step = EXCLUDED.step, sequence = EXCLUDED.sequence
            WHERE complaint_steps.sequence < EXCLUDED.sequence
            """,
            event.complaint_id,
            event.to_step,
            event.at,
            event.sequence,
        )
        return mark
