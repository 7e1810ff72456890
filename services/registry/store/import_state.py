"""The import's change detection seen from the other writers.

``import_households`` remembers, per household of an extract, a hash of its rows as last
imported; the importer skips a household whose rows hash the same. A writer that changes a
household another way (an accepted SIKS-NG result) drops its entry, so the next import of the
extract writes the extract's values again, as it would have without change detection.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from slrt.db import Connection


async def forget(conn: Connection, household_ids: Iterable[UUID | None]) -> None:
    ids = sorted({i for i in household_ids if i is not None})
    if ids:
        await conn.execute(
            "DELETE FROM import_households k USING households h "
            "WHERE h.id = ANY($1::uuid[]) AND k.household_ref = h.registry_ref",
            ids,
        )
