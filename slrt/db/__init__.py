"""Postgres access: one pool per service, bound to the service's own schema."""

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
    )
    assert pool is not None
    return pool
