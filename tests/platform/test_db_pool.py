"""The platform's pool (``slrt.db.create_pool``) returns a connection without asyncpg's reset
round trip, and no connection's state reaches its next user: transaction-scoped state ends
with the transaction, a transaction left open is rolled back, and a connection marked by
``holds_session_state`` (the outbox relay's LISTEN) gets the full reset. The unit test at the
end finds session-level statements in the code that do not mark their connection."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from slrt.db import create_pool, holds_session_state
from slrt.outbox import _Listener
from slrt.settings import ConnectionSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def one_connection(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of exactly one connection: every acquire gets the connection the last released."""
    settings = ConnectionSettings(postgres_dsn=fresh_db, postgres_pool_min=1, postgres_pool_max=1)
    pool = await create_pool(settings, "svc")
    yield pool
    await pool.close()


def _reset_queries(queries: list[str]) -> list[str]:
    return [q for q in queries if "RESET ALL" in q or "UNLISTEN" in q]


async def _state(pool: asyncpg.Pool) -> dict[str, object]:
    """What a new user of the pool's connection would inherit."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            """
            SELECT current_setting('work_mem') AS work_mem,
                   current_setting('statement_timeout') AS statement_timeout,
                   current_setting('search_path') AS search_path,
                   current_setting('TimeZone') AS timezone,
                   (SELECT count(*) FROM pg_listening_channels()) AS listening,
                   (SELECT count(*) FROM pg_locks
                    WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS advisory_locks,
                   (SELECT count(*) FROM pg_cursors WHERE name <> '') AS cursors,
                   (SELECT count(*) FROM pg_class
                    WHERE relpersistence = 't' AND relkind = 'r') AS temp_tables,
                   pg_backend_pid() AS pid
            """
        )
        assert row is not None
        assert not conn.is_in_transaction()
        return dict(row)


async def test_a_plain_release_skips_the_reset_round_trip(
    one_connection: asyncpg.Pool,
) -> None:
    seen: list[str] = []
    async with one_connection.acquire() as conn:
        conn.add_query_logger(lambda record: seen.append(record.query))
        await conn.fetchval("SELECT 1")
    async with one_connection.acquire() as conn:
        await conn.fetchval("SELECT 2")
    assert _reset_queries(seen) == []
    assert seen == ["SELECT 1", "SELECT 2"]

    async with one_connection.acquire() as conn:
        holds_session_state(conn)
    # The marked connection was reset once on its release, and only once.
    async with one_connection.acquire() as conn:
        await conn.fetchval("SELECT 3")
    assert len(_reset_queries(seen)) == 1
    assert seen[-1] == "SELECT 3"


async def test_no_connection_state_reaches_the_next_user(one_connection: asyncpg.Pool) -> None:
    pool = one_connection
    fresh = await _state(pool)
    assert fresh["search_path"] == "svc,public"
    assert fresh["listening"] == fresh["advisory_locks"] == fresh["cursors"] == 0

    # Transaction-scoped state (what the platform's code uses) ends with its transaction.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL work_mem = '7MB'")
        await conn.execute("SET LOCAL search_path TO public")
        await conn.execute("SELECT pg_advisory_xact_lock(4242)")
        await conn.execute("CREATE TEMP TABLE scratch (x int) ON COMMIT DROP")
        await conn.execute("DECLARE c CURSOR FOR SELECT 1")
    assert await _state(pool) == fresh

    # A transaction left open by its user is rolled back, its state with it.
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE kept (x int)")
        left_open = conn.transaction()
        await left_open.start()
        await conn.execute("INSERT INTO kept VALUES (1)")
        await conn.execute("SET LOCAL statement_timeout = '3s'")
    assert await _state(pool) == fresh
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM kept") == 0

    # Session state, marked: all of it is reset before the next user.
    async with pool.acquire() as conn:
        holds_session_state(conn)
        await conn.execute("SET work_mem = '9MB'")
        await conn.execute("SET statement_timeout = '5s'")
        await conn.execute("SET search_path TO public")
        await conn.execute("SET TimeZone TO 'Asia/Jakarta'")
        await conn.execute("SELECT pg_advisory_lock(4243)")
        await conn.execute("LISTEN somewhere")
        await conn.execute("BEGIN; DECLARE held CURSOR WITH HOLD FOR SELECT 1; COMMIT")
    assert await _state(pool) == fresh


async def test_the_outbox_listener_leaves_nothing_behind(one_connection: asyncpg.Pool) -> None:
    pool = one_connection
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE outbox (id bigserial PRIMARY KEY)")
    fresh = await _state(pool)
    wake = asyncio.Event()
    listener = await _Listener.start(pool, wake)
    assert listener.alive
    await listener.close()
    assert await _state(pool) == fresh

    # A listener whose UNLISTEN never ran (its callbacks dropped by asyncpg on release only):
    # the marked connection's reset ends the LISTEN on the server too.
    conn = await pool.acquire()
    holds_session_state(conn)
    await conn.add_listener("slrt_outbox_svc", lambda *_: None)
    with pytest.warns(asyncpg.InterfaceWarning, match="notification listener"):
        await pool.release(conn)
    assert await _state(pool) == fresh


# --- the code marks its session state ------------------------------------------------------

_SESSION_STATEMENTS = {
    "SET without LOCAL": re.compile(
        r"""(execute|fetch\w*)\(\s*f?(["']{1,3})\s*SET\s+(?!LOCAL\b)""", re.IGNORECASE
    ),
    # set_config(name, value, true) is the transaction's own (SET LOCAL); false is the session's
    "set_config": re.compile(r"\bset_config\s*\((?![^()]*,\s*true\s*\))", re.IGNORECASE),
    "session advisory lock": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.IGNORECASE),
    "LISTEN": re.compile(r"""(execute|fetch\w*)\(\s*f?(["']{1,3})\s*LISTEN\b|add_listener\("""),
    "cursor WITH HOLD": re.compile(r"\bWITH\s+HOLD\b", re.IGNORECASE),
}
_TEMP_TABLE = re.compile(r"CREATE\s+(TEMP|TEMPORARY)\s+TABLE", re.IGNORECASE)


def session_statements(source: str) -> list[str]:
    """The kinds of session-level statement ``source`` holds (a temporary table counts unless
    ``ON COMMIT DROP`` follows within a few lines)."""
    found = [kind for kind, pattern in _SESSION_STATEMENTS.items() if pattern.search(source)]
    for match in _TEMP_TABLE.finditer(source):
        if "ON COMMIT DROP" not in source[match.end() : match.end() + 300].upper():
            found.append("temporary table kept past its transaction")
    return found


@pytest.mark.unit
def test_the_scan_finds_session_statements() -> None:
    assert session_statements("await conn.execute(\"SET work_mem = '1MB'\")") == [
        "SET without LOCAL"
    ]
    assert session_statements('await conn.execute(f"SET LOCAL x = {y}")') == []
    assert session_statements('"UPDATE t SET x = 1"') == []
    assert session_statements('conn.fetchval("SELECT pg_advisory_lock(1)")') == [
        "session advisory lock"
    ]
    assert session_statements('conn.fetchval("SELECT pg_try_advisory_xact_lock(1)")') == []
    assert session_statements("await conn.add_listener(channel, cb)") == ["LISTEN"]
    assert session_statements('"SELECT set_config(name, value, false)"') == ["set_config"]
    assert session_statements("\"SELECT set_config('x', $1, TRUE)\"") == []
    assert session_statements('"CREATE TEMP TABLE t (x int) ON COMMIT DROP"') == []
    assert session_statements('"CREATE TEMP TABLE t (x int)"') == [
        "temporary table kept past its transaction"
    ]


@pytest.mark.unit
def test_code_that_leaves_session_state_marks_its_connection() -> None:
    """Every module of the services and the platform that runs a session-level statement calls
    ``holds_session_state`` (``slrt/db``'s module doc); migrations run on a connection of their
    own, never a pooled one."""
    unmarked = {}
    for path in sorted([*ROOT.glob("services/**/*.py"), *ROOT.glob("slrt/**/*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative in {"slrt/db/__init__.py", "slrt/db/migrations.py"}:
            continue
        source = path.read_text()
        kinds = session_statements(source)
        if kinds and "holds_session_state(" not in source:
            unmarked[relative] = kinds
    assert unmarked == {}
