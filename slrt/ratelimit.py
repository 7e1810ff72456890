"""Rate limits of public endpoints (intake's tracking, the dashboard's Open311 API): a fixed
one-minute window counted in Postgres (the service's own ``rate_windows`` table), so every
replica shares it. Clients are counted by a hash of their address (an IP address is
personal data; it is never stored as such), tickets by a hash of the ticket number.

The client's address is the connection's, unless the connection comes from a trusted proxy
(``trusted_proxies``: the Ingress controller's networks): then the nearest address in
``X-Forwarded-For`` that is not itself a trusted proxy (:func:`client_address`). A client
cannot choose its bucket by sending the header itself."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from slrt.errors import RateLimited

WINDOW = timedelta(minutes=1)


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    """The client's address: ``peer`` (the connection's) unless it is a trusted proxy; then,
    reading ``X-Forwarded-For`` (every header, comma-separated, the nearest hop last) from the
    right, the first address that is not a trusted proxy. A malformed entry ends the walk at
    the last trusted hop (its claim cannot be checked)."""
    current = peer or "unknown"
    if not _trusted(current, trusted):
        return current
    hops = [h for header in forwarded_for for h in header.split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return current
        current = str(address)
        if not _trusted(current, trusted):
            return current
    return current


def _trusted(text: str, trusted: Sequence[Network]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in trusted)


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
        hits: int = await conn.fetchval(
            "INSERT INTO rate_windows (bucket, window_start, hits) VALUES ($1, $2, 1) "
            "ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_windows.hits + 1 "
            "RETURNING hits",
            bucket,
            start,
        )
        if hits == 1:
            await conn.execute("DELETE FROM rate_windows WHERE window_start < $1", start - WINDOW)
    if hits > per_minute:
        retry_after = max(1, int((start + WINDOW - now).total_seconds()) + 1)
        raise RateLimited(
            f"at most {per_minute} lookups a minute; try again later", retry_after=retry_after
        )
