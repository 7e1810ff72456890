"""What every registry route needs: the platform's dependencies (``slrt.deps``), the registry's
settings, today's date, the event source."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from services.registry.audit_log import AuditWriter
from services.registry.settings import RegistrySettings
from slrt import deps
from slrt.deps import CurrentPrincipal, Pool, settings_dependency

__all__ = ["SOURCE", "AuditLog", "CurrentPrincipal", "Pool", "Settings", "today"]

SOURCE = "/slrt/registry"

Settings = Annotated[RegistrySettings, Depends(settings_dependency(RegistrySettings))]


def today() -> date:
    return date.today()


async def audit_writer(request: Request) -> AuditWriter:
    """The service's audit writer (made at start-up; made here for an app run without its
    start-up, such as a benchmark's or a test's)."""
    runtime = deps.runtime(request)
    writer = runtime.part(AuditWriter)
    if writer is None:
        writer = AuditWriter(runtime.pool)
        runtime.provide(writer)
    return writer


AuditLog = Annotated[AuditWriter, Depends(audit_writer)]
