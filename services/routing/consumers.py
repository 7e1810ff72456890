"""Kafka → Temporal: start a workflow per submitted complaint, turn results into signals,
keep routing's copy of the program catalog.

Each handler runs inside the consumer's dedupe transaction and awaits Temporal before it
returns, so the offset is committed only once Temporal has the start or the signal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.routing import domain, store
from services.routing.activities import complaint_policy
from services.routing.late_results import LateResults
from services.routing.settings import RoutingSettings
from slrt.auth.directory import DirectoryCopy
from slrt.contracts.complaints import (
    SIGNAL_DELIVERY_OUTCOME,
    SIGNAL_REFERRAL_ANSWER,
    SIGNAL_REGISTRY_PROPOSAL,
    SIGNAL_REGISTRY_RESULT,
)
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import (
    ComplaintSubmitted,
    NotificationDelivered,
    NotificationFailed,
    ProgramCatalogEntry,
    ReferralAnswered,
    RegistryCheckCompleted,
    RegistryProposalUpdated,
    RegistryVerificationApplied,
)
from slrt.contracts.sla import SlaPolicy
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
from slrt.kafka import (
    WAITING_COMPLAINT_FETCH_MAX_WAIT_MS,
    WAITING_COMPLAINT_KEYS_AT_ONCE,
    EventConsumer,
    EventProducer,
    On,
    TransientError,
)
from slrt.service import Runtime
from workflows.model import MEMO_SLA_POLICY

log = logging.getLogger(__name__)

COMPLAINTS_GROUP = "routing.complaints"
RESULTS_GROUP = "routing.results"
CATALOG_GROUP = "routing.catalog"
"""Consumer group names, never renamed: the group id and its dedupe records are kept under it
(``slrt.kafka.consumer_group_id``)."""

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


PolicyFor = Callable[[str], Awaitable[SlaPolicy]]
"""A complaint's terms by its district (``services.routing.activities.complaint_policy``)."""


