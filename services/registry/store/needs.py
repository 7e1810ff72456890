"""Program needs in Postgres: recorded from complaints (once per complaint) and closed when the
household enters the program."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

from services.registry.domain.needs import COMPLAINT_RECORDER, need_from_complaint
from slrt.db import Connection

_CLOSE_MET = """
UPDATE program_needs n SET closed_at = now()
WHERE n.closed_at IS NULL AND n.program_code IS NOT NULL
  AND ($1::uuid[] IS NULL OR n.household_id = ANY($1::uuid[]))
  AND EXISTS (SELECT 1 FROM participation p
              WHERE p.household_id = n.household_id AND p.program_code = n.program_code)
"""


async def record_from_complaint(
    conn: Connection,
    *,
    complaint_id: UUID,
    household_id: UUID,
    individual_id: UUID | None,
    program_code: str | None,
) -> UUID:
    """The need of a program-need complaint, recorded once however often it is asked for
    (idempotent on the complaint id); closed at once when the household already receives the
    program. Returns the need's id."""
    name = None
    if program_code is not None:
        name = await conn.fetchval("SELECT name FROM programs WHERE code = $1", program_code)
    need, program = need_from_complaint(program_code, name)
    need_id: UUID | None = await conn.fetchval(
        "INSERT INTO program_needs (id, household_id, individual_id, need, program_code, "
        "complaint_id, recorded_by, from_complaint) VALUES ($1, $2, $3, $4, $5, $6, $7, true) "
        "ON CONFLICT (complaint_id) WHERE from_complaint DO NOTHING RETURNING id",
        uuid.uuid4(),
        household_id,
        individual_id,
        need,
        program,
        complaint_id,
        COMPLAINT_RECORDER,
    )
    if need_id is None:
        existing: UUID = await conn.fetchval(
            "SELECT id FROM program_needs WHERE complaint_id = $1 AND from_complaint",
            complaint_id,
        )
        return existing
    await close_met(conn, [household_id])
    return need_id


async def close_met(conn: Connection, household_ids: Sequence[UUID] | None = None) -> int:
    """Close the open needs whose household now receives the program (all households, or
    these). Returns how many closed."""
    status = await conn.execute(
        _CLOSE_MET, list(household_ids) if household_ids is not None else None
    )
    return int(status.split()[-1])


async def await_household(
    conn: Connection, *, complaint_id: UUID, program_code: str | None
) -> None:
    """A program-need complaint about someone not in DT-PPFM: its need is recorded when the
    pre-list entry becomes a household (``record_awaiting``)."""
    await conn.execute(
        "INSERT INTO awaiting_needs (complaint_id, program_code) VALUES ($1, $2) "
        "ON CONFLICT (complaint_id) DO NOTHING",
        complaint_id,
        program_code,
    )


async def record_awaiting(
    conn: Connection,
    *,
    complaint_ids: Sequence[UUID],
    household_id: UUID,
    individual_id: UUID | None,
) -> int:
    """The needs of these complaints that waited for this (new) household, recorded now."""
    waiting = await conn.fetch(
        "DELETE FROM awaiting_needs WHERE complaint_id = ANY($1::uuid[]) "
        "RETURNING complaint_id, program_code",
        list(complaint_ids),
    )
    for row in waiting:
        await record_from_complaint(
            conn,
            complaint_id=row["complaint_id"],
            household_id=household_id,
            individual_id=individual_id,
            program_code=row["program_code"],
        )
    return len(waiting)
