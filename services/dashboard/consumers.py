"""The read model's feed: lifecycle transitions and catalog entries, one handler for both."""

from __future__ import annotations

import logging
from typing import Any

from services.dashboard.settings import DashboardSettings
from services.dashboard.store import apply_catalog_entry, apply_transition
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import ComplaintTransitioned, ProgramCatalogEntry
from slrt.db import Connection
from slrt.kafka import EventConsumer, On
from slrt.service import Runtime

log = logging.getLogger(__name__)

READ_MODEL_GROUP = "dashboard"
"""Consumer group name, never renamed: the group id and its dedupe records are kept under it
(``slrt.kafka.consumer_group_id``)."""


async def on_transition(event: ComplaintTransitioned, envelope: Envelope, conn: Connection) -> None:
    await apply_transition(conn, event)


async def on_catalog_entry(
    entry: ProgramCatalogEntry, envelope: Envelope, conn: Connection
) -> None:
    await apply_catalog_entry(conn, entry)


HANDLERS: list[On[Any]] = [
    On(ComplaintTransitioned, on_transition),
    On(ProgramCatalogEntry, on_catalog_entry),
]
"""The read model's handler table (also used by the rebuild), applied inside the consumer's
transaction."""


def consumers(
    runtime: Runtime[DashboardSettings], settings: DashboardSettings
) -> list[EventConsumer]:
    return [
        EventConsumer(
            settings.connections,
            group=READ_MODEL_GROUP,
            topics=[settings.lifecycle_topic, settings.catalog_topic],
            handlers=HANDLERS,
            pool=runtime.pool,
            dead_letters=runtime.producer,
        )
    ]
