"""Loads the Kemendagri place directory shipped in ``slrt/data/wilayah`` into ``places``."""

from __future__ import annotations

from slrt.db import Connection
from slrt.places import directory


async def ensure_places(conn: Connection) -> int:
    """Insert the places that are missing (all 91,599 on first start); returns how many."""
    places = list(directory())
    if await conn.fetchval("SELECT count(*) FROM places") >= len(places):
        return 0
    async with conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE incoming (code text, name text, level text) ON COMMIT DROP"
        )
        await conn.copy_records_to_table(
            "incoming",
            records=[(p.code, p.name, p.level.value) for p in places],
            columns=["code", "name", "level"],
        )
        status = await conn.execute(
            """INSERT INTO places (code, name, parent_code, level)
               SELECT i.code, i.name, parent.code, i.level
               FROM incoming i
               LEFT JOIN incoming parent ON parent.code = CASE length(i.code)
                   WHEN 4 THEN left(i.code, 2) WHEN 6 THEN left(i.code, 4)
                   WHEN 10 THEN left(i.code, 6) END
               ON CONFLICT (code) DO NOTHING"""
        )
        inserted = int(status.split()[-1])
        if inserted:
            # The first import joins every row to its village right after the first start:
            # without statistics the planner takes the new table for a few hundred rows.
            await conn.execute("ANALYZE places")
    return inserted
