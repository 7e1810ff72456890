"""Per-client rate limit for the public tracking endpoints: a fixed one-minute window counted in
Postgres, so every replica shares it. Clients are counted by a hash of their address (an IP
address is personal data; it is never stored as such)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg

from services.intake import store
from slrt.errors import RateLimited

WINDOW = timedelta(minutes=1)


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


async def limit(
    pool: asyncpg.Pool, scope: str, client: str, per_minute: int, now: datetime | None = None
) -> None:
    """Count this request; raise ``RateLimited`` (429 with Retry-After) beyond ``per_minute`` in
    this window."""
    now = now or datetime.now(UTC)
    start = window_start(now)
    bucket = f"{scope}:" + hashlib.sha256(client.encode()).hexdigest()[:32]
    async with pool.acquire() as conn, conn.transaction():
        hits = await store.hit(conn, bucket, start)
        if hits == 1:
            await store.purge_rate_windows(conn, start - WINDOW)
    if hits > per_minute:
        retry_after = max(1, int((start + WINDOW - now).total_seconds()) + 1)
        raise RateLimited(
            f"at most {per_minute} lookups a minute; try again later", retry_after=retry_after
        )
