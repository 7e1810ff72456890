"""The transactional outbox and its relay against real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest

from slrt import outbox
from slrt.contracts.envelope import Envelope, EventData, from_kafka
from slrt.contracts.topics import Topic
from slrt.db import Connection
from slrt.kafka import EventConsumer, EventProducer, On
from slrt.outbox import OutboxRelay
from slrt.settings import ConnectionSettings
from tests.support.harness import RealStack
from tests.support.kafka_tools import (
    HANDLED_TABLE,
    new_group,
    prepare_schema,
    read_topic_to_end,
    recording_handler,
)
from tests.support.polling import poll


class Noted(EventData):
    event_type = "slrt.test.noted.v1"
    topic = Topic.COMPLAINT_SUBMITTED
    position: int


class Crash(Exception):
    pass


class RelayKilledBeforeMark(OutboxRelay):
    """Publishes its batch, then dies before marking it (as a killed pod would)."""

    async def _mark_published(self, conn: Connection, ids: list[int]) -> None:
        raise Crash


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await prepare_schema(fresh_db, "svc", HANDLED_TABLE)
    yield pool
    await pool.close()


async def _write(pool: asyncpg.Pool, positions: range, *, commit: bool = True) -> None:
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        for position in positions:
            await outbox.write(
                conn, Noted(position=position), source="/test", subject=f"c-{position % 3}"
            )
        await (tx.commit() if commit else tx.rollback())


async def test_every_committed_row_reaches_the_consumer_once_even_if_the_relay_dies(
    real_stack: RealStack,
    pool: asyncpg.Pool,
    fresh_db: str,
    kafka_bootstrap: str,
) -> None:
    topic = Topic.COMPLAINT_SUBMITTED.value
    await real_stack.create_topics(topic, f"{topic}.dlq", partitions=2)
    settings = ConnectionSettings(postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap)
    await _write(pool, range(5))
    await _write(pool, range(100, 104), commit=False)  # rolled back: must never appear
    await _write(pool, range(5, 8))
    ours = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox")}
    assert len(ours) == 8

    async with EventProducer(settings, "/slrt/test") as producer:
        with pytest.raises(Crash):
            await RelayKilledBeforeMark(pool, producer, schema="svc").relay_once()
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 8
        relay = OutboxRelay(pool, producer, schema="svc")
        assert await relay.relay_once() == 8
        assert await relay.relay_once() == 0

    # The topic is the session's: other tests' complaints are on it too. Look at this test's
    # rows (by their event ids) and at every record of the rolled-back positions.
    records = await read_topic_to_end(kafka_bootstrap, topic)
    envelopes = [from_kafka(r.key, r.headers, r.value) for r in records]
    on_topic = Counter(e.id for e in envelopes if e.id in ours)
    # Each row twice: once before the "crash", once after.
    assert on_topic == dict.fromkeys(ours, 2)
    assert not [
        e
        for e in envelopes
        if e.type == Noted.event_type and 100 <= int(e.data.get("position", 0)) < 104
    ]

    async with EventProducer(settings, "/test") as dead_letters:
        consumer = EventConsumer(
            settings,
            group=new_group(),
            topics=[topic],
            handlers=[On(Noted, recording_handler())],
            pool=pool,
            dead_letters=dead_letters,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        for _ in range(300):
            seen = consumer.handled + consumer.duplicates_skipped + consumer.ignored
            if seen + consumer.dead_lettered >= len(records):
                break
            await asyncio.sleep(0.1)
        stop.set()
        await task

    handled = await pool.fetch(
        "SELECT position FROM handled WHERE event_id = ANY($1::text[]) ORDER BY position",
        list(ours),
    )
    assert [r["position"] for r in handled] == list(range(8))  # each once
    assert not await pool.fetchval(
        "SELECT count(*) FROM handled WHERE position >= 100 AND position < 104"
    )
    assert consumer.duplicates_skipped >= 8


async def test_write_refuses_to_run_outside_a_transaction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="inside the transaction"):
            await outbox.write(conn, Noted(position=1), source="/test", subject="c-1")


async def test_published_rows_keep_their_envelope(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, conn.transaction():
        envelope = await outbox.write(conn, Noted(position=7), source="/test", subject="c-7")
    row = await pool.fetchrow("SELECT topic, envelope FROM outbox WHERE event_id = $1", envelope.id)
    assert row is not None
    assert row["topic"] == Topic.COMPLAINT_SUBMITTED.value
    assert Envelope.model_validate(row["envelope"]) == envelope


async def test_rows_published_a_week_ago_are_purged_unpublished_never(
    pool: asyncpg.Pool,
    fresh_db: str,
    kafka_bootstrap: str,
) -> None:
    await _write(pool, range(3))
    await pool.execute(
        "UPDATE outbox SET published_at = now() - interval '8 days' "
        "WHERE id = (SELECT min(id) FROM outbox)"
    )
    await pool.execute(
        "UPDATE outbox SET published_at = now() - interval '1 day' "
        "WHERE id = (SELECT max(id) FROM outbox)"
    )
    settings = ConnectionSettings(postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap)
    async with EventProducer(settings, "/slrt/test") as producer:
        relay = OutboxRelay(pool, producer, schema="svc")
        assert await relay.purge_published(older_than_days=7) == 1
    left = await pool.fetch("SELECT published_at IS NULL AS pending FROM outbox ORDER BY id")
    assert [r["pending"] for r in left] == [True, False]


async def _published(pool: asyncpg.Pool, event_id: str) -> bool:
    return bool(
        await pool.fetchval(
            "SELECT published_at IS NOT NULL FROM outbox WHERE event_id = $1", event_id
        )
    )


async def _write_one(pool: asyncpg.Pool, position: int) -> Envelope:
    async with pool.acquire() as conn, conn.transaction():
        return await outbox.write(
            conn, Noted(position=position), source="/test", subject=f"c-{position}"
        )


async def test_a_commit_wakes_the_relay_without_a_poll(
    real_stack: RealStack, pool: asyncpg.Pool, fresh_db: str, kafka_bootstrap: str
) -> None:
    """Polls an hour apart: only the commit's NOTIFY can have the row relayed within the test."""
    topic = Topic.COMPLAINT_SUBMITTED.value
    await real_stack.create_topics(topic, f"{topic}.dlq", partitions=2)
    settings = ConnectionSettings(postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap)
    async with EventProducer(settings, "/slrt/test") as producer:
        relay = OutboxRelay(pool, producer, schema="svc", poll_seconds=3600, safety_seconds=3600)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await poll(lambda: _listening(relay), timeout=30)
            first = await _write_one(pool, 1)
            await poll(lambda: _published(pool, first.id), timeout=30)
            second = await _write_one(pool, 2)  # the relay waits again: woken again
            await poll(lambda: _published(pool, second.id), timeout=30)
        finally:
            stop.set()
            await task
    on_topic = await read_topic_to_end(kafka_bootstrap, topic)  # the session's topic
    ids = {from_kafka(r.key, r.headers, r.value).id for r in on_topic}
    assert {first.id, second.id} <= ids


