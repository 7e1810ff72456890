"""What every registry route needs: the platform's dependencies (``slrt.deps``), the registry's
settings, today's date, the event source."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends

from services.registry.settings import RegistrySettings
from slrt.deps import CurrentPrincipal, Pool, settings_dependency

__all__ = ["SOURCE", "CurrentPrincipal", "Pool", "Settings", "today"]

SOURCE = "/slrt/registry"

Settings = Annotated[RegistrySettings, Depends(settings_dependency(RegistrySettings))]


def today() -> date:
    return date.today()
