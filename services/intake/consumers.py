"""Intake's Kafka consumers: the status projection (lifecycle events), the catalog copy and
the copy of the program-information entries (which entry answered an information request)."""

from __future__ import annotations

import logging

from services.intake import assignees, referral_store, store
from services.intake.settings import IntakeSettings
from slrt import staff_copy
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import ComplaintTransitioned, ProgramCatalogEntry, ProgramInfoPublished
from slrt.contracts.staff import StaffRecord
from slrt.contracts.topics import Topic
from slrt.db import Connection
from slrt.kafka import WAITING_COMPLAINT_FETCH_MAX_WAIT_MS, EventConsumer, On
from slrt.service import Runtime

log = logging.getLogger(__name__)

STATUS_GROUP = "intake-status"
CATALOG_GROUP = "intake-catalog"
STAFF_GROUP = "intake-staff"
"""Consumer group names, never renamed: the group id and its dedupe records are kept under it
(``slrt.kafka.consumer_group_id``)."""


async def project_transition(
    event: ComplaintTransitioned, envelope: Envelope, conn: Connection
) -> None:
    """Keep the highest sequence as the status; every transition in the timeline; each
    referral's own record (``referral_store``)."""
    moved = await store.apply_transition(conn, event)
    if moved:
        await assignees.assign(conn, event.complaint_id)
    await referral_store.apply(conn, event)
    log.debug(
        "lifecycle event projected",
        extra={"complaint_id": str(event.complaint_id), "sequence": event.sequence, "moved": moved},
    )


async def keep_program(entry: ProgramCatalogEntry, envelope: Envelope, conn: Connection) -> None:
    await store.upsert_program(conn, entry)


async def keep_program_info(
    entry: ProgramInfoPublished, envelope: Envelope, conn: Connection
) -> None:
    await store.upsert_program_info(conn, entry)


async def keep_staff_record(record: StaffRecord, envelope: Envelope, conn: Connection) -> None:
    """Keep the directory's newest record; hand over the open tasks it moves."""
    if await staff_copy.keep_record(conn, record):
        await assignees.hand_over(conn, record)


def consumers(runtime: Runtime[IntakeSettings], settings: IntakeSettings) -> list[EventConsumer]:
    return [
        EventConsumer(
            settings.connections,
            group=STATUS_GROUP,
            topics=[Topic.COMPLAINT_LIFECYCLE.value],
            handlers=[On(ComplaintTransitioned, project_transition)],
            pool=runtime.pool,
            dead_letters=runtime.producer,
            fetch_max_wait_ms=WAITING_COMPLAINT_FETCH_MAX_WAIT_MS,
        ),
        EventConsumer(
            settings.connections,
            group=CATALOG_GROUP,
            topics=[Topic.PROGRAM_CATALOG.value, Topic.PROGRAM_INFO.value],
            handlers=[
                On(ProgramCatalogEntry, keep_program),
                On(ProgramInfoPublished, keep_program_info),
            ],
            pool=runtime.pool,
            dead_letters=runtime.producer,
        ),
        EventConsumer(
            settings.connections,
            group=STAFF_GROUP,
            topics=[Topic.STAFF_DIRECTORY.value],
            handlers=staff_copy.handlers(keep_staff_record),
            pool=runtime.pool,
            dead_letters=runtime.producer,
        ),
    ]
