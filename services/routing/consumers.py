"""Kafka → Temporal: start a workflow per submitted complaint, turn results into signals,
keep routing's copy of the program catalog.

Each handler runs inside the consumer's dedupe transaction and awaits Temporal before it
returns, so the offset is committed only once Temporal has the start or the signal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.routing import db
from slrt.contracts.complaints import (
    SIGNAL_DELIVERY_OUTCOME,
    SIGNAL_REFERRAL_ANSWER,
    SIGNAL_REGISTRY_RESULT,
    DeliveryOutcome,
    ReferralAnswer,
)
from slrt.contracts.envelope import Envelope, EventData
from slrt.contracts.events import (
    ComplaintSubmitted,
    NotificationDelivered,
    NotificationFailed,
    ProgramCatalogEntry,
    ReferralAnswered,
    RegistryCheckCompleted,
)
from slrt.contracts.temporal import (
    CATEGORY_KEY,
    COMPLAINT_WORKFLOW,
    PLACE_CODE_KEY,
    PROGRAM_KEY,
    TICKET_KEY,
    complaint_workflow_id,
)
from slrt.contracts.topics import Topic
from slrt.db import Connection
from slrt.kafka import EventConsumer, EventProducer, PermanentError, TransientError
from slrt.settings import ConnectionSettings

log = logging.getLogger(__name__)
T = TypeVar("T", bound=EventData)

TRANSIENT = frozenset(
    {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED}
)


async def on_temporal(call: Awaitable[None]) -> None:
    """Await a Temporal call; unreachable Temporal (a deploy, a restart) is a transient error,
    so the consumer holds the partition and retries instead of dead-lettering the event."""
    try:
        await call
    except RPCError as exc:
        if exc.status in TRANSIENT:
            raise TransientError(f"temporal unavailable: {exc.status.name}") from exc
        raise


class Starter:
    """Starts one workflow per complaint; a redelivery, also after the run closed, is a no-op."""

    def __init__(self, client: Client, task_queue: str, *, index: bool = True) -> None:
        self._client = client
        self._task_queue = task_queue
        self._index = index

    async def handle(self, envelope: Envelope, conn: Connection) -> None:
        submitted = _parse(envelope, ComplaintSubmitted)
        await on_temporal(self._start(submitted))

    async def _start(self, submitted: ComplaintSubmitted) -> None:
        workflow_id = complaint_workflow_id(str(submitted.complaint_id))
        try:
            await self._client.start_workflow(
                COMPLAINT_WORKFLOW,
                submitted,
                id=workflow_id,
                task_queue=self._task_queue,
                # Never a second run for one complaint: a running one is kept, a closed one
                # refuses the id (and is left closed).
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=search_attributes(submitted) if self._index else None,
            )
        except WorkflowAlreadyStartedError:
            log.info("complaint workflow already exists", extra={"workflow_id": workflow_id})


def search_attributes(submitted: ComplaintSubmitted) -> TypedSearchAttributes:
    """What staff tools list complaints by (registered on the namespace; no personal data)."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(TICKET_KEY, submitted.ticket_number),
        SearchAttributePair(PLACE_CODE_KEY, submitted.village_code),
        SearchAttributePair(CATEGORY_KEY, submitted.category.value),
    ]
    if submitted.program_code:
        pairs.append(SearchAttributePair(PROGRAM_KEY, submitted.program_code))
    return TypedSearchAttributes(pairs)


class Signaller:
    """Turns registry answers, delivery outcomes and program-manager answers into signals."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def handle(self, envelope: Envelope, conn: Connection) -> None:
        if envelope.type == RegistryCheckCompleted.event_type:
            answer = _parse(envelope, RegistryCheckCompleted)
            await self._signal(answer.complaint_id, SIGNAL_REGISTRY_RESULT, answer)
        elif envelope.type == NotificationDelivered.event_type:
            delivered = _parse(envelope, NotificationDelivered)
            if delivered.complaint_id is None:
                return
            outcome = DeliveryOutcome(
                request_id=delivered.request_id,
                delivered=True,
                channel=delivered.channel,
                detail=delivered.external_ref,
                at=delivered.delivered_at,
            )
            await self._signal(delivered.complaint_id, SIGNAL_DELIVERY_OUTCOME, outcome)
        elif envelope.type == NotificationFailed.event_type:
            failed = _parse(envelope, NotificationFailed)
            if failed.complaint_id is None:
                return
            outcome = DeliveryOutcome(
                request_id=failed.request_id,
                delivered=False,
                channel=failed.channel,
                detail=f"failed after {failed.attempts} attempts",
                at=failed.failed_at,
            )
            await self._signal(failed.complaint_id, SIGNAL_DELIVERY_OUTCOME, outcome)
        elif envelope.type == ReferralAnswered.event_type:
            answered = _parse(envelope, ReferralAnswered)
            decision = ReferralAnswer(
                answer_id=answered.answer_id,
                referral_id=answered.referral_id,
                decision=answered.decision,
                note=answered.note,
                expected_date=answered.expected_date,
                suggested_destination=answered.suggested_destination,
                at=answered.answered_at,
            )
            await self._signal(answered.complaint_id, SIGNAL_REFERRAL_ANSWER, decision)
        # Other events on these topics (proposal results, …) are not routing's business.

    async def _signal(self, complaint_id: object, name: str, payload: object) -> None:
        handle = self._client.get_workflow_handle(complaint_workflow_id(str(complaint_id)))
        try:
            await on_temporal(handle.signal(name, payload))
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                # The complaint's workflow has ended: nothing is waiting for this result.
                log.warning(
                    "result for a closed or unknown complaint dropped",
                    extra={"signal": name, "complaint_id": str(complaint_id)},
                )
                return
            raise


async def handle_catalog(envelope: Envelope, conn: Connection) -> None:
    entry = _parse(envelope, ProgramCatalogEntry)
    await db.upsert_program(conn, entry)


def _parse(envelope: Envelope, model: type[T]) -> T:
    try:
        return envelope.parse(model)
    except ValueError as exc:
        # Never echo the data: a submitted complaint carries personal data.
        raise PermanentError(f"{envelope.type} event {envelope.id} is invalid") from exc


def consumers(
    settings: ConnectionSettings,
    client: Client,
    pool: asyncpg.Pool,
    producer: EventProducer,
    *,
    search_attributes: bool = True,
) -> list[EventConsumer]:
    starter = Starter(client, settings.temporal_task_queue, index=search_attributes)
    signaller = Signaller(client)
    return [
        EventConsumer(
            settings,
            group_id="routing.complaints",
            topics=[Topic.COMPLAINT_SUBMITTED],
            handler=starter.handle,
            pool=pool,
            dead_letters=producer,
        ),
        EventConsumer(
            settings,
            group_id="routing.results",
            topics=[Topic.REGISTRY_RESULTS, Topic.NOTIFICATION_OUTCOMES, Topic.REFERRAL_ANSWERS],
            handler=signaller.handle,
            pool=pool,
            dead_letters=producer,
        ),
        EventConsumer(
            settings,
            group_id="routing.catalog",
            topics=[Topic.PROGRAM_CATALOG],
            handler=handle_catalog,
            pool=pool,
            dead_letters=producer,
        ),
    ]
