"""What every registry route needs: the pool, today's date, the event source."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

SOURCE = "/slrt/registry"


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(_pool)]


def today() -> date:
    return date.today()