async def test_a_row_committed_without_a_notification_is_still_relayed(
    real_stack: RealStack, pool: asyncpg.Pool, fresh_db: str, kafka_bootstrap: str
) -> None:
    """A row whose NOTIFY never reached the relay (here: committed with the trigger off in its
    transaction, as if nobody was listening) is relayed by the safety poll."""
    topic = Topic.COMPLAINT_SUBMITTED.value
    await real_stack.create_topics(topic, f"{topic}.dlq", partitions=2)
    settings = ConnectionSettings(postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap)
    async with EventProducer(settings, "/slrt/test") as producer:
        relay = OutboxRelay(pool, producer, schema="svc", poll_seconds=3600, safety_seconds=1.0)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await poll(lambda: _listening(relay), timeout=30)
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("ALTER TABLE outbox DISABLE TRIGGER outbox_notify")
                unheard = await outbox.write(conn, Noted(position=3), source="/test", subject="c-3")
                await conn.execute("ALTER TABLE outbox ENABLE TRIGGER outbox_notify")
            await poll(lambda: _published(pool, unheard.id), timeout=30)
        finally:
            stop.set()
            await task


async def test_the_relay_listens_again_after_losing_its_connection(
    real_stack: RealStack, pool: asyncpg.Pool, fresh_db: str, kafka_bootstrap: str
) -> None:
    """The listening backend is terminated: the relay listens on a new connection, and the next
    commit wakes it (polls an hour apart)."""
    topic = Topic.COMPLAINT_SUBMITTED.value
    await real_stack.create_topics(topic, f"{topic}.dlq", partitions=2)
    settings = ConnectionSettings(postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap)
    async with EventProducer(settings, "/slrt/test") as producer:
        relay = OutboxRelay(pool, producer, schema="svc", poll_seconds=3600, safety_seconds=3600)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await poll(lambda: _listening(relay), timeout=30)
            listener_pid = relay.listener_pid()
            assert listener_pid is not None
            async with pool.acquire() as conn:
                assert await conn.fetchval("SELECT pg_terminate_backend($1)", listener_pid)
            await poll(lambda: _listening(relay, other_than=listener_pid), timeout=30)
            heard = await _write_one(pool, 4)
            await poll(lambda: _published(pool, heard.id), timeout=30)
        finally:
            stop.set()
            await task


