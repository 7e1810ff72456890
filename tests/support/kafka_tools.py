"""Helpers for tests that watch what really reached a Kafka topic."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from slrt.contracts.envelope import Envelope, EventData
from slrt.contracts.topics import Topic
from slrt.db import Connection, create_pool
from slrt.db.migrations import PLATFORM_SQL_DIR as PLATFORM_SQL
from slrt.db.migrations import Migration, apply, discover
from slrt.kafka import Handler
from slrt.settings import ConnectionSettings
from tests.support.polling import until

END_TIMEOUT = 30.0
"""How long a read may take to reach a topic's end, however short its own timeout."""


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout: float = 30.0
) -> list[ConsumerRecord]:
    """Every record on ``topic`` from the start: at least up to its end as it was once the
    partitions were assigned, and then until ``expect`` arrived (or ``timeout``); then one
    second more, so that a duplicate shows up too.

    A topic the session shares holds other tests' records first, more than one fetch's worth
    (1 MB a partition) as the session goes on: a read that stopped at ``expect`` records, or
    after one fetch, could end before this test's records. Reaching the end is not cut short
    by a short ``timeout`` (up to :data:`END_TIMEOUT`)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    ends: dict[TopicPartition, int] = {}
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + timeout
        end_deadline = loop.time() + max(timeout, END_TIMEOUT)
        while True:
            for part in (await consumer.getmany(timeout_ms=300)).values():
                records.extend(part)
            now = loop.time()
            if await _at_ends(consumer, ends):
                if len(records) >= expect or now >= deadline:
                    break
            # No partition assigned (yet): the topic may not exist; give up at the timeout.
            elif now >= (end_deadline if consumer.assignment() else deadline):
                break
        # Anything beyond what was expected must show up too (a duplicate is a failure).
        for part in (await consumer.getmany(timeout_ms=1000)).values():
            records.extend(part)
    finally:
        await consumer.stop()
    return records


async def _at_ends(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    """Whether ``consumer`` has read each of its partitions up to ``ends``, the partitions'
    end offsets taken the first time they are assigned (and kept in ``ends``)."""
    partitions = consumer.assignment()
    if not partitions:
        return False
    if not ends:
        ends.update(await consumer.end_offsets(list(partitions)))
    return all([await consumer.position(p) >= ends[p] for p in partitions])


async def prepare_schema(dsn: str, schema: str, extra_sql: str = "") -> asyncpg.Pool:
    """Platform tables (outbox, dedupe) in ``schema`` plus ``extra_sql``; a pool bound to it."""
    migrations = discover(PLATFORM_SQL, "platform")
    if extra_sql:
        migrations.append(Migration("test", 1, "extra", extra_sql))
    conn = await asyncpg.connect(dsn)
    try:
        await apply(conn, schema, migrations)
    finally:
        await conn.close()
    settings = ConnectionSettings(postgres_dsn=dsn, postgres_pool_max=4)
    return await create_pool(settings, schema)


HANDLED_TABLE = """
CREATE TABLE handled (
    seq        bigserial PRIMARY KEY,
    event_id   text NOT NULL,
    subject    text NOT NULL,
    position   int  NOT NULL
)
"""


class Ping(EventData):
    """A test event; ``topic`` is overridden per test with ``send``."""

    event_type = "slrt.test.ping.v1"
    topic = Topic.COMPLAINT_LIFECYCLE
    position: int


def recording_handler() -> Handler[Any]:
    """A handler that records each event it sees in ``handled`` (in the consumer's transaction)."""

    async def handle(event: EventData, envelope: Envelope, conn: Connection) -> None:
        await conn.execute(
            "INSERT INTO handled (event_id, subject, position) VALUES ($1, $2, $3)",
            envelope.id,
            envelope.subject,
            int(envelope.data.get("position", 0)),
        )

    return handle


def new_group() -> str:
    return f"group-{uuid.uuid4().hex[:8]}"


async def read_topic_to_end(
    bootstrap: str, topic: str, timeout: float = 60.0
) -> list[ConsumerRecord]:
    """Every record on ``topic`` up to its end as it was once the partitions were assigned (a
    topic shared by the session's tests: callers filter by their own ids)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    ends: dict[TopicPartition, int] = {}
    try:

        async def caught_up() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return await _at_ends(consumer, ends)

        await until(caught_up, timeout=timeout)
        return records
    finally:
        await consumer.stop()
