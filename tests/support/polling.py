"""The one polling helper: wait for an effect that arrives asynchronously (an event consumed, a
row written, a workflow's step), failing with what was last seen."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

NOT_VISIBLE = "the expected effect did not become visible in time"


async def poll(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], object] = bool,
    *,
    timeout: float = 90.0,
    interval: float = 0.1,
    explain: Callable[[T], str] = lambda last: NOT_VISIBLE,
) -> T:
    """Call ``probe`` until ``accept`` holds for its value and return that value; after
    ``timeout`` seconds fail with ``explain(last value)``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if accept(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(explain(value))
        await asyncio.sleep(interval)


async def until(check: Callable[[], Awaitable[T | None]], timeout: float = 90.0) -> T:
    """Wait for ``check`` to return something truthy, and return it."""
    found = await poll(check, timeout=timeout)
    assert found is not None
    return found
