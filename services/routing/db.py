"""Routing's tables: its copy of the program catalog and the repeat-complaint index."""

from __future__ import annotations

from datetime import timedelta

from slrt.contracts.events import ProgramCatalogEntry
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
