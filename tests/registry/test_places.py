"""The Kemendagri place directory in the registry's schema."""

from __future__ import annotations

import asyncpg

from services.registry.places_loader import ensure_places
from slrt.db.migrations import migrate_service
from slrt.places import directory


async def test_all_places_are_loaded_once_with_their_hierarchy(fresh_db: str) -> None:
    await migrate_service(fresh_db, "registry")
    conn = await asyncpg.connect(fresh_db, server_settings={"search_path": "registry,public"})
    try:
        assert await ensure_places(conn) == len(directory()) == 91_599
        assert await ensure_places(conn) == 0
        estimated = await conn.fetchval(
            "SELECT reltuples FROM pg_class WHERE oid = 'places'::regclass"
        )
        assert abs(estimated - 91_599) < 91_599 * 0.05  # analyzed: -1 if never
        village = await conn.fetchrow(
            "SELECT v.name, v.level, s.code AS sub_district, s.parent_code AS regency "
            "FROM places v JOIN places s ON s.code = v.parent_code WHERE v.code = '3204052001'"
        )
        assert village is not None
        assert tuple(village) == ("Cileunyi Kulon", "village", "320405", "3204")
        orphans = await conn.fetchval(
            "SELECT count(*) FROM places WHERE level <> 'province' AND parent_code IS NULL"
        )
        assert orphans == 0
    finally:
        await conn.close()
