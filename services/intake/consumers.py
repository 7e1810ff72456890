"""Intake's Kafka consumers: the status projection (lifecycle events) and the catalog copy."""

from __future__ import annotations

import logging

from services.intake import db
from services.intake.settings import IntakeSettings
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import ComplaintTransitioned, ProgramCatalogEntry
from slrt.contracts.topics import Topic
from slrt.db import Connection
from slrt.kafka import EventConsumer, PermanentError
from slrt.service import Runtime

log = logging.getLogger(__name__)


async def project_transition(envelope: Envelope, conn: Connection) -> None:
    """Keep the highest sequence as the status; every transition in the timeline."""
    if envelope.type != ComplaintTransitioned.event_type:
        return
    try:
        event = envelope.parse(ComplaintTransitioned)
    except ValueError as exc:
        raise PermanentError(f"malformed lifecycle event: {type(exc).__name__}") from None
    moved = await db.apply_transition(conn, event)
    log.debug(
        "lifecycle event projected",
        extra={"complaint_id": str(event.complaint_id), "sequence": event.sequence, "moved": moved},
    )


async def keep_program(envelope: Envelope, conn: Connection) -> None:
    if envelope.type != ProgramCatalogEntry.event_type:
        return
    try:
        entry = envelope.parse(ProgramCatalogEntry)
    except ValueError as exc:
        raise PermanentError(f"malformed catalog entry: {type(exc).__name__}") from None
    await db.upsert_program(conn, entry)


def consumers(runtime: Runtime, settings: IntakeSettings) -> list[EventConsumer]:
    return [
        EventConsumer(
            settings.connections,
            group_id=settings.status_consumer_group,
            topics=[Topic.COMPLAINT_LIFECYCLE.value],
            handler=project_transition,
            pool=runtime.pool,
            dead_letters=runtime.producer,
        ),
        EventConsumer(
            settings.connections,
            group_id=settings.catalog_consumer_group,
            topics=[Topic.PROGRAM_CATALOG.value],
            handler=keep_program,
            pool=runtime.pool,
            dead_letters=runtime.producer,
        ),
    ]
