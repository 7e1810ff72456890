"""Waiting that ends early when a service is stopping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def every(
    stop: asyncio.Event,
    seconds: float,
    one_pass: Callable[[], Awaitable[object]],
    *,
    log: logging.Logger,
    failed: str,
) -> None:
    """Run ``one_pass`` every ``seconds`` until ``stop`` is set; a pass that fails on the
    database or the network is logged as ``failed`` (a warning) and the next pass tries again."""
    while not stop.is_set():
        try:
            await one_pass()
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning(failed, extra={"error": repr(exc)[:300]})
        await sleep_or_stop(stop, seconds)
