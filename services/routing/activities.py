"""The complaint workflow's activities: the only code that does I/O on its behalf.

Publishes carry deterministic event ids (the workflow id and sequence for transitions, the
workflow-generated request id for requests), so an activity retried after a lost ack produces
a duplicate that every consumer drops.

They also keep routing's domain metrics (``services/routing/metrics.py``). Bookkeeping for a
metric never holds a complaint up: if Postgres fails it, the observation is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import asyncpg
from temporalio import activity

from services.routing import store
from services.routing.metrics import STEP_DURATION, count_sla_notice, step_left
from services.routing.settings import RoutingSettings
from slrt.auth.directory import DirectoryCopy
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import (
    ComplaintTransitioned,
    NotificationRequested,
    PrelistEntryRequested,
    RegistryCheckRequested,
    RegistryCorrectionRequested,
)
from slrt.contracts.sla import SlaPolicy
from slrt.contracts.temporal import complaint_workflow_id
from slrt.kafka import EventProducer
from slrt.staff_directory import separation_of_duties
from workflows import routing_plan
from workflows.model import (
    ACTIVITY_EMIT_TRANSITION,
    ACTIVITY_FIND_REPEATS,
    ACTIVITY_PUBLISH_EFFECTS,
    ACTIVITY_REQUEST_NOTIFICATION,
    ACTIVITY_REQUEST_PRELIST_ENTRY,
    ACTIVITY_REQUEST_REGISTRY_CHECK,
    ACTIVITY_REQUEST_REGISTRY_CORRECTION,
    ACTIVITY_ROUTING_OPTIONS,
    ACTIVITY_SLA_POLICY,
    EffectBatch,
    RepeatQuery,
    RouteRequest,
    RoutingOptions,
)
from workflows.working_days import indonesian_days_off

log = logging.getLogger(__name__)

_BOOKKEEPING_SECONDS = 5.0
"""Well inside the activity's 30 s timeout: a Postgres that hangs costs an observation, never
the publish."""


def transition_event_id(complaint_id: str, sequence: int) -> str:
    return f"{complaint_workflow_id(complaint_id)}-{sequence}"


@lru_cache(maxsize=8)
def _days_off(
    years: tuple[int, ...], added: tuple[date, ...], removed: tuple[date, ...]
) -> tuple[date, ...]:
    """The days off of ``years``, worked out once per process (``holidays`` computes every
    year's calendar anew: several milliseconds of every complaint's start)."""
    return tuple(indonesian_days_off(years, leave_added=added, leave_removed=removed))


def sla_policy_from(settings: RoutingSettings, today: datetime) -> SlaPolicy:
    years = tuple(range(today.year - 1, today.year + 3))
    days_off = list(
        _days_off(
            years,
            tuple(settings.collective_leave_added),
            tuple(settings.collective_leave_removed),
        )
    )
    return SlaPolicy.of(
        settings,
        days_off,
        settings.sla_clock_speed,
        separation_of_duties=settings.separation_of_duties,
    )


DIRECTORY_WAIT_SECONDS = 10.0
"""How long a complaint's policy waits for routing's copy of the staff directory to be read
(at start-up) before it takes the deployment's default separation of duties."""


async def complaint_policy(
    settings: RoutingSettings, directory: DirectoryCopy | None, district: str | None
) -> SlaPolicy:
    """The terms a complaint keeps for its life; with its ``district`` (workflows from
    ``people-dir-district-policy`` on), separation of duties as the staff directory sets it for
    the district, else the deployment's default. Read by the ``sla_policy`` activity, and by
    routing's consumer for the workflow's start (``services/routing/consumers.py``)."""
    policy = sla_policy_from(settings, datetime.now(UTC))
    if district is None or directory is None:
        return policy
    if not directory.ready.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(directory.ready.wait(), DIRECTORY_WAIT_SECONDS)
    if not directory.ready.is_set():
        log.warning("staff directory not read yet: the default separation of duties")
    rule = separation_of_duties(directory.snapshot, district, default=settings.separation_of_duties)
    return policy.model_copy(update={"separation_of_duties": rule})


