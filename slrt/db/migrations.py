"""Versioned SQL migrations with a checksum ledger, one schema per service.

Why a ledger and not Alembic: the services use asyncpg and plain SQL, with no ORM; a ledger of
``(track, version, checksum)`` per schema is a few dozen lines, runs inside one transaction per
run (Postgres DDL is transactional, so a failing migration leaves nothing half-applied), and
refuses to start when an applied file was edited afterwards.

Two tracks go into each service's schema: ``platform`` (``slrt/db/sql``: outbox, consumer dedupe)
and the service's own (``services/<name>/migrations``). Files are ``NNNN_description.sql``.
A transaction-level advisory lock per schema makes concurrent replicas wait for each other, so
running migrations at every start-up is safe. (``CREATE INDEX CONCURRENTLY`` cannot run inside a
transaction and is therefore not allowed in a migration.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.resources
import re
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from slrt.settings import ConnectionSettings

SERVICES = ("intake", "routing", "registry", "notifier", "dashboard")
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
PLATFORM_SQL_DIR = Path(__file__).parent / "sql"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    track: str
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path, track: str) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_RE.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_description.sql")
        found.append(Migration(track, int(match[1]), match[2], path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{directory}: two migrations share a version number")
    return found


def service_migrations(service: str) -> list[Migration]:
    """The platform migrations, then the service's own."""
    own = Path(str(importlib.resources.files(f"services.{service}"))) / "migrations"
    return discover(PLATFORM_SQL_DIR, "platform") + (discover(own, service) if own.is_dir() else [])


def _lock_key(schema: str) -> int:
    return zlib.crc32(f"slrt-migrate:{schema}".encode())


async def apply(conn: asyncpg.Connection, schema: str, migrations: list[Migration]) -> list[str]:
    """Apply what is pending in one transaction; returns the names applied (empty if none)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
        raise MigrationError(f"schema name {schema!r} is not a plain identifier")
    applied_now: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(schema))
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                   track text NOT NULL, version int NOT NULL, name text NOT NULL,
                   checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (track, version))"""
        )
        # ``schema`` was checked to be a plain identifier above.
        ledger_sql = f"SELECT track, version, checksum FROM {schema}.schema_migrations"  # noqa: S608
        rows = await conn.fetch(ledger_sql)
        ledger = {(r["track"], r["version"]): r["checksum"] for r in rows}
        await conn.execute(f"SET LOCAL search_path TO {schema}, public")
        for m in migrations:
            recorded = ledger.get((m.track, m.version))
            if recorded is not None:
                if recorded != m.checksum:
                    raise MigrationError(
                        f"{schema}: migration {m.track}/{m.version:04d}_{m.name} was changed after "
                        "it was applied; add a new migration instead of editing an applied one"
                    )
                continue
            await conn.execute(m.sql)
            await conn.execute(
                f"INSERT INTO {schema}.schema_migrations (track, version, name, checksum) "  # noqa: S608
                "VALUES ($1, $2, $3, $4)",
                m.track,
                m.version,
                m.name,
                m.checksum,
            )
            applied_now.append(f"{m.track}/{m.version:04d}_{m.name}")
    return applied_now


async def migrate_service(dsn: str, service: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return await apply(conn, service, service_migrations(service))
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="slrt-migrate", description="Apply pending migrations to each service's schema."
    )
    parser.add_argument("services", nargs="*", help=f"any of {', '.join(SERVICES)}; default: all")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - set(SERVICES))
    if unknown:
        parser.error(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICES)}")
    dsn = ConnectionSettings().postgres_dsn.get_secret_value()
    for service in args.services or SERVICES:
        try:
            applied = asyncio.run(migrate_service(dsn, service))
        except (MigrationError, OSError, asyncpg.PostgresError) as exc:
            print(f"{service}: migration failed: {exc}", file=sys.stderr)
            return 1
        print(f"{service}: {', '.join(applied) if applied else 'up to date'}")
    return 0
