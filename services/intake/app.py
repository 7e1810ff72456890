"""The intake service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake.settings import IntakeSettings
from slrt.outbox import OutboxRelay
from slrt.service import Dependency, Runtime, build_app


async def _start(runtime: Runtime) -> None:
    relay = OutboxRelay(runtime.pool, runtime.producer, schema="intake")
    runtime.spawn(relay.run(runtime.stop), "outbox-relay")


def create_app(settings: IntakeSettings) -> FastAPI:
    return build_app(
        "intake",
        settings,
        title="SLRT Intake API",
        description="Complaints in (walk-in and facilitator tablets), human actions on complaints, "
        "program managers' answers and public tracking.",
        uses=(Dependency.POSTGRES, Dependency.KAFKA, Dependency.TEMPORAL),
        on_start=_start,
    )
