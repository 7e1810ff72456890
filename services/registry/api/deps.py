"""What every registry route needs: the pool, the settings, today's date, the event source."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from services.registry.settings import RegistrySettings

SOURCE = "/slrt/registry"


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.runtime.pool
    return pool


def _settings(request: Request) -> RegistrySettings:
    settings: RegistrySettings = request.app.state.registry_settings
    return settings


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
Settings = Annotated[RegistrySettings, Depends(_settings)]


def today() -> date:
    return date.today()
