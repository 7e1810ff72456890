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
from urllib.parse import urlsplit

import asyncpg
import httpx
from opentelemetry import context, trace

from services.notifier import household, metrics, persons, store
from services.notifier.channels.base import Channel, ChannelName, Outgoing
from services.notifier.compose import Composer
from services.notifier.contacts import ContactDirectory
from services.notifier.domain import (
    DeliveryStatus,
    RouteState,
    SendResult,
    Verdict,
    came_back,
    next_attempt_at,
    route_state_after,
    worth_probing,
)
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
        self._routes: dict[str, RouteState] = {}
        """How each route (the destination an attempt goes to) last answered; unknown ones
        are absent (as after a restart)."""
        self.wake = asyncio.Event()
        """Set it to look for due deliveries now (a new request arrived)."""

    async def run(self, stop: asyncio.Event) -> None:
        prober = asyncio.create_task(self._probe_loop(stop), name="destination-probes")
        try:
            while not stop.is_set():
                # Cleared before the pass, not after: a request that arrives during the pass
                # wakes the next wait at once instead of waiting out ``dispatch_poll_seconds``.
                self.wake.clear()
                try:
                    await self.dispatch_once()
                except store.DATABASE_DOWN as exc:
                    log.warning("dispatch pass failed", extra={"error": repr(exc)[:300]})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._first_of(stop, self.wake), self._settings.dispatch_poll_seconds
                    )
        finally:
            prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await prober
            # Let attempts in progress finish and settle (the shutdown grace period bounds this).
            if self._in_flight:
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    def _route_now(self, route: str, state: RouteState) -> bool:
        """Record how ``route`` answered; True when it has come back (``domain.came_back``)."""
        before = self._routes.get(route)
        self._routes[route] = state
        return came_back(before, state)

    async def _bring_forward(self, route: str) -> None:
        """``route`` answers again: its waiting retries are due now, not at their backoff."""
        try:
            async with self._pool.acquire() as conn:
                moved = await store.bring_forward(
                    conn, route, self._settings.destination_probe_seconds
                )
        except store.DATABASE_DOWN as exc:
            log.warning("bringing retries forward failed", extra={"error": repr(exc)[:300]})
            return
        if moved:
            log.info("destination answers again: retries due now", extra={"route": route})
            self.wake.set()

    async def _probe_loop(self, stop: asyncio.Event) -> None:
        """Apart from the dispatch loop, so a destination that does not answer a probe never
        holds up deliveries to others."""
        while not stop.is_set():
            try:
                await self.probe_once()
            except Exception as exc:  # a probe must never end the loop
                log.warning("destination probe crashed", extra={"error_type": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._settings.destination_probe_seconds)

    async def probe_once(self) -> None:
        """Probe each destination whose retries wait longer than ``destination_probe_seconds``
        and bring them forward when it answers again."""
        try:
            async with self._pool.acquire() as conn:
                waiting = await store.waiting_routes(conn, self._settings.destination_probe_seconds)
                targets = [
                    (route, await self._probe_target(conn, route, channel))
                    for route, channel in waiting
                ]
        except store.DATABASE_DOWN as exc:
            log.warning("destination probe failed", extra={"error": repr(exc)[:300]})
            return
        for route, target in targets:
            if target is None or not worth_probing(self._routes.get(route)):
                continue
            reached = await probe(target, self._settings.attempt_timeout_seconds)
            log.debug("destination probed", extra={"route": route, "reached": reached})
            state = RouteState.REACHABLE if reached else RouteState.UNREACHABLE
            if self._route_now(route, state):
                await self._bring_forward(route)

    async def _probe_target(self, conn: Connection, route: str, channel: str) -> str | None:
        """Where to knock for ``route``: the base URL of LAPOR!, SIKS-NG, the SMS gateway or
        the program's webhook (its origin), ``smtp://host:port`` for the relay."""
        s = self._settings
        fixed = {
            ChannelName.LAPOR.value: s.lapor_url,
            ChannelName.SIKS_NG.value: s.siks_ng_url,
            ChannelName.SMS.value: s.sms_gateway_url,
            ChannelName.EMAIL.value: f"smtp://{s.smtp_host}:{s.smtp_port}",
        }
        if channel in fixed:
            return fixed[channel]
        if channel == ChannelName.WEBHOOK.value and route.startswith("program:"):
            found = await store.program(conn, route.removeprefix("program:"))
            if found is not None and found.entry.callback_url:
                return origin(str(found.entry.callback_url))
        return None

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
        route: str | None = None
        if isinstance(composed, SendResult):
            channel_name, result = NO_CHANNEL, composed
        else:
            channel_name, route = composed.channel.value, composed.destination
            result = await self._send(composed)
        finished = datetime.now(UTC)
        async with self._pool.acquire() as conn, conn.transaction():
            for delivery in group:
                await self._settle(
                    conn, delivery, channel_name, started, finished, result, route=route
                )
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
            for addressed in await persons.resolve(conn, task, finished):
                await store.insert_request(
                    conn,
                    addressed,
                    status=DeliveryStatus.PENDING,
                    next_attempt_at=finished,
                    digest=False,
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
        if self._route_now(message.destination, route_state_after(result)):
            await self._bring_forward(message.destination)
        return result

    async def _settle(
        self,
        conn: Connection,
        delivery: Delivery,
        channel: str,
        started: datetime,
        finished: datetime,
        result: SendResult,
        *,
        route: str | None = None,
    ) -> None:
        if not await store.still_ours(conn, delivery):
            log.warning(
                "delivery changed during its attempt (cancelled, or settled by another worker "
                "after the lease ran out); the attempt's result is not recorded",
                extra={
                    "delivery_id": str(delivery.id),
                    "channel": channel,
                    "verdict": result.verdict.value,
                },
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
                    route=route,
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


def origin(url: str) -> str:
    """``scheme://host[:port]/`` of a URL: what a probe of a program's endpoint asks."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


async def probe(target: str, timeout: float) -> bool:
    """Can the destination be reached at all? Any HTTP answer (a 404 or 405 for a GET on an
    API's root included) means it can; a refused or timed-out connection that it cannot.
    ``smtp://host:port``: the relay accepts a TCP connection."""
    parts = urlsplit(target)
    if parts.scheme == "smtp":
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, parts.port), timeout
            )
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            answer = await http.get(target)
    except httpx.HTTPError:
        return False
    return answer.status_code > 0


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
