"""The one Kafka producer helper and the one consumer helper.

Producer: idempotent, ``acks=all``, every record a CloudEvent keyed by its aggregate id, with the
current trace context in its headers.

Consumer: a consumer group with manual commits. Each record is handled inside a Postgres
transaction that also records ``(consumer, event id)`` in ``processed_events``; a redelivered
event (after a crash between handling and committing, or a rebalance) finds its row and is
skipped, so handlers see each event once. The offset is committed only after that transaction
commits. A record that cannot be parsed, or whose handler keeps failing, goes to the topic's
dead-letter topic with the error in its headers and is then committed: nothing is dropped and
one poison message does not block its partition.

Handlers: a consumer takes a table of :class:`On` rows, one per event type it handles. The
consumer parses the envelope and the event's data once, and data that does not fit its model is
a permanent error (dead-lettered at once, the data never echoed). An event type without a row:

- a type of the contract (``slrt.contracts.events.EVENT_MODELS``) is another consumer's
  business and is skipped: committed without a dedupe row, counted as ``ignored``;
- any other type (a version this code does not know yet, a foreign producer) is dead-lettered,
  so it can be replayed once the consumer knows it instead of being lost.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, KafkaError
from aiokafka.structs import OffsetAndMetadata
from opentelemetry import trace
from pydantic import ValidationError

from slrt import text
from slrt.contracts.envelope import Envelope, EventData, from_kafka, to_kafka
from slrt.contracts.events import EVENT_MODELS
from slrt.contracts.topics import dead_letter_topic
from slrt.db import Connection
from slrt.metrics import CONSUMER_LAG, EVENTS_CONSUMED
from slrt.settings import ConnectionSettings
from slrt.stopping import sleep_or_stop
from slrt.telemetry import CurrentSpan, extract_context, inject_headers

log = logging.getLogger(__name__)


tracer = trace.get_tracer("slrt.kafka")

PURGE_INTERVAL_SECONDS = 3600.0

DEFAULT_FETCH_MAX_WAIT_MS = 500
"""aiokafka's default: how long the broker holds an empty fetch open."""

WAITING_COMPLAINT_FETCH_MAX_WAIT_MS = 100
"""For the consumers on the complaint path (a complaint, or the person behind it, waits for the
record). The broker answers a fetch as soon as a record arrives (``fetch_min_bytes`` 1); the
wait bounds the other case, a record that lands while no fetch is open for its partition (just
answered, after a rebalance), to 100 ms instead of 500. Other consumers (catalog, read models)
keep the default and send fewer empty fetches."""

WAITING_COMPLAINT_KEYS_AT_ONCE = 4
"""For the same consumers: records of up to four complaints (Kafka keys) handled at once, each
complaint's in order (``EventConsumer(keys_at_once=...)``), so that a complaint's request does
not queue behind another's (the registry's redemption call at intake, routing's StartWorkflow
and signals). Each holds one pool connection while handled (the pools hold 10)."""

T = TypeVar("T", bound=EventData)

Handler = Callable[[T, Envelope, Connection], Awaitable[None]]
"""Handles one parsed event (with its envelope) inside the transaction that also records it
as processed."""


@dataclass(frozen=True)
class On(Generic[T]):
    """One row of a consumer's handler table: events of ``model``'s type go to ``handler``."""

    model: type[T]
    handler: Handler[T]


class HandlerTable:
    """The handler table keyed by event type; one row per type."""

    def __init__(self, rows: Iterable[On[Any]]) -> None:
        self._rows: dict[str, On[Any]] = {}
        for row in rows:
            if row.model.event_type in self._rows:
                raise ValueError(f"two handlers for {row.model.event_type}")
            self._rows[row.model.event_type] = row

    def row(self, event_type: str) -> On[Any] | None:
        return self._rows.get(event_type)

    async def apply(self, envelope: Envelope, conn: Connection) -> bool:
        """Handle one event outside a consumer (a replay) by the same rules; False when its type
        is skipped. Raises :class:`PermanentError` where the consumer would dead-letter."""
        row = self.row(envelope.type)
        if row is None:
            error = unhandled_error(envelope.type)
            if error is not None:
                raise PermanentError(error)
            return False
        await row.handler(parse(row, envelope), envelope, conn)
        return True


def unhandled_error(event_type: str) -> str | None:
    """The one rule for an event type without a handler: ``None`` to skip it (a contract type,
    someone else's business), else why it is dead-lettered (a type the contract does not know)."""
    if event_type in EVENT_MODELS:
        return None
    return f"unknown event type {event_type!r}: not in the contract"