class Starter:
    """Starts one workflow per complaint; a redelivery, also after the run closed, is a no-op.

    With ``policy`` the complaint's terms go in with the start (the memo
    ``workflows.model.MEMO_SLA_POLICY``): its first workflow task goes straight to the first
    step, without the ``sla_policy`` activity and the workflow task after it. With ``eager``
    the start asks the server to hand the first workflow task back in the start's answer to
    this process's worker (Temporal's eager workflow start: the worker and this consumer share
    routing's client), instead of through the task queue's matching."""

    def __init__(
        self,
        client: Client,
        task_queue: str,
        *,
        index: bool = True,
        policy: PolicyFor | None = None,
        eager: bool = False,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._index = index
        self._policy = policy
        self._eager = eager

    async def handle(
        self, submitted: ComplaintSubmitted, envelope: Envelope, conn: Connection
    ) -> None:
        await on_temporal(self._start(submitted))

    async def _start(self, submitted: ComplaintSubmitted) -> None:
        workflow_id = complaint_workflow_id(str(submitted.complaint_id))
        memo = None
        if self._policy is not None:
            memo = {MEMO_SLA_POLICY: await self._policy(submitted.village_code[:4])}
        try:
            await self._client.start_workflow(
                COMPLAINT_WORKFLOW,
                submitted,
                memo=memo,
                id=workflow_id,
                task_queue=self._task_queue,
                # Never a second run for one complaint: a running one is kept, a closed one
                # refuses the id (and is left closed).
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=search_attributes(submitted) if self._index else None,
                request_eager_start=self._eager,
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
    """Turns registry answers and news about a complaint's proposals, delivery outcomes and
    program-manager answers into signals."""

    def __init__(self, client: Client, producer: EventProducer | None = None) -> None:
        self._client = client
        self._late = LateResults(client, producer) if producer is not None else None

    def handlers(self) -> list[On[Any]]:
        # Other events on these topics are not routing's business: the consumer skips contract
        # types without a row.
        return [
            On(RegistryCheckCompleted, self.registry_result),
            On(RegistryProposalUpdated, self.proposal_news),
            On(RegistryVerificationApplied, self.proposal_news),
            On(NotificationDelivered, self.delivered),
            On(NotificationFailed, self.failed),
            On(ReferralAnswered, self.referral_answer),
        ]

    async def registry_result(
        self, answer: RegistryCheckCompleted, envelope: Envelope, conn: Connection
    ) -> None:
        await self._signal(answer.complaint_id, SIGNAL_REGISTRY_RESULT, answer)

    async def proposal_news(
        self,
        event: RegistryProposalUpdated | RegistryVerificationApplied,
        envelope: Envelope,
        conn: Connection,
    ) -> None:
        """News about a proposal a complaint started; one without a complaint is not ours. A
        complaint whose run has ended gets it on its timeline all the same (``late_results``)."""
        if event.complaint_id is None:
            return
        news = domain.proposal_news(event)
        signalled = await self._signal(event.complaint_id, SIGNAL_REGISTRY_PROPOSAL, news)
        if not signalled and self._late is not None:
            await on_temporal(self._late.record(event.complaint_id, news, conn))

    async def delivered(
        self, delivered: NotificationDelivered, envelope: Envelope, conn: Connection
    ) -> None:
        if delivered.complaint_id is not None:
            outcome = domain.delivered_outcome(delivered)
            await self._signal(delivered.complaint_id, SIGNAL_DELIVERY_OUTCOME, outcome)

    async def failed(
        self, failed: NotificationFailed, envelope: Envelope, conn: Connection
    ) -> None:
        if failed.complaint_id is not None:
            outcome = domain.failed_outcome(failed)
            await self._signal(failed.complaint_id, SIGNAL_DELIVERY_OUTCOME, outcome)

    async def referral_answer(
        self, answered: ReferralAnswered, envelope: Envelope, conn: Connection
    ) -> None:
        decision = domain.referral_answer(answered)
        await self._signal(answered.complaint_id, SIGNAL_REFERRAL_ANSWER, decision)

    async def _signal(self, complaint_id: object, name: str, payload: object) -> bool:
        """Signal the complaint's run; False when it has ended (or never existed)."""
        handle = self._client.get_workflow_handle(complaint_workflow_id(str(complaint_id)))
        try:
            await on_temporal(handle.signal(name, payload))
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                # The complaint's workflow has ended: nothing is waiting for this result.
                log.warning(
                    "result for a closed or unknown complaint",
                    extra={"signal": name, "complaint_id": str(complaint_id)},
                )
                return False
            raise
        return True


async def keep_program(entry: ProgramCatalogEntry, envelope: Envelope, conn: Connection) -> None:
    await store.upsert_program(conn, entry)


def consumers(runtime: Runtime[RoutingSettings], settings: RoutingSettings) -> list[EventConsumer]:
    connections = settings.connections
    directory = runtime.part(DirectoryCopy)
    starter = Starter(
        runtime.temporal,
        connections.temporal_task_queue,
        index=settings.search_attributes,
        policy=lambda district: complaint_policy(settings, directory, district),
        # The worker polls this task queue in this process on the same client (``app.py``).
        eager=True,
    )
    signaller = Signaller(runtime.temporal, runtime.producer)
    return [
        EventConsumer(
            connections,
            group=COMPLAINTS_GROUP,
            topics=[Topic.COMPLAINT_SUBMITTED],
            handlers=[On(ComplaintSubmitted, starter.handle)],
            pool=runtime.pool,
            dead_letters=runtime.producer,
            fetch_max_wait_ms=WAITING_COMPLAINT_FETCH_MAX_WAIT_MS,
            keys_at_once=WAITING_COMPLAINT_KEYS_AT_ONCE,
        ),
        EventConsumer(
            connections,
            group=RESULTS_GROUP,
            topics=[Topic.REGISTRY_RESULTS, Topic.NOTIFICATION_OUTCOMES, Topic.REFERRAL_ANSWERS],
            handlers=signaller.handlers(),
            pool=runtime.pool,
            dead_letters=runtime.producer,
            fetch_max_wait_ms=WAITING_COMPLAINT_FETCH_MAX_WAIT_MS,
            keys_at_once=WAITING_COMPLAINT_KEYS_AT_ONCE,
        ),
        EventConsumer(
            connections,
            group=CATALOG_GROUP,
            topics=[Topic.PROGRAM_CATALOG],
            handlers=[On(ProgramCatalogEntry, keep_program)],
            pool=runtime.pool,
            dead_letters=runtime.producer,
        ),
    ]
