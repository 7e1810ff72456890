"""The read model's feed: lifecycle transitions and catalog entries, one handler for both."""

from __future__ import annotations

import logging

from services.dashboard.settings import DashboardSettings
from services.dashboard.store import apply_catalog_entry, apply_transition
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import ComplaintTransitioned, ProgramCatalogEntry
from slrt.db import Connection
from slrt.kafka import EventConsumer, PermanentError
from slrt.service import Runtime

log = logging.getLogger(__name__)


async def handle(envelope: Envelope, conn: Connection) -> None:
    """Apply one event inside the consumer's transaction; other event types are not ours."""
    try:
        if envelope.type == ComplaintTransitioned.event_type:
            await apply_transition(conn, envelope.parse(ComplaintTransitioned))
        elif envelope.type == ProgramCatalogEntry.event_type:
            await apply_catalog_entry(conn, envelope.parse(ProgramCatalogEntry))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise PermanentError(f"{envelope.type} does not match its contract") from exc


def read_model_consumer(runtime: Runtime, settings: DashboardSettings) -> EventConsumer:
    return EventConsumer(
        settings.connections,
        group_id=settings.consumer_group,
        topics=[settings.lifecycle_topic, settings.catalog_topic],
        handler=handle,
        pool=runtime.pool,
        dead_letters=runtime.producer,
    )