def parse(row: On[T], envelope: Envelope) -> T:
    """The event's data as its model; a mismatch is permanent (the data is never echoed).

    Text PostgreSQL cannot store (NUL, an unpaired surrogate) is replaced by U+FFFD first
    (``slrt.text.storable``): a consumer's read model accepts every event a producer can emit,
    so content never dead-letters an event or leaves a read model behind the workflow."""
    try:
        return row.model.model_validate(text.storable(envelope.data))
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "data" for e in exc.errors()})
        raise PermanentError(
            f"{envelope.type} event {envelope.id} does not match its contract "
            f"({exc.error_count()} errors: {', '.join(fields)[:300]})"
        ) from None


class PermanentError(Exception):
    """Raised by a handler for an event that can never succeed: dead-lettered at once."""


class TransientError(Exception):
    """Raised by a handler when a dependency is unavailable: the event is retried until it
    is back, never dead-lettered."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # A pooled connection whose server went away mid-operation (a PostgreSQL restart).
    asyncpg.InternalClientError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


def client_options(settings: ConnectionSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile)
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
        options["ssl_context"] = context
    if settings.kafka_sasl_mechanism:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        if settings.kafka_sasl_password:
            options["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return options


def consumer_group_id(settings: ConnectionSettings, group: str) -> str:
    """The Kafka group id of the consumer named ``group`` in its service's ``consumers`` module:
    the deployment's ``kafka_consumer_group_prefix`` and the name. Its committed offsets and its
    dedupe records (``processed_events.consumer``) are kept under this id, so a renamed group
    reads its topics again from the start and handles every event again: the names are pinned by
    ``tests/platform/test_consumer_groups.py``."""
    return settings.kafka_consumer_group_prefix + group


def from_start_consumer(settings: ConnectionSettings) -> AIOKafkaConsumer:
    """A consumer outside any group, committing nothing, whose every position starts at the
    log's beginning: for reading assigned partitions from their start (a copy, a replay). With
    the default reset ("latest"), the fetcher's own reset of a fresh assignment could race a
    seek to the beginning and leave a partition at its end with nothing read."""
    return AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


class EventProducer:
    """Publishes CloudEvents; ``source`` names the publishing service."""

    def __init__(self, settings: ConnectionSettings, source: str) -> None:
        self.source = source
        self._producer = AIOKafkaProducer(
            **client_options(settings),
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            request_timeout_ms=15000,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def __aenter__(self) -> EventProducer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def publish(self, data: EventData, *, subject: str, id: str | None = None) -> Envelope:
        """Wrap ``data`` in an envelope, send it to its topic and wait for the broker's ack."""
        envelope = Envelope.wrap(data, source=self.source, subject=subject, id=id)
        await (await self.send(data.topic, envelope))
        return envelope

    async def send(
        self, topic: str, envelope: Envelope, trace_headers: Iterable[tuple[str, bytes]] = ()
    ) -> asyncio.Future[Any]:
        """Queue one envelope; the returned future resolves when the broker acknowledged it.

        ``trace_headers`` (the outbox relay passes those of the transaction that wrote the row)
        make the publish span a child of that context; otherwise of the current one.
        """
        key, headers, value = to_kafka(envelope)
        explicit = list(trace_headers)
        parent = extract_context(explicit) if explicit else None
        span = tracer.start_span(
            f"{topic} publish",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.destination.name": topic, "messaging.message.id": envelope.id},
        )
        with CurrentSpan(span):  # current while its context goes into the headers
            headers = inject_headers(headers)
            ack: asyncio.Future[Any] = await self._producer.send(
                topic, value=value, key=key, headers=headers
            )
            return ack

    async def send_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        await self._producer.send_and_wait(topic, value=value, key=key, headers=headers)

    async def ping(self) -> None:
        """Raise unless a broker answers a metadata request now (used by ``/readyz``)."""
        client = self._producer.client
        node_id = client.get_random_node()
        if node_id is None or not await client.ready(node_id):
            raise ConnectionError(f"no Kafka broker reachable at {client._bootstrap_servers}")
        await client.fetch_all_metadata()


class _DrainOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    """Let the record in hand finish (and commit) before its partition moves elsewhere."""

    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self._lock:
            pass

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None


