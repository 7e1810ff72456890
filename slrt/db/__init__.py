"""Postgres access: one pool per service, bound to the service's own schema.

Session state and the pool: a connection goes back to the pool without asyncpg's reset round
trip (``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``), because the
platform's code keeps its state in the transaction (``SET LOCAL``, ``pg_advisory_xact_lock``,
``ON COMMIT DROP``). asyncpg still rolls back a transaction left open and drops the listener
callbacks on every release. Code that leaves state in the *session* (``LISTEN``, a session-level
advisory lock, ``SET`` without ``LOCAL``, a cursor ``WITH HOLD``, a temporary table that outlives
its transaction) calls :func:`holds_session_state` on the connection; its release then runs the
full reset. ``tests/platform/test_db_pool.py`` proves nothing leaks and finds unmarked session
statements in the code.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from slrt.settings import ConnectionSettings

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
"""A connection, whether held directly or borrowed from a pool."""


_HOLDING_STATE: set[int] = set()
"""Server process ids of pooled connections marked by :func:`holds_session_state` (a pid
reused by a later connection only costs that connection one full reset)."""


def holds_session_state(conn: Connection) -> None:
    """Mark ``conn`` (borrowed from a pool made by :func:`create_pool`) as holding session
    state its next user must not see: its release runs asyncpg's full reset (module doc)."""
    _HOLDING_STATE.add(conn.get_server_pid())


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """The pool's reset on release. asyncpg has already rolled back a transaction left open
    and removed the listener callbacks; the server-side reset runs only for a connection
    marked by :func:`holds_session_state` (module doc)."""
    pid = conn.get_server_pid()
    if pid in _HOLDING_STATE:
        await conn.execute(conn.get_reset_query())
        _HOLDING_STATE.discard(pid)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def create_pool(
    settings: ConnectionSettings, schema: str, *, application_name: str | None = None
) -> asyncpg.Pool:
    """A pool whose connections see only ``schema`` (then ``public``) by default.

    Each service reads and writes its own schema only; no service reads another's.
    """
    server_settings: dict[str, Any] = {
        "search_path": f"{schema},public",
        "application_name": application_name or f"slrt-{schema}",
    }
    pool = await asyncpg.create_pool(
        settings.postgres_dsn.get_secret_value(),
        min_size=settings.postgres_pool_min,
        max_size=settings.postgres_pool_max,
        server_settings=server_settings,
        init=_init_connection,
        reset=_reset_connection,
    )
    assert pool is not None
    return pool