class ComplaintActivities:
    def __init__(
        self,
        producer: EventProducer,
        pool: asyncpg.Pool,
        settings: RoutingSettings,
        directory: DirectoryCopy | None = None,
    ) -> None:
        self._producer = producer
        self._pool = pool
        self._settings = settings
        self._directory = directory
        """Routing's copy of the staff directory: the districts' separation of duties."""

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.sla_policy,
            self.emit_transition,
            self.request_notification,
            self.request_registry_check,
            self.request_prelist_entry,
            self.request_registry_correction,
            self.find_repeats,
            self.routing_options,
            self.publish_effects,
        ]

    @activity.defn(name=ACTIVITY_SLA_POLICY)
    async def sla_policy(self, district: str | None = None) -> SlaPolicy:
        """The terms a complaint keeps for its life (``complaint_policy``). Since
        ``perf-path-policy-at-start`` routing's consumer passes them in at start; this activity
        serves the runs started without them."""
        return await complaint_policy(self._settings, self._directory, district)

    @activity.defn(name=ACTIVITY_EMIT_TRANSITION)
    async def emit_transition(self, event: ComplaintTransitioned) -> None:
        """Publish one transition. Its step duration is recorded while the publish is in
        flight (it was a transaction before the publish, on the complaint's path: the
        manager's step and the delivery are published by this activity); the activity
        completes only when both are done, so a retry after a crash between them records what
        was missed (the sequence guard counts nothing twice), as ``publish_effects`` does."""
        observing = asyncio.create_task(self._observe_steps([event]))
        try:
            subject = str(event.complaint_id)
            await self._producer.publish(
                event, subject=subject, id=transition_event_id(subject, event.sequence)
            )
        finally:
            await observing

    @activity.defn(name=ACTIVITY_PUBLISH_EFFECTS)
    async def publish_effects(self, batch: EffectBatch) -> None:
        """Publish a batch of effects in order, each as its own activity would (the same event
        ids, so a retried batch is deduplicated downstream): queued on the producer one after
        another (its per-partition order is kept), then the broker's acks awaited together.

        The step durations of the batch's transitions are recorded meanwhile, in order, on one
        connection (they were each a transaction before its publish, on the complaint's path);
        the activity completes only when both are done, so a retry after a crash between them
        records what was missed (the sequence guard counts nothing twice)."""
        effects = batch.effects()
        transitions = [e for e in effects if isinstance(e, ComplaintTransitioned)]
        observing = asyncio.create_task(self._observe_steps(transitions))
        try:
            acks = []
            for effect in effects:
                if isinstance(effect, ComplaintTransitioned):
                    subject = str(effect.complaint_id)
                    event_id = transition_event_id(subject, effect.sequence)
                elif isinstance(effect, NotificationRequested):
                    subject = str(effect.complaint_id or effect.request_id)
                    event_id = str(effect.request_id)
                else:
                    subject, event_id = str(effect.complaint_id), str(effect.request_id)
                envelope = Envelope.wrap(
                    effect, source=self._producer.source, subject=subject, id=event_id
                )
                acks.append(await self._producer.send(effect.topic, envelope))
            await asyncio.gather(*acks)
        finally:
            await observing
        for effect in effects:
            if isinstance(effect, NotificationRequested):
                count_sla_notice(effect)

    async def _observe_steps(self, events: list[ComplaintTransitioned]) -> None:
        """Record each transition's step duration, in order, on one connection (bookkeeping:
        a Postgres failure skips the observations, never the publish)."""
        if not events:
            return
        try:
            async with asyncio.timeout(_BOOKKEEPING_SECONDS), self._pool.acquire() as conn:
                for event in events:
                    mark = await store.move_step_mark(conn, event)
                    left = step_left(mark, event.from_step, event.to_step, event.at)
                    if left is not None:
                        STEP_DURATION.labels(left[0]).observe(left[1])
        except (asyncpg.PostgresError, OSError, TimeoutError) as exc:
            log.warning("step duration not recorded", extra={"error_type": type(exc).__name__})

    @activity.defn(name=ACTIVITY_REQUEST_NOTIFICATION)
    async def request_notification(self, request: NotificationRequested) -> None:
        subject = str(request.complaint_id or request.request_id)
        await self._producer.publish(request, subject=subject, id=str(request.request_id))
        count_sla_notice(request)

    @activity.defn(name=ACTIVITY_REQUEST_REGISTRY_CHECK)
    async def request_registry_check(self, request: RegistryCheckRequested) -> None:
        await self._producer.publish(
            request, subject=str(request.complaint_id), id=str(request.request_id)
        )

    @activity.defn(name=ACTIVITY_REQUEST_PRELIST_ENTRY)
    async def request_prelist_entry(self, request: PrelistEntryRequested) -> None:
        await self._producer.publish(
            request, subject=str(request.complaint_id), id=str(request.request_id)
        )

    @activity.defn(name=ACTIVITY_REQUEST_REGISTRY_CORRECTION)
    async def request_registry_correction(self, request: RegistryCorrectionRequested) -> None:
        await self._producer.publish(
            request, subject=str(request.complaint_id), id=str(request.request_id)
        )

    @activity.defn(name=ACTIVITY_FIND_REPEATS)
    async def find_repeats(self, query: RepeatQuery) -> list[str]:
        async with self._pool.acquire() as conn:
            return await store.record_and_find_repeats(conn, query)

    @activity.defn(name=ACTIVITY_ROUTING_OPTIONS)
    async def routing_options(self, request: RouteRequest) -> RoutingOptions:
        async with self._pool.acquire() as conn:
            entries = await store.catalog(conn)
        return routing_plan.options(request, entries)