class EventConsumer:
    """Runs the matching row of ``handlers`` for every event on ``topics`` as consumer group
    ``group_id``: ``group`` (a constant of the service's ``consumers`` module) after the
    deployment's prefix (:func:`consumer_group_id`)."""

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        group: str,
        topics: Iterable[str],
        handlers: Iterable[On[Any]],
        pool: asyncpg.Pool,
        dead_letters: EventProducer,
        max_attempts: int = 5,
        retry_backoff_seconds: float = 0.5,
        dedupe_retention_days: int = 30,
        fetch_max_wait_ms: int = DEFAULT_FETCH_MAX_WAIT_MS,
        after_commit: Callable[[], None] | None = None,
        keys_at_once: int = 1,
    ) -> None:
        self.group_id = consumer_group_id(settings, group)
        self._keys_at_once = keys_at_once
        """Records of up to this many different keys (complaints) handled at the same time,
        each key's records one after another in offset order (:meth:`_process_by_key`); 1:
        one record at a time."""
        self._after_commit = after_commit
        """Called after each event's transaction committed (e.g. to wake a worker that reads
        what the handler wrote: woken from inside the handler, it could look too early)."""
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self.topics = list(topics)
        self._settings = settings
        self._handlers = HandlerTable(handlers)
        self._pool = pool
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_seconds
        self._lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._dedupe_retention_days = dedupe_retention_days
        self._next_purge = 0.0
        self.handled = 0
        self.duplicates_skipped = 0
        self.ignored = 0
        self.dead_lettered = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; the record in hand is finished and committed first."""
        consumer = AIOKafkaConsumer(
            **client_options(self._settings),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=50,
            fetch_max_wait_ms=self._fetch_max_wait_ms,
        )
        self._consumer = consumer
        consumer.subscribe(self.topics, listener=_DrainOnRevoke(self._lock))
        await consumer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300)
                if self._keys_at_once > 1 and batches:
                    if not await self._process_by_key(consumer, batches, stop):
                        return  # stopped: what was not committed is redelivered later
                    await self._record_lag(consumer)
                    await self._purge_when_due()
                    continue
                for tp, records in batches.items():
                    for record in records:
                        if stop.is_set():
                            return
                        async with self._lock:
                            if not await self._process(record, stop):
                                return  # stopped during an outage: redelivered later
                            await self._commit(consumer, tp, record.offset + 1)
                await self._record_lag(consumer)
                await self._purge_when_due()
        finally:
            self._consumer = None
            await consumer.stop()

    async def _process_by_key(
        self,
        consumer: AIOKafkaConsumer,
        batches: dict[TopicPartition, list[ConsumerRecord]],
        stop: asyncio.Event,
    ) -> bool:
        """Handle a fetched batch with records of different keys concurrently (at most
        ``keys_at_once`` keys at a time; one key's records in order, so one complaint's events
        keep their order), then commit each partition up to its first record not handled. A
        record redelivered after a stop or a crash is a duplicate the dedupe table skips.
        False if stopped before every record was handled."""
        lanes: dict[tuple[TopicPartition, bytes | None], list[ConsumerRecord]] = {}
        for tp, records in batches.items():
            for record in records:
                lanes.setdefault((tp, record.key), []).append(record)
        gate = asyncio.Semaphore(self._keys_at_once)
        handled: set[tuple[TopicPartition, int]] = set()
        halted = False

        async def lane(tp: TopicPartition, records: list[ConsumerRecord]) -> None:
            nonlocal halted
            async with gate:
                for record in records:
                    if halted or stop.is_set():
                        return
                    if not await self._process(record, stop):
                        halted = True
                        return
                    handled.add((tp, record.offset))

        async with self._lock:
            outcomes = await asyncio.gather(
                *(lane(tp, records) for (tp, _), records in lanes.items()),
                return_exceptions=True,
            )
            for tp, records in batches.items():
                upto = None
                for record in records:
                    if (tp, record.offset) not in handled:
                        break
                    upto = record.offset + 1
                if upto is not None:
                    await self._commit(consumer, tp, upto)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return not halted and all(
            (tp, r.offset) in handled for tp, rs in batches.items() for r in rs
        )

    async def _purge_when_due(self) -> None:
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_INTERVAL_SECONDS
        try:
            await self.purge_processed()
        except TRANSIENT_ERRORS as exc:
            log.warning("dedupe purge skipped", extra={"error_type": type(exc).__name__})

    async def purge_processed(self) -> int:
        """Forget dedupe rows older than the retention (far past Kafka's own retention, so no
        redelivery can still come for them); returns how many were deleted."""
        status = await self._pool.execute(
            "DELETE FROM processed_events WHERE consumer = $1 "
            "AND processed_at < now() - make_interval(days => $2)",
            self.group_id,
            self._dedupe_retention_days,
        )
        return int(status.split()[-1])

    async def _record_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            position = await consumer.position(tp)
            CONSUMER_LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(
                max(highwater - position, 0)
            )

    async def _commit(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
        try:
            await consumer.commit({tp: OffsetAndMetadata(offset, "")})
        except (CommitFailedError, KafkaError) as exc:
            # The partition moved during a rebalance: its new owner re-reads this record and the
            # dedupe table makes that a no-op.
            log.warning(
                "offset commit failed, record will be redelivered",
                extra={"topic": tp.topic, "partition": tp.partition, "error": str(exc)},
            )

    async def _process(self, record: ConsumerRecord, stop: asyncio.Event) -> bool:
        """Handle or dead-letter one record; False if stopped before either happened."""
        try:
            envelope = from_kafka(record.key, record.headers, record.value)
        except ValueError as exc:
            await self._dead_letter(record, f"unparseable: {exc}")
            return True
        row = self._handlers.row(envelope.type)
        if row is None:
            return await self._unhandled(record, envelope)
        context = extract_context(record.headers)
        with tracer.start_as_current_span(
            f"{record.topic} process", context=context, kind=trace.SpanKind.CONSUMER
        ) as span:
            span.set_attribute("messaging.consumer.group.name", self.group_id)
            span.set_attribute("messaging.message.id", envelope.id)
            span.set_attribute("cloudevents.event_type", envelope.type)
            return await self._handle_with_retries(record, row, envelope, stop)

    async def _unhandled(self, record: ConsumerRecord, envelope: Envelope) -> bool:
        error = unhandled_error(envelope.type)
        if error is not None:
            await self._dead_letter(record, f"{PermanentError.__name__}: {error}")
            return True
        self.ignored += 1
        EVENTS_CONSUMED.labels(self.group_id, record.topic, "ignored").inc()
        log.debug(
            "event type not handled here, skipped",
            extra={"event_id": envelope.id, "event_type": envelope.type},
        )
        return True

    async def _handle_with_retries(
        self, record: ConsumerRecord, row: On[Any], envelope: Envelope, stop: asyncio.Event
    ) -> bool:
        """Handle the event; an outage is waited out, a failing handler is dead-lettered.
        False when ``stop`` was set while a dependency was down."""
        try:
            event = parse(row, envelope)
        except PermanentError as exc:
            await self._dead_letter(record, f"{type(exc).__name__}: {exc}")
            return True
        failures = 0
        outage_delay = self._backoff
        while True:
            try:
                await self._handle_once(row.handler, event, envelope, record.topic)
                return True
            except PermanentError as exc:
                await self._dead_letter(record, f"{type(exc).__name__}: {exc}")
                return True
            except TRANSIENT_ERRORS as exc:
                # A dependency is down: keep the record (no dead letter, no commit) and retry
                # until it is back, or until shutdown, after which the record is redelivered.
                if stop.is_set():
                    return False
                self._log_retry(envelope, "dependency unavailable, waiting", exc)
                await sleep_or_stop(stop, outage_delay)
                outage_delay = min(outage_delay * 2, 30.0)
            except Exception as exc:
                failures += 1
                if failures >= self._max_attempts:
                    await self._dead_letter(record, f"{type(exc).__name__}: {exc}")
                    return True
                self._log_retry(envelope, "handler failed, retrying", exc)
                await asyncio.sleep(self._backoff * 2 ** (failures - 1))

    @staticmethod
    def _log_retry(envelope: Envelope, message: str, exc: BaseException) -> None:
        log.warning(
            message,
            extra={
                "event_id": envelope.id,
                "event_type": envelope.type,
                "error_type": type(exc).__name__,
            },
        )

    async def _handle_once(
        self, handler: Handler[Any], event: EventData, envelope: Envelope, topic: str
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            first_time = await conn.fetchval(
                "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING RETURNING true",
                self.group_id,
                envelope.id,
            )
            if not first_time:
                self.duplicates_skipped += 1
                EVENTS_CONSUMED.labels(self.group_id, topic, "duplicate").inc()
                log.info(
                    "duplicate event skipped",
                    extra={"event_id": envelope.id, "event_type": envelope.type},
                )
                return
            await handler(event, envelope, conn)
        self.handled += 1
        if self._after_commit is not None:
            self._after_commit()
        EVENTS_CONSUMED.labels(self.group_id, topic, "handled").inc()

    async def _dead_letter(self, record: ConsumerRecord, error: str) -> None:
        headers = [
            *(record.headers or []),
            ("slrt-error", error[:2000].encode()),
            ("slrt-original-topic", record.topic.encode()),
            ("slrt-original-partition", str(record.partition).encode()),
            ("slrt-original-offset", str(record.offset).encode()),
            ("slrt-consumer-group", self.group_id.encode()),
        ]
        await self._dead_letters.send_raw(
            dead_letter_topic(record.topic), record.key, record.value, headers
        )
        self.dead_lettered += 1
        EVENTS_CONSUMED.labels(self.group_id, record.topic, "dead_lettered").inc()
        log.error(
            "event dead-lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "consumer_group": self.group_id,
                "error": error[:500],
            },
        )
