"""The producer/consumer helpers against a real Kafka broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from slrt.contracts.envelope import Envelope
from slrt.contracts.events import RegistryProposalUpdated
from slrt.contracts.topics import dead_letter_topic
from slrt.db import Connection
from slrt.kafka import EventConsumer, EventProducer, On, PermanentError, TransientError
from slrt.settings import ConnectionSettings
from tests.support.crashing_consumer import CRASH_EXIT_CODE
from tests.support.harness import RealStack
from tests.support.kafka_tools import (
    HANDLED_TABLE,
    Ping,
    new_group,
    prepare_schema,
    read_topic,
    recording_handler,
)


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await prepare_schema(fresh_db, "consumer", HANDLED_TABLE)
    yield pool
    await pool.close()


@pytest.fixture
def settings(fresh_db: str, kafka_bootstrap: str) -> ConnectionSettings:
    return ConnectionSettings(postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap)


async def _produce(settings: ConnectionSettings, topic: str, subjects: list[str]) -> list[Envelope]:
    sent = []
    async with EventProducer(settings, source="/test") as producer:
        for position, subject in enumerate(subjects):
            envelope = Envelope.wrap(Ping(position=position), source="/test", subject=subject)
            await (await producer.send(topic, envelope))
            sent.append(envelope)
    return sent


async def _consume_until(consumer: EventConsumer, done: Any, timeout: float = 60.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await done():
            assert not task.done(), task.exception() if task.done() else None
            assert asyncio.get_running_loop().time() < deadline, "consumer did not finish in time"
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_redelivery_after_a_crash_before_commit_is_handled_once(
    real_stack: RealStack,
    settings: ConnectionSettings,
    pool: asyncpg.Pool,
    fresh_db: str,
    topic_name: str,
) -> None:
    await real_stack.create_topics(topic_name, dead_letter_topic(topic_name), partitions=1)
    sent = await _produce(settings, topic_name, ["c-1", "c-1", "c-1"])
    group = new_group()

    crashed = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "tests.support.crashing_consumer",
            fresh_db,
            settings.kafka_bootstrap,
            topic_name,
            group,
            "consumer",
        ],
        capture_output=True,
        timeout=120,
    )
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr.decode()[-2000:]
    assert await pool.fetchval("SELECT count(*) FROM handled") == 1  # handled, not committed

    consumer = EventConsumer(
        settings,
        group=group,
        topics=[topic_name],
        handlers=[On(Ping, recording_handler())],
        pool=pool,
        dead_letters=EventProducer(settings, "/test"),
    )
    await consumer._dead_letters.start()
    try:

        async def all_handled() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM handled") >= len(sent))

        await _consume_until(consumer, all_handled)
    finally:
        await consumer._dead_letters.stop()

    rows = await pool.fetch("SELECT event_id FROM handled ORDER BY seq")
    assert [r["event_id"] for r in rows] == [e.id for e in sent]
    assert consumer.duplicates_skipped == 1  # the first event came again and was skipped


async def test_poison_messages_go_to_the_dead_letter_topic_with_their_error(
    real_stack: RealStack,
    settings: ConnectionSettings,
    pool: asyncpg.Pool,
    topic_name: str,
) -> None:
    dlq = dead_letter_topic(topic_name)
    await real_stack.create_topics(topic_name, dlq, partitions=1)
    raw = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await raw.start()
    try:
        await raw.send_and_wait(topic_name, b"not json, no headers", key=b"c-9")
    finally:
        await raw.stop()
    sent = await _produce(settings, topic_name, ["c-poison", "c-good"])

    seen: list[str] = []

    async def handler(event: Ping, envelope: Envelope, conn: Connection) -> None:
        if envelope.subject == "c-poison":
            raise PermanentError("village code 9999999999 is not in the place list")
        seen.append(envelope.id)

    async with EventProducer(settings, "/test") as dead_letters:
        consumer = EventConsumer(
            settings,
            group=new_group(),
            topics=[topic_name],
            handlers=[On(Ping, handler)],
            pool=pool,
            dead_letters=dead_letters,
        )

        async def good_one_handled() -> bool:
            return bool(seen)

        await _consume_until(consumer, good_one_handled)

    assert seen == [sent[1].id]
    dead = await read_topic(settings.kafka_bootstrap, dlq, expect=2)
    assert len(dead) == 2
    errors = [dict(r.headers)["slrt-error"].decode() for r in dead]
    assert errors[0].startswith("unparseable: not a CloudEvent")
    assert errors[1] == "PermanentError: village code 9999999999 is not in the place list"
    assert dead[0].value == b"not json, no headers"
    assert dict(dead[1].headers)["slrt-original-topic"] == topic_name.encode()
    assert consumer.dead_lettered == 2


async def test_data_that_breaks_the_contract_is_dead_lettered_once_without_the_data(
    real_stack: RealStack,
    settings: ConnectionSettings,
    pool: asyncpg.Pool,
    topic_name: str,
) -> None:
    dlq = dead_letter_topic(topic_name)
    await real_stack.create_topics(topic_name, dlq, partitions=1)
    broken = Envelope(
        type=Ping.event_type, source="/test", subject="c-1", data={"position": "3201-secret"}
    )
    async with EventProducer(settings, "/test") as producer:
        await (await producer.send(topic_name, broken))
    calls = 0

    async def handler(event: Ping, envelope: Envelope, conn: Connection) -> None:
        nonlocal calls
        calls += 1

    async with EventProducer(settings, "/test") as dead_letters:
        consumer = EventConsumer(
            settings,
            group=new_group(),
            topics=[topic_name],
            handlers=[On(Ping, handler)],
            pool=pool,
            dead_letters=dead_letters,
            max_attempts=3,
        )

        async def dead_lettered() -> bool:
            return consumer.dead_lettered == 1

        await _consume_until(consumer, dead_lettered)

    assert calls == 0  # the handler only ever sees data that fits its model
    [dead] = await read_topic(settings.kafka_bootstrap, dlq, expect=1)
    error = dict(dead.headers)["slrt-error"].decode()
    assert error.startswith(f"PermanentError: {Ping.event_type} event {broken.id} does not match")
    assert "position" in error
    assert "3201-secret" not in error  # the data is never echoed


async def test_an_unhandled_contract_type_is_skipped_an_unknown_type_dead_lettered(
    real_stack: RealStack,
    settings: ConnectionSettings,
    pool: asyncpg.Pool,
    topic_name: str,
) -> None:
    """The one rule for event types without a handler row: a type of the contract is another
    consumer's business (skipped, committed, no dedupe row); a type the contract does not know
    is dead-lettered, to be replayed once a consumer knows it."""
    dlq = dead_letter_topic(topic_name)
    await real_stack.create_topics(topic_name, dlq, partitions=1)
    theirs = Envelope.wrap(
        RegistryProposalUpdated(
            proposal_id=uuid.uuid4(), kind="prelist", status="proposed", at=datetime.now(UTC)
        ),
        source="/test",
        subject="c-1",
    )
    unknown = Envelope(
        type="slrt.test.ping.v2", source="/test", subject="c-1", data={"position": 1}
    )
    async with EventProducer(settings, "/test") as producer:
        for envelope in (theirs, unknown):
            await (await producer.send(topic_name, envelope))
    [mine] = await _produce(settings, topic_name, ["c-1"])

    async with EventProducer(settings, "/test") as dead_letters:
        consumer = EventConsumer(
            settings,
            group=new_group(),
            topics=[topic_name],
            handlers=[On(Ping, recording_handler())],
            pool=pool,
            dead_letters=dead_letters,
        )

        async def all_seen() -> bool:
            return consumer.handled == 1

        await _consume_until(consumer, all_seen)

    assert (consumer.ignored, consumer.dead_lettered) == (1, 1)
    assert [r["event_id"] for r in await pool.fetch("SELECT event_id FROM handled")] == [mine.id]
    processed = await pool.fetch("SELECT event_id FROM processed_events")
    assert [r["event_id"] for r in processed] == [mine.id]  # a skipped event leaves no row
    [dead] = await read_topic(settings.kafka_bootstrap, dlq, expect=1)
    assert dict(dead.headers)["ce_type"] == b"slrt.test.ping.v2"
    assert dict(dead.headers)["slrt-error"] == (
        b"PermanentError: unknown event type 'slrt.test.ping.v2': not in the contract"
    )


async def test_a_failing_handler_is_retried_then_dead_lettered(
    real_stack: RealStack,
    settings: ConnectionSettings,
    pool: asyncpg.Pool,
    topic_name: str,
) -> None:
    dlq = dead_letter_topic(topic_name)
    await real_stack.create_topics(topic_name, dlq, partitions=1)
    await _produce(settings, topic_name, ["c-1"])
    attempts = 0

    async def flaky(event: Ping, envelope: Envelope, conn: Connection) -> None:
        nonlocal attempts
        attempts += 1
        await conn.execute(
            "INSERT INTO handled (event_id, subject, position) VALUES ($1, $2, 0)",
            envelope.id,
            envelope.subject,
        )
        raise RuntimeError("registry unreachable")

    async with EventProducer(settings, "/test") as dead_letters:
        consumer = EventConsumer(
            settings,
            group=new_group(),
            topics=[topic_name],
            handlers=[On(Ping, flaky)],
            pool=pool,
            dead_letters=dead_letters,
            max_attempts=3,
            retry_backoff_seconds=0.01,
        )

        async def dead_lettered() -> bool:
            return consumer.dead_lettered == 1

        await _consume_until(consumer, dead_lettered)

    assert attempts == 3
    # Each failed attempt rolled back, including its dedupe row: nothing half-written stays.
    assert await pool.fetchval("SELECT count(*) FROM handled") == 0
    assert await pool.fetchval("SELECT count(*) FROM processed_events") == 0
    dead = await read_topic(settings.kafka_bootstrap, dlq, expect=1)
    assert dict(dead[0].headers)["slrt-error"] == b"RuntimeError: registry unreachable"


@pytest.mark.parametrize("keys_at_once", [1, 4])
async def test_order_per_key_holds_across_two_partitions(
    real_stack: RealStack,
    settings: ConnectionSettings,
    pool: asyncpg.Pool,
    topic_name: str,
    keys_at_once: int,
) -> None:
    await real_stack.create_topics(topic_name, dead_letter_topic(topic_name), partitions=2)
    subjects = [f"complaint-{i % 6}" for i in range(60)]
    await _produce(settings, topic_name, subjects)
    records = await read_topic(settings.kafka_bootstrap, topic_name, expect=60)
    assert {r.partition for r in records} == {0, 1}, "keys should spread over both partitions"

    async with EventProducer(settings, "/test") as dead_letters:
        consumer = EventConsumer(
            settings,
            group=new_group(),
            topics=[topic_name],
            handlers=[On(Ping, recording_handler())],
            pool=pool,
            dead_letters=dead_letters,
            keys_at_once=keys_at_once,
        )

        async def all_handled() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM handled") == 60)

        await _consume_until(consumer, all_handled)

    rows = await pool.fetch("SELECT subject, position FROM handled ORDER BY seq")
    per_key: dict[str, list[int]] = {}
    for row in rows:
        per_key.setdefault(row["subject"], []).append(row["position"])
    assert len(per_key) == 6
    for subject, positions in per_key.items():
        assert positions == sorted(positions), subject
        assert len(positions) == 10


async def test_records_of_different_keys_are_handled_at_the_same_time(
    real_stack: RealStack,
    settings: ConnectionSettings,
    pool: asyncpg.Pool,
    topic_name: str,
) -> None:
    """``keys_at_once``: the first key's handler waits for the second key's to start, which it
    could not if the records were handled one at a time; both offsets are committed."""
    await real_stack.create_topics(topic_name, dead_letter_topic(topic_name), partitions=1)
    await _produce(settings, topic_name, ["first-key", "second-key"])
    second_started = asyncio.Event()
    record = recording_handler()

    async def handler(event: Ping, envelope: Envelope, conn: Connection) -> None:
        if envelope.subject == "second-key":
            second_started.set()
        else:
            await asyncio.wait_for(second_started.wait(), 30)
        await record(event, envelope, conn)

    group = new_group()
    async with EventProducer(settings, "/test") as dead_letters:

        def consumer() -> EventConsumer:
            return EventConsumer(
                settings,
                group=group,
                topics=[topic_name],
                handlers=[On(Ping, handler)],
                pool=pool,
                dead_letters=dead_letters,
                keys_at_once=2,
            )

        async def both_handled() -> bool:
            return bool(await pool.fetchval("SELECT count(*) FROM handled") == 2)

        first = consumer()
        await _consume_until(first, both_handled)
    assert first.handled == 2
    assert first.dead_lettered == 0
    group_reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await group_reader.start()
    try:
        committed = await group_reader.committed(TopicPartition(topic_name, 0))
    finally:
        await group_reader.stop()
    assert committed == 2, "both records' offsets were committed"


async def test_producer_keys_by_aggregate_id_and_carries_trace_context(
    real_stack: RealStack,
    settings: ConnectionSettings,
    topic_name: str,
) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    await real_stack.create_topics(topic_name, partitions=1)
    tracer = TracerProvider().get_tracer("test")
    complaint_id = str(uuid.uuid4())
    with tracer.start_as_current_span("request") as span:
        await _produce(settings, topic_name, [complaint_id])
        trace_id = format(span.get_span_context().trace_id, "032x")
    assert trace.get_current_span() is trace.INVALID_SPAN
    [record] = await read_topic(settings.kafka_bootstrap, topic_name, expect=1)
    headers = dict(record.headers)
    assert record.key == complaint_id.encode()
    assert headers["traceparent"].decode().split("-")[1] == trace_id


async def test_an_outage_is_waited_out_never_dead_lettered(
    real_stack: RealStack,
    settings: ConnectionSettings,
    pool: asyncpg.Pool,
    topic_name: str,
) -> None:
    await real_stack.create_topics(topic_name, dead_letter_topic(topic_name), partitions=1)
    [sent] = await _produce(settings, topic_name, ["c-1"])
    group = new_group()
    outage = True
    calls = 0

    async def needs_registry(event: Ping, envelope: Envelope, conn: Connection) -> None:
        nonlocal calls
        calls += 1
        if outage:
            raise TransientError("registry unavailable")
        await recording_handler()(event, envelope, conn)

    async with EventProducer(settings, "/test") as dead_letters:
        # Down for longer than max_attempts: stopping mid-outage must leave the record unread.
        first = EventConsumer(
            settings,
            group=group,
            topics=[topic_name],
            handlers=[On(Ping, needs_registry)],
            pool=pool,
            dead_letters=dead_letters,
            max_attempts=2,
            retry_backoff_seconds=0.01,
        )

        async def retried_a_while() -> bool:
            return calls >= 5

        await _consume_until(first, retried_a_while)
        assert first.dead_lettered == 0
        assert await pool.fetchval("SELECT count(*) FROM handled") == 0

        outage = False
        second = EventConsumer(
            settings,
            group=group,
            topics=[topic_name],
            handlers=[On(Ping, needs_registry)],
            pool=pool,
            dead_letters=dead_letters,
        )

        async def handled() -> bool:
            return second.handled == 1

        await _consume_until(second, handled)

    assert [r["event_id"] for r in await pool.fetch("SELECT event_id FROM handled")] == [sent.id]
    assert second.dead_lettered == 0


async def test_old_dedupe_rows_are_purged_and_recent_ones_kept(
    settings: ConnectionSettings, pool: asyncpg.Pool
) -> None:
    await pool.execute(
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES "
        "('g', 'old', now() - interval '31 days'), ('g', 'recent', now() - interval '2 days'), "
        "('other', 'old', now() - interval '31 days')"
    )
    async with EventProducer(settings, "/test") as dead_letters:
        consumer = EventConsumer(
            settings,
            group="g",
            topics=["unused"],
            handlers=[On(Ping, recording_handler())],
            pool=pool,
            dead_letters=dead_letters,
            dedupe_retention_days=30,
        )
        assert await consumer.purge_processed() == 1
    left = await pool.fetch("SELECT consumer, event_id FROM processed_events ORDER BY 1, 2")
    assert [(r["consumer"], r["event_id"]) for r in left] == [("g", "recent"), ("other", "old")]
