"""``slrt.stopping.every``: the periodic pass of the dashboard's schedules (reports, monitoring)
keeps going after a pass fails on the database or the network, and ends when stopped."""

from __future__ import annotations

import asyncio
import logging

import asyncpg
import pytest

from slrt.stopping import every

pytestmark = pytest.mark.unit


async def test_a_failed_pass_is_logged_and_the_next_runs_until_stopped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    passes = 0

    async def one_pass() -> None:
        nonlocal passes
        passes += 1
        if passes == 1:
            raise OSError("broker away")
        if passes == 2:
            raise asyncpg.PostgresConnectionError("database away")
        stop.set()

    log = logging.getLogger("test.every")
    with caplog.at_level(logging.WARNING, logger="test.every"):
        await asyncio.wait_for(every(stop, 0, one_pass, log=log, failed="pass failed"), 10)
    assert passes == 3
    assert [r.getMessage() for r in caplog.records] == ["pass failed", "pass failed"]
    assert "broker away" in caplog.records[0].error  # type: ignore[attr-defined]


async def test_an_unexpected_error_ends_the_loop() -> None:
    async def one_pass() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        await every(asyncio.Event(), 0, one_pass, log=logging.getLogger("test.every"), failed="x")
