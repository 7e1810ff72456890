"""The program catalog in Postgres: current entries, versions, and their catalog events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.registry.domain.catalog import (
    EDITABLE_FIELDS,
    SEED,
    ProgramSpec,
    catalog_entry,
    changed_fields,
)
from slrt import outbox
from slrt.db import Connection

_COLUMNS = ", ".join(EDITABLE_FIELDS)


@dataclass(frozen=True)
class StoredProgram:
    code: str
    spec: ProgramSpec
    version: int
    updated_by: str
    updated_at: datetime


def _stored(row: asyncpg.Record) -> StoredProgram:
    spec = ProgramSpec.model_validate({name: row[name] for name in EDITABLE_FIELDS})
    return StoredProgram(row["code"], spec, row["version"], row["updated_by"], row["updated_at"])


def _values(spec: ProgramSpec) -> list[Any]:
    data = spec.model_dump(mode="python")
    return [
        [str(v) for v in data[name]] if isinstance(data[name], list) else data[name]
        for name in EDITABLE_FIELDS
    ]


async def get(conn: Connection, code: str, *, for_update: bool = False) -> StoredProgram | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT code, {_COLUMNS}, version, updated_by, updated_at FROM programs "  # noqa: S608
        f"WHERE code = $1{lock}",
        code,
    )
    return _stored(row) if row else None


async def list_programs(conn: Connection, area: str | None = None) -> list[StoredProgram]:
    """All programs, or those serving a place (national ones and those whose area covers it)."""
    rows = await conn.fetch(
        f"SELECT code, {_COLUMNS}, version, updated_by, updated_at FROM programs "  # noqa: S608
        "WHERE $1::text IS NULL OR starts_with($1, area) ORDER BY code",
        area,
    )
    return [_stored(r) for r in rows]


async def save(
    conn: Connection, code: str, spec: ProgramSpec, *, changed_by: str, source: str
) -> tuple[StoredProgram, list[str]]:
    """Create or update a program in the caller's transaction; returns it and what changed.

    An edit that changes nothing is not a new version and publishes nothing.
    """
    current = await get(conn, code, for_update=True)
    changed = changed_fields(current.spec if current else None, spec)
    if current is not None and not changed:
        return current, []
    version = 1 if current is None else current.version + 1
    placeholders = ", ".join(f"${i}" for i in range(2, len(EDITABLE_FIELDS) + 2))
    n = len(EDITABLE_FIELDS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in EDITABLE_FIELDS)
    row = await conn.fetchrow(
        f"INSERT INTO programs (code, {_COLUMNS}, version, updated_by) "  # noqa: S608
        f"VALUES ($1, {placeholders}, ${n + 2}, ${n + 3}) "
        f"ON CONFLICT (code) DO UPDATE SET {updates}, version = excluded.version, "
        "updated_by = excluded.updated_by, updated_at = now() "
        f"RETURNING code, {_COLUMNS}, version, updated_by, updated_at",
        code,
        *_values(spec),
        version,
        changed_by,
    )
    assert row is not None
    stored = _stored(row)
    await conn.execute(
        "INSERT INTO program_versions (code, version, entry, changed, changed_by) "
        "VALUES ($1, $2, $3, $4, $5)",
        code,
        version,
        spec.model_dump(mode="json"),
        changed,
        changed_by,
    )
    await outbox.write(conn, catalog_entry(code, spec, version), source=source, subject=code)
    return stored, changed


async def versions(conn: Connection, code: str) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT version, entry, changed, changed_by, changed_at FROM program_versions "
        "WHERE code = $1 ORDER BY version",
        code,
    )


async def ensure_seed(conn: Connection, *, changed_by: str, source: str) -> list[str]:
    """Seed the national programs that are missing (first start-up); returns the codes added."""
    added: list[str] = []
    async with conn.transaction():
        # One seeder at a time across replicas starting together.
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('slrt-registry-catalog-seed'))")
        for code, spec in SEED.items():
            if await conn.fetchval("SELECT 1 FROM programs WHERE code = $1", code):
                continue
            await save(conn, code, spec, changed_by=changed_by, source=source)
            added.append(code)
    return added