async def _listening(relay: OutboxRelay, other_than: int | None = None) -> bool:
    pid = relay.listener_pid()
    return relay.listening and pid is not None and pid != other_than


async def test_a_relay_that_finds_the_lock_held_reads_and_locks_no_row(
    real_stack: RealStack, pool: asyncpg.Pool, fresh_db: str, kafka_bootstrap: str
) -> None:
    """The advisory lock and the rows are taken in one statement: while another relay holds
    the schema's lock, a pass publishes nothing and leaves every row free."""
    topic = Topic.COMPLAINT_SUBMITTED.value
    await real_stack.create_topics(topic, f"{topic}.dlq", partitions=2)
    await _write(pool, range(3))
    settings = ConnectionSettings(postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap)
    async with EventProducer(settings, "/slrt/test") as producer:
        relay = OutboxRelay(pool, producer, schema="svc")
        async with pool.acquire() as holder, holder.transaction():
            assert await holder.fetchval("SELECT pg_try_advisory_xact_lock($1)", relay._lock_key)
            assert await relay.relay_once() == 0
            free = await holder.fetch(
                "SELECT id FROM outbox WHERE published_at IS NULL FOR UPDATE NOWAIT"
            )
            assert len(free) == 3
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 3
        assert await relay.relay_once() == 3


class CountingRelay(OutboxRelay):
    """Records how many rows each pass published."""

    passes: list[int]

    async def relay_once(self) -> int:
        published = await super().relay_once()
        if published:
            self.passes.append(published)
        return published


async def test_commits_that_arrive_while_the_relay_is_busy_go_out_in_one_pass(
    real_stack: RealStack, pool: asyncpg.Pool, fresh_db: str, kafka_bootstrap: str
) -> None:
    """A lone commit is relayed at once; the commits that follow it within ``coalesce_seconds``
    of that pass go out together in the next one, each row once."""
    topic = Topic.COMPLAINT_SUBMITTED.value
    await real_stack.create_topics(topic, f"{topic}.dlq", partitions=2)
    settings = ConnectionSettings(postgres_dsn=fresh_db, kafka_bootstrap=kafka_bootstrap)
    async with EventProducer(settings, "/slrt/test") as producer:
        relay = CountingRelay(
            pool,
            producer,
            schema="svc",
            poll_seconds=3600,
            safety_seconds=3600,
            coalesce_seconds=5.0,
        )
        relay.passes = []
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:
            await poll(lambda: _listening(relay), timeout=30)
            first = await _write_one(pool, 1)
            await poll(lambda: _published(pool, first.id), timeout=30)
            # The relay now waits out its coalescing time: twelve commits, one pass.
            rest = [await _write_one(pool, position) for position in range(2, 14)]
            await poll(lambda: _published(pool, rest[-1].id), timeout=30)
        finally:
            stop.set()
            await task
    assert relay.passes == [1, 12]
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
