"""The registry's Kafka consumer: registry checks and pre-list requests from routing.

Each event is handled in the transaction that also records it as processed (``EventConsumer``);
the answer goes to the outbox in that same transaction, so a redelivered request is skipped and
no answer is ever lost or sent twice for one request event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from services.registry import checks
from services.registry.complainants import (
    Complainants,
    IntakeComplainants,
    resolve_check,
    resolve_prelist,
)
from services.registry.settings import RegistrySettings
from services.registry.store import proposals
from slrt import outbox
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import (
    Complainant,
    PrelistEntryRequested,
    RegistryCheckRequested,
    RegistryCorrectionRequested,
)
from slrt.contracts.topics import Topic
from slrt.db import Connection
from slrt.kafka import (
    WAITING_COMPLAINT_FETCH_MAX_WAIT_MS,
    WAITING_COMPLAINT_KEYS_AT_ONCE,
    EventConsumer,
    On,
    PermanentError,
)
from slrt.service import Runtime

SOURCE = "/slrt/registry"
PRELIST_CREATOR = "system:routing"
REQUESTS_GROUP = "registry"
"""Consumer group name, never renamed: the group id and its dedupe records are kept under it
(``slrt.kafka.consumer_group_id``)."""


def request_handlers(
    complainants: Complainants, today: Callable[[], date] = date.today
) -> list[On[Any]]:
    """The requests consumer's handler table. A request naming the complainant by reference is
    redeemed at intake first (intake down: the request waits, ``TransientError``)."""

    async def check(request: RegistryCheckRequested, envelope: Envelope, conn: Connection) -> None:
        resolved = await resolve_check(request, complainants)
        answer = await checks.answer(conn, resolved, today=today())
        await outbox.write(conn, answer, source=SOURCE, subject=str(request.complaint_id))

    async def prelist_entry(
        request: PrelistEntryRequested, envelope: Envelope, conn: Connection
    ) -> None:
        person = await resolve_prelist(request, complainants)
        await prelist(request, person, conn)

    return [
        On(RegistryCheckRequested, check),
        On(PrelistEntryRequested, prelist_entry),
        On(RegistryCorrectionRequested, correction),
    ]


def consumers(
    runtime: Runtime[RegistrySettings], settings: RegistrySettings
) -> list[EventConsumer]:
    return [
        EventConsumer(
            settings.connections,
            group=REQUESTS_GROUP,
            topics=[Topic.REGISTRY_REQUESTS.value],
            handlers=request_handlers(
                IntakeComplainants(
                    settings.intake_url, settings.intake_token_ref, settings.intake_timeout_seconds
                )
            ),
            pool=runtime.pool,
            dead_letters=runtime.producer,
            fetch_max_wait_ms=WAITING_COMPLAINT_FETCH_MAX_WAIT_MS,
            keys_at_once=WAITING_COMPLAINT_KEYS_AT_ONCE,
        )
    ]


async def prelist(request: PrelistEntryRequested, person: Complainant, conn: Connection) -> None:
    if not await conn.fetchval(
        "SELECT 1 FROM places WHERE code = $1 AND level = 'village'", person.village_code
    ):
        raise PermanentError("the pre-list request names a village the directory does not know")
    # A person already pending (same NIK, or name + birth date + village) is joined, not
    # pre-listed twice; the complaint is told which entry carries it.
    await proposals.create_or_join_prelist(
        conn,
        SOURCE,
        fields={
            "request_id": request.request_id,
            "complaint_id": request.complaint_id,
            "ticket_number": request.ticket_number,
            "nik": person.nik,
            "kk_number": person.kk_number,
            "name": person.name,
            "sex": person.sex,
            "birth_date": person.birth_date,
            "address": person.address,
            "village_code": person.village_code,
        },
        created_by=PRELIST_CREATOR,
    )


async def correction(
    request: RegistryCorrectionRequested, envelope: Envelope, conn: Connection
) -> None:
    """Corrections a back office proposed from a complaint: one change proposal each."""
    await proposals.create_corrections(conn, SOURCE, request)
