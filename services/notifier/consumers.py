"""Kafka handlers: notification requests become deliveries; catalog entries are copied."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from services.notifier import db
from services.notifier.domain import (
    DeliveryStatus,
    is_digest,
    next_digest_time,
    normalise_request,
)
from services.notifier.settings import NotifierSettings
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import NotificationRequested, ProgramCatalogEntry
from slrt.db import Connection
from slrt.kafka import Handler, PermanentError

log = logging.getLogger(__name__)

REQUESTS_GROUP = "notifier.requests"
CATALOG_GROUP = "notifier.catalog"


def request_handler(settings: NotifierSettings, on_new: Callable[[], None]) -> Handler:
    """Record each request once (its request id is the idempotency key, on top of the event-id
    dedupe, so a re-published request with a new event id does not send twice either)."""

    async def handle(envelope: Envelope, conn: Connection) -> None:
        try:
            request = normalise_request(envelope.parse(NotificationRequested))
        except (ValueError, ValidationError) as exc:
            raise PermanentError(
                f"not a valid notification request: {type(exc).__name__}"
            ) from None
        now = datetime.now(UTC)
        digest = is_digest(request)
        if digest:
            status = DeliveryStatus.DIGEST
            due = next_digest_time(now, settings.digest_hour, settings.digest_timezone)
        else:
            status, due = DeliveryStatus.PENDING, now
        created = await db.insert_request(
            conn, request, status=status, next_attempt_at=due, digest=digest
        )
        log.info(
            "notification request recorded" if created else "duplicate request ignored",
            extra={"request_id": str(request.request_id), "kind": request.kind.value},
        )
        if created and not digest:
            on_new()

    return handle


async def handle_catalog_entry(envelope: Envelope, conn: Connection) -> None:
    try:
        entry = envelope.parse(ProgramCatalogEntry)
    except (ValueError, ValidationError) as exc:
        raise PermanentError(f"not a valid catalog entry: {type(exc).__name__}") from None
    if await db.upsert_program(conn, entry):
        log.info("catalog entry updated", extra={"program": entry.code, "version": entry.version})
