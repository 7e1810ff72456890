"""Kafka consumers: notification requests become deliveries; catalog entries are copied."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.notifier import persons, store
from services.notifier.domain import (
    REFERRAL_KINDS,
    DeliveryStatus,
    cancellation,
    is_digest,
    next_digest_time,
    normalise_request,
)
from services.notifier.settings import NotifierSettings
from slrt import staff_copy
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import (
    ComplaintTransitioned,
    NotificationRequested,
    ProgramCatalogEntry,
)
from slrt.contracts.staff import StaffRecord
from slrt.contracts.topics import Topic
from slrt.db import Connection
from slrt.kafka import WAITING_COMPLAINT_FETCH_MAX_WAIT_MS, EventConsumer, On
from slrt.service import Runtime

log = logging.getLogger(__name__)

REQUESTS_GROUP = "notifier.requests"
CATALOG_GROUP = "notifier.catalog"
STAFF_GROUP = "notifier.staff"
LIFECYCLE_GROUP = "notifier.lifecycle"
"""Consumer group names, never renamed: the group id and its dedupe records are kept under it
(``slrt.kafka.consumer_group_id``)."""


def request_handlers(settings: NotifierSettings) -> list[On[Any]]:
    """Record each request once (its request id is the idempotency key, on top of the event-id
    dedupe, so a re-published request with a new event id does not send twice either)."""

    async def handle(event: NotificationRequested, envelope: Envelope, conn: Connection) -> None:
        request = normalise_request(event)
        now = datetime.now(UTC)
        digest = is_digest(request)
        if digest:
            status = DeliveryStatus.DIGEST
            due = next_digest_time(
                now, settings.digest_hour, settings.digest_timezone, settings.digest_minute
            )
        else:
            status, due = DeliveryStatus.PENDING, now
        created = False
        for addressed in await persons.resolve(conn, request, now):
            created = (
                await store.insert_request(
                    conn, addressed, status=status, next_attempt_at=due, digest=digest
                )
                or created
            )
        log.info(
            "notification request recorded" if created else "duplicate request ignored",
            extra={"request_id": str(request.request_id), "kind": request.kind.value},
        )

    return [On(NotificationRequested, handle)]


async def cancel_what_no_longer_waits(
    event: ComplaintTransitioned, envelope: Envelope, conn: Connection
) -> None:
    """A referral expired as no_response, or its complaint withdrawn or closed: its deliveries
    not yet made are cancelled, so the destination never receives a referral that the system
    has given up on (the retries run in real time; the workflow's clock may run faster)."""
    found = cancellation(event.complaint_id, event.to_step, event.reason, dict(event.details or {}))
    if found is None:
        return
    cancelled = await store.cancel_referrals(
        conn, found.complaint_id, found.referral_id, found.reason, sorted(REFERRAL_KINDS)
    )
    if cancelled:
        log.info(
            "referral deliveries cancelled",
            extra={
                "complaint_id": str(found.complaint_id),
                "delivery_ids": [str(d) for d in cancelled],
                "reason": found.reason,
            },
        )


async def keep_program(entry: ProgramCatalogEntry, envelope: Envelope, conn: Connection) -> None:
    if await store.upsert_program(conn, entry):
        log.info("catalog entry updated", extra={"program": entry.code, "version": entry.version})


async def keep_staff_record(record: StaffRecord, envelope: Envelope, conn: Connection) -> None:
    """The notifier's copy of the staff directory, with the persons' work contacts."""
    if await staff_copy.keep_record(conn, record, contacts=True):
        moved = await persons.readdress_waiting(conn, datetime.now(UTC))
        if moved:
            log.info("waiting reminders readdressed", extra={"count": moved})


def consumers(
    runtime: Runtime[NotifierSettings],
    settings: NotifierSettings,
    *,
    on_new: Callable[[], None] = lambda: None,
    requests_topic: str = Topic.NOTIFICATION_REQUESTS.value,
    catalog_topic: str = Topic.PROGRAM_CATALOG.value,
    lifecycle_topic: str = Topic.COMPLAINT_LIFECYCLE.value,
    staff_topic: str = Topic.STAFF_DIRECTORY.value,
) -> list[EventConsumer]:
    """The requests consumer (``on_new`` wakes the dispatcher once a request is committed), the
    catalog copy and the lifecycle consumer that cancels referrals no longer waiting; topics are
    set apart only by tests."""
    return [
        EventConsumer(
            settings.connections,
            group=REQUESTS_GROUP,
            topics=[requests_topic],
            handlers=request_handlers(settings),
            pool=runtime.pool,
            dead_letters=runtime.producer,
            fetch_max_wait_ms=WAITING_COMPLAINT_FETCH_MAX_WAIT_MS,
            # After the commit: woken inside the transaction, the dispatcher could look before
            # the delivery row is visible and then sleep a whole dispatch poll.
            after_commit=on_new,
        ),
        EventConsumer(
            settings.connections,
            group=CATALOG_GROUP,
            topics=[catalog_topic],
            handlers=[On(ProgramCatalogEntry, keep_program)],
            pool=runtime.pool,
            dead_letters=runtime.producer,
        ),
        EventConsumer(
            settings.connections,
            group=LIFECYCLE_GROUP,
            topics=[lifecycle_topic],
            handlers=[On(ComplaintTransitioned, cancel_what_no_longer_waits)],
            pool=runtime.pool,
            dead_letters=runtime.producer,
        ),
        EventConsumer(
            settings.connections,
            group=STAFF_GROUP,
            topics=[staff_topic],
            handlers=staff_copy.handlers(keep_staff_record),
            pool=runtime.pool,
            dead_letters=runtime.producer,
        ),
    ]
