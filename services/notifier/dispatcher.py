"""The delivery loop: claims due deliveries, sends each (or each staff digest) in its own task
through the destination's guards and channel, and settles the attempt, the delivery's state and
its outcome event in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
from opentelemetry import context, trace

from services.notifier import household, metrics, store
from services.notifier.channels.base import Channel, ChannelName, Outgoing
from services.notifier.compose import Composer
from services.notifier.contacts import ContactDirectory
from services.notifier.domain import DeliveryStatus, SendResult, Verdict, next_attempt_at
from services.notifier.guards import Guards
from services.notifier.payloads import SIKS_NG_FILED
from services.notifier.settings import NotifierSettings
from services.notifier.store import Delivery
from slrt import outbox
from slrt.contracts.contacts import FACILITATOR_CHANNEL
from slrt.contracts.events import NotificationDelivered, NotificationFailed, NotificationRequested
from slrt.db import Connection
from slrt.telemetry import extract_context

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
SOURCE = "/slrt/notifier"
NO_CHANNEL = "none"
LAPOR_FILED = "belum_terverifikasi"


class Dispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        channels: Mapping[ChannelName, Channel],
        settings: NotifierSettings,
        contacts: ContactDirectory | None = None,
        households: household.IntakeContacts | None = None,
    ) -> None:
        self._pool = pool
        self._households = households
        self._channels = channels
        self._settings = settings
        self._composer = Composer(settings, contacts or ContactDirectory())
        self._guards = Guards(
            rate=settings.destination_rate_per_second,
            burst=settings.destination_burst,
            threshold=settings.breaker_failures,
            cooldown=settings.breaker_cooldown_seconds,
        )
        self._in_flight: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._per_destination: Counter[str] = Counter()
        self.wake = asyncio.Event()
        """Set it to look for due deliveries now (a new request arrived)."""

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    await self.dispatch_once()
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("dispatch pass failed", extra={"error": repr(exc)[:300]})
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._first_of(stop, self.wake), self._settings.dispatch_poll_seconds
                    )
        finally:
            # Let attempts in progress finish and settle (the shutdown grace period bounds this).
            if self._in_flight:
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    @staticmethod
    async def _first_of(*events: asyncio.Event) -> None:
        waiters = [asyncio.create_task(e.wait()) for e in events]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def dispatch_once(self) -> int:
        """Claim what is due and start its attempts; returns how many deliveries were claimed."""
        room = self._settings.max_in_flight - len(self._in_flight)
        if room <= 0:
            return 0
        cap = self._settings.destination_concurrency
        async with self._pool.acquire() as conn, conn.transaction():
            candidates = await store.due(
                conn,
                limit=room * 4,
                busy=list(self._in_flight),
                full_destinations=[d for d, n in self._per_destination.items() if n >= cap],
            )
            # Per-destination room: one slow agency must not take every slot.
            taken: Counter[str] = Counter()
            claimed: list[Delivery] = []
            for delivery in candidates:
                destination = delivery.request.destination
                full = self._per_destination[destination] + taken[destination] >= cap
                if full and not delivery.digest:  # a digest is one message, however many rows
                    continue
                if len(claimed) >= room:
                    break
                taken[destination] += 1
                claimed.append(delivery)
            await store.lease(conn, [d.id for d in claimed], self._settings.lease_seconds)
        for group in _groups(claimed):
            destination = group[0].request.destination
            task = asyncio.create_task(self._attempt(group), name=f"delivery-{group[0].id}")
            for delivery in group:
                self._in_flight[delivery.id] = task
            self._per_destination[destination] += 1
            task.add_done_callback(
                functools.partial(self._done, [d.id for d in group], destination)
            )
        return len(claimed)

    def _done(self, ids: list[uuid.UUID], destination: str, _task: asyncio.Task[None]) -> None:
        for delivery_id in ids:
            self._in_flight.pop(delivery_id, None)
        self._per_destination[destination] -= 1
        if self._per_destination[destination] <= 0:
            del self._per_destination[destination]

    async def _attempt(self, group: list[Delivery]) -> None:
        metrics.IN_FLIGHT.inc()
        try:
            await self._attempt_unguarded(group)
        except Exception as exc:
            # The lease hands the deliveries back after it runs out; nothing is lost. No traceback:
            # exception texts may quote a request's contact data.
            log.error(
                "delivery attempt crashed",
                extra={"delivery_id": str(group[0].id), "error_type": type(exc).__name__},
            )
        finally:
            metrics.IN_FLIGHT.dec()

    async def _attempt_unguarded(self, group: list[Delivery]) -> None:
        # The attempt continues the trace of the request that recorded the delivery: the
        # outbound call (httpx injects traceparent) and the outcome event join it.
        with tracer.start_as_current_span("deliver", context=_trace_parent(group)) as span:
            span.set_attribute("slrt.delivery.id", str(group[0].id))
            span.set_attribute("slrt.delivery.count", len(group))
            channel_name = await self._attempt_in_span(group)
            span.update_name(f"deliver {channel_name}")
            span.set_attribute("slrt.delivery.channel", channel_name)

    async def _attempt_in_span(self, group: list[Delivery]) -> str:
        """Send the group's message and settle it; returns the channel used."""
        first = group[0].request
        composed: Outgoing | SendResult
        if len(group) == 1 and household.needs_redemption(first):
            started = datetime.now(UTC)
            prepared = await self._prepare_household(group[0], started)
            if prepared is None:
                return FACILITATOR_CHANNEL  # handed to the facilitator, settled
            if isinstance(prepared, SendResult):
                composed = prepared
            else:
                composed = self._composer.compose([prepared], None, started)
        else:
            # Referrals go to a program; reminders about a referral may too (its contacts).
            async with self._pool.acquire() as conn:
                program = await store.program(conn, first.destination)
            started = datetime.now(UTC)
            composed = self._composer.compose(group, program, started)
        if isinstance(composed, SendResult):
            channel_name, result = NO_CHANNEL, composed
        else:
            channel_name = composed.channel.value
            result = await self._send(composed)
        finished = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            for delivery in group:
                await self._settle(conn, delivery, channel_name, started, finished, result)
        return channel_name

    async def _prepare_household(
        self, delivery: Delivery, started: datetime
    ) -> Delivery | SendResult | None:
        """Redeem the household's contact reference at intake: the delivery with its contact
        (in memory only), a result to settle (intake down: retry; unknown reference: final), or
        None once the message was handed to the village facilitator."""
        if self._households is None:
            return SendResult.final("household contacts are not configured")
        contact = await self._households.redeem(delivery.request)
        if isinstance(contact, SendResult):
            return contact
        step = household.plan(delivery.request, contact, self._composer.track_url)
        if isinstance(step, SendResult):
            return step
        if isinstance(step, household.HandOver):
            await self._hand_over(delivery, step.task, started)
            return None
        if step.copy is not None:
            await self._record(step.copy)
        return replace(delivery, request=step.request)

    async def _record(self, request: NotificationRequested) -> None:
        """A delivery derived from another (an email copy, a facilitator's task), due now."""
        async with self._pool.acquire() as conn:
            created = await store.insert_request(
                conn,
                request,
                status=DeliveryStatus.PENDING,
                next_attempt_at=datetime.now(UTC),
                digest=False,
            )
        if created:
            self.wake.set()

    async def _hand_over(
        self, delivery: Delivery, task: NotificationRequested, started: datetime
    ) -> None:
        """No phone, no email: the facilitator's task is recorded and the household message is
        settled as ``handed_to_facilitator`` (its outcome event says so; not a failure)."""
        finished = datetime.now(UTC)
        reference = f"facilitator-task:{task.request_id}"
        result = SendResult.delivered(external_ref=reference)
        async with self._pool.acquire() as conn, conn.transaction():
            if not await store.still_ours(conn, delivery):
                return
            number = await store.record_attempt(
                conn,
                delivery,
                channel=FACILITATOR_CHANNEL,
                started_at=started,
                finished_at=finished,
                result=result,
            )
            await store.insert_request(
                conn, task, status=DeliveryStatus.PENDING, next_attempt_at=finished, digest=False
            )
            await store.mark(
                conn,
                delivery,
                DeliveryStatus.HANDED_TO_FACILITATOR,
                attempts=number,
                channel=FACILITATOR_CHANNEL,
                at=finished,
                external_ref=reference,
            )
            event = NotificationDelivered(
                request_id=delivery.request.request_id,
                complaint_id=delivery.request.complaint_id,
                channel=FACILITATOR_CHANNEL,
                delivered_at=finished,
                external_ref=reference,
            )
            await outbox.write(conn, event, source=SOURCE, subject=_subject(delivery))
        metrics.ATTEMPTS.labels(FACILITATOR_CHANNEL, result.verdict.value).inc()
        metrics.SETTLED.labels(
            FACILITATOR_CHANNEL, DeliveryStatus.HANDED_TO_FACILITATOR.value
        ).inc()
        log.info(
            "household message handed to the village facilitator",
            extra={"delivery_id": str(delivery.id), "task_request_id": str(task.request_id)},
        )
        self.wake.set()

    async def _send(self, message: Outgoing) -> SendResult:
        breaker = self._guards.breaker(message.destination)
        if not breaker.allows():
            return SendResult.retry("circuit open: destination failing")
        await self._guards.throttle(message.destination)
        channel = self._channels[message.channel]
        try:
            result = await asyncio.wait_for(
                channel.send(message), self._settings.attempt_timeout_seconds + 5
            )
        except TimeoutError:
            result = SendResult.retry("timeout")
        # A 4xx answer is final but shows the destination is up; only retries count as down.
        breaker.record(result.verdict is not Verdict.RETRY)
        return result

    async def _settle(
        self,
        conn: Connection,
        delivery: Delivery,
        channel: str,
        started: datetime,
        finished: datetime,
        result: SendResult,
    ) -> None:
        if not await store.still_ours(conn, delivery):
            log.warning(
                "attempt outlived its lease; another worker settled the delivery",
                extra={"delivery_id": str(delivery.id), "channel": channel},
            )
            return
        number = await store.record_attempt(
            conn, delivery, channel=channel, started_at=started, finished_at=finished, result=result
        )
        metrics.ATTEMPTS.labels(channel, result.verdict.value).inc()
        request = delivery.request
        ids = {"delivery_id": str(delivery.id), "attempt": number, "channel": channel}
        if result.verdict is Verdict.DELIVERED:
            await store.mark(
                conn,
                delivery,
                DeliveryStatus.DELIVERED,
                attempts=number,
                channel=channel,
                at=finished,
                external_ref=result.external_ref,
            )
            if channel == ChannelName.LAPOR and result.external_ref:
                await store.add_lapor_report(conn, result.external_ref, delivery, LAPOR_FILED)
            if (
                channel == ChannelName.SIKS_NG
                and result.external_ref
                and delivery.request.referral_id is not None
                and delivery.request.complaint_id is not None
            ):
                # SIKS-NG's verdict on the membership referral is polled (siks_ng_poller.py).
                await store.add_siks_ng_submission(
                    conn, result.external_ref, delivery, SIKS_NG_FILED
                )
            event = NotificationDelivered(
                request_id=request.request_id,
                complaint_id=request.complaint_id,
                channel=channel,
                delivered_at=finished,
                external_ref=result.external_ref,
            )
            await outbox.write(conn, event, source=SOURCE, subject=_subject(delivery))
            metrics.SETTLED.labels(channel, DeliveryStatus.DELIVERED.value).inc()
            log.info("delivered", extra=ids)
            return
        error = result.error or "failed"
        if result.verdict is Verdict.RETRY:
            when = next_attempt_at(
                number,
                finished,
                self._settings.retry_schedule_seconds,
                jitter=self._settings.retry_jitter,
                retry_after=result.retry_after,
            )
            if when is not None:
                await store.mark(
                    conn,
                    delivery,
                    DeliveryStatus.RETRYING,
                    attempts=number,
                    channel=channel,
                    at=finished,
                    next_attempt_at=when,
                    error=error,
                )
                log.info("attempt failed, will retry", extra={**ids, "error": error})
                return
            error = f"retries exhausted; last error: {error}"
        if result.disable_endpoint:
            await store.disable_endpoint(conn, request.destination, error)
            metrics.ENDPOINTS_DISABLED.inc()
            log.error(
                "ALERT destination endpoint gone (410): disabled until its catalog entry changes",
                extra={**ids, "program": request.destination},
            )
        await store.mark(
            conn,
            delivery,
            DeliveryStatus.FAILED,
            attempts=number,
            channel=channel,
            at=finished,
            error=error,
        )
        failed = NotificationFailed(
            request_id=request.request_id,
            complaint_id=request.complaint_id,
            channel=channel,
            attempts=number,
            last_error=error,
            failed_at=finished,
        )
        await outbox.write(conn, failed, source=SOURCE, subject=_subject(delivery))
        metrics.SETTLED.labels(channel, DeliveryStatus.FAILED.value).inc()
        log.error("delivery failed (dead letter)", extra={**ids, "error": error})


def _subject(delivery: Delivery) -> str:
    """Outcome events are keyed by complaint (the delivery id when there is none)."""
    request = delivery.request
    return str(request.complaint_id) if request.complaint_id else str(delivery.id)


def _trace_parent(group: list[Delivery]) -> context.Context:
    """The stored trace context of a lone delivery; a digest serves many complaints, so it
    starts a trace of its own."""
    if len(group) != 1:
        return context.Context()
    return extract_context({k: v.encode() for k, v in group[0].trace_headers.items()})


def _groups(claimed: list[Delivery]) -> list[list[Delivery]]:
    """Staff reminders due for the same person go out as one digest; the rest one by one."""
    digests: dict[str, list[Delivery]] = {}
    groups: list[list[Delivery]] = []
    for delivery in claimed:
        if delivery.digest:
            digests.setdefault(delivery.request.destination, []).append(delivery)
        else:
            groups.append([delivery])
    return groups + list(digests.values())
