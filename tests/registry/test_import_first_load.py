"""First load: into an empty registry the import makes the foreign keys and the non-unique
indexes after the load; the result is the ordinary import's, a failure leaves them as they were,
and a populated registry is imported into as always."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.registry.importer import ImportReport, import_extract
from slrt.db import Connection
from slrt_dev.synthetic import write_extract
from tests.support.registry import TODAY, import_file

_TABLES = ["households", "families", "individuals", "participation", "pmks_flags"]

# The registry by natural keys (the ids are generated afresh by each import).
_CONTENT = {
    "households": "SELECT registry_ref, village_code, address, welfare_decile FROM households",
    "families": "SELECT f.kk_number, h.registry_ref FROM families f "
    "JOIN households h ON h.id = f.household_id",
    "individuals": "SELECT i.nik, h.registry_ref, i.kk_number, i.name, i.name_key, i.sex, "
    "i.birth_date, i.relation, i.disability, i.school_status, i.village_code "
    "FROM individuals i JOIN households h ON h.id = i.household_id",
    "participation": "SELECT h.registry_ref, i.nik, p.program_code, p.period "
    "FROM participation p JOIN households h ON h.id = p.household_id "
    "LEFT JOIN individuals i ON i.id = p.individual_id",
    "pmks_flags": "SELECT i.nik, f.kind FROM pmks_flags f "
    "JOIN individuals i ON i.id = f.individual_id",
    "import_households": "SELECT * FROM import_households",
}


async def _content(conn: Connection) -> dict[str, list[str]]:
    return {
        name: sorted(str(tuple(r)) for r in await conn.fetch(query))
        for name, query in _CONTENT.items()
    }


async def _schema(conn: Connection) -> list[str]:
    """Every index and constraint of the tables the import writes, as their definitions."""
    rows = await conn.fetch(
        "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = ANY($1::regclass[]) "
        "UNION ALL SELECT conrelid::regclass || ' ' || conname || ' ' || convalidated || ' ' "
        "|| pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ANY($1::regclass[])",
        _TABLES,
    )
    return sorted(r[0] for r in rows)


def _outcome(report: ImportReport) -> dict[str, Any]:
    fields = dataclasses.asdict(report)
    del fields["import_id"], fields["first_load"]
    return fields


class _RolledBack(Exception):
    pass


@pytest.fixture
def district(tmp_path: Path) -> Path:
    path = tmp_path / "district.csv"
    write_extract(path, "3204", 600, 17, error_rate=0.02, today=TODAY)
    return path


async def test_a_first_load_gives_the_ordinary_imports_result_and_schema(
    pool: asyncpg.Pool, district: Path
) -> None:
    async with pool.acquire() as conn:
        schema = await _schema(conn)
        ordinary: ImportReport | None = None
        try:
            async with conn.transaction():
                with district.open("rb") as f:
                    ordinary = await import_extract(
                        conn, f, file_name="d.csv", started_by="test", first_load=False
                    )
                expected = await _content(conn)
                raise _RolledBack
        except _RolledBack:
            pass
        assert ordinary is not None
        assert not ordinary.first_load

        with district.open("rb") as f:
            first = await import_extract(conn, f, file_name="d.csv", started_by="test")

        assert first.first_load
        assert _outcome(first) == _outcome(ordinary)
        assert first.rows_rejected > 0
        assert await _content(conn) == expected
        assert await _schema(conn) == schema


async def test_a_failed_first_load_leaves_the_indexes_and_keys_as_they_were(
    pool: asyncpg.Pool, district: Path
) -> None:
    async with pool.acquire() as conn:
        schema = await _schema(conn)

        def fail_after_the_upserts(phase: str) -> None:
            if phase == "pmks":
                raise RuntimeError("the import failed")

        with district.open("rb") as f, pytest.raises(RuntimeError):
            await import_extract(
                conn, f, file_name="d.csv", started_by="test", on_phase=fail_after_the_upserts
            )

        assert await _schema(conn) == schema
        assert await conn.fetchval("SELECT count(*) FROM individuals") == 0
        assert (await import_file(pool, district)).first_load


async def test_a_populated_registry_keeps_its_indexes_and_keys(
    pool: asyncpg.Pool, district: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.csv"
    write_extract(other, "3273", 100, 3, error_rate=0.0, today=TODAY)
    assert (await import_file(pool, other)).first_load
    async with pool.acquire() as conn:
        schema = await _schema(conn)
        phases: list[str] = []

        def watch(phase: str) -> None:
            phases.append(phase)

        with district.open("rb") as f:
            report = await import_extract(
                conn, f, file_name="d.csv", started_by="test", on_phase=watch
            )
        assert not report.first_load
        assert "indexing" not in phases
        assert await _schema(conn) == schema


async def test_a_registry_in_use_is_loaded_the_ordinary_way(
    pool: asyncpg.Pool, district: Path
) -> None:
    """Someone reading the empty tables (a lookup's open transaction): the import neither waits
    for them nor locks them out; it keeps the indexes and keys."""
    async with pool.acquire() as reader, reader.transaction():
        assert await reader.fetchval("SELECT count(*) FROM individuals") == 0
        report = await import_file(pool, district)
    assert not report.first_load
    assert report.individuals_changed == report.rows_read - report.rows_rejected
