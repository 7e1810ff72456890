"""Migrations on a real PostgreSQL: apply, no-op, checksum guard, atomicity, concurrency."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from slrt.db.migrations import Migration, MigrationError, apply, migrate_service, service_migrations


async def test_service_migrations_apply_to_an_empty_database_then_are_a_no_op(
    fresh_db: str,
) -> None:
    first = await migrate_service(fresh_db, "intake")
    assert "platform/0001_outbox" in first
    assert "platform/0002_processed_events" in first
    second = await migrate_service(fresh_db, "intake")
    assert second == []
    conn = await asyncpg.connect(fresh_db)
    try:
        tables = {
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'intake'"
            )
        }
        ledger = await conn.fetchval("SELECT count(*) FROM intake.schema_migrations")
    finally:
        await conn.close()
    assert {"outbox", "processed_events", "schema_migrations"} <= tables
    assert ledger == len(service_migrations("intake"))


async def test_an_edited_migration_is_refused(fresh_db: str) -> None:
    conn = await asyncpg.connect(fresh_db)
    try:
        original = [Migration("demo", 1, "things", "CREATE TABLE things (id int)")]
        await apply(conn, "demo", original)
        edited = [Migration("demo", 1, "things", "CREATE TABLE things (id bigint)")]
        with pytest.raises(MigrationError, match="was changed after it was applied"):
            await apply(conn, "demo", edited)
    finally:
        await conn.close()


async def test_a_failing_migration_leaves_nothing_behind(fresh_db: str) -> None:
    conn = await asyncpg.connect(fresh_db)
    try:
        broken = [
            Migration("demo", 1, "good", "CREATE TABLE good (id int)"),
            Migration("demo", 2, "bad", "CREATE TABLE bad (id int REFERENCES nowhere)"),
        ]
        with pytest.raises(asyncpg.UndefinedTableError):
            await apply(conn, "demo", broken)
        exists = await conn.fetchval("SELECT to_regclass('demo.good') IS NOT NULL")
        schema = await conn.fetchval(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'demo'"
        )
    finally:
        await conn.close()
    assert exists is False
    assert schema == 0


async def test_two_replicas_migrating_at_once_apply_each_migration_once(fresh_db: str) -> None:
    results = await asyncio.gather(*(migrate_service(fresh_db, "notifier") for _ in range(3)))
    applied = [r for r in results if r]
    assert len(applied) == 1, results
    conn = await asyncpg.connect(fresh_db)
    try:
        count = await conn.fetchval("SELECT count(*) FROM notifier.schema_migrations")
    finally:
        await conn.close()
    assert count == len(service_migrations("notifier"))
