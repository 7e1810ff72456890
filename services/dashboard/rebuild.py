"""Rebuilding the read model from the topics (offset 0 up to their current end).

The whole rebuild is one transaction: the tables are emptied, every event is applied again
with the live consumer's dedupe records, then everything commits at once. Readers see the old
figures until then; the live consumer waits on the tables' locks and afterwards skips what the
rebuild already applied, so it may keep running. A replay that stops advancing raises (and
rolls back) instead of holding the tables' locks for ever.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.dashboard.consumers import HANDLERS, READ_MODEL_GROUP
from services.dashboard.settings import DashboardSettings
from services.dashboard.store import READ_MODEL_TABLES
from slrt.contracts.envelope import from_kafka
from slrt.db import Connection
from slrt.kafka import HandlerTable, client_options, consumer_group_id, from_start_consumer
from slrt.settings import ConnectionSettings

log = logging.getLogger(__name__)

STALL_SECONDS = 60.0


class RebuildStalled(RuntimeError):
    """The replay read nothing new for ``STALL_SECONDS`` while partitions were short of the end."""


async def rebuild(
    settings: DashboardSettings, pool: asyncpg.Pool, stall_seconds: float = STALL_SECONDS
) -> int:
    """Replay the lifecycle and catalog topics into emptied tables; returns events applied."""
    partitions = await _partitions(
        settings.connections, (settings.lifecycle_topic, settings.catalog_topic)
    )
    # The live consumer's dedupe records are kept under its whole group id (prefix and name).
    group_id = consumer_group_id(settings.connections, READ_MODEL_GROUP)
    consumer = from_start_consumer(settings.connections)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"TRUNCATE {', '.join(READ_MODEL_TABLES)}")
            await conn.execute("DELETE FROM processed_events WHERE consumer = $1", group_id)
            return await _replay(consumer, conn, ends, group_id, stall_seconds)
    finally:
        await consumer.stop()


async def _partitions(
    connections: ConnectionSettings, topics: tuple[str, ...]
) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**client_options(connections))
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    missing = [t["topic"] for t in described if t["error_code"] != 0 or not t["partitions"]]
    if missing:
        raise ValueError(f"cannot rebuild: topic not found: {', '.join(missing)}")
    return [
        TopicPartition(t["topic"], p["partition"])
        for t in described
        for p in sorted(t["partitions"], key=lambda p: p["partition"])
    ]


async def _replay(
    consumer: AIOKafkaConsumer,
    conn: Connection,
    ends: dict[TopicPartition, int],
    group: str,
    stall_seconds: float,
) -> int:
    table = HandlerTable(HANDLERS)
    applied = 0
    remaining = {tp for tp, end in ends.items() if end > 0}
    clock = asyncio.get_running_loop().time
    positions: dict[TopicPartition, int] = {}
    last_move = clock()
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=1000)
        for tp, records in batches.items():
            for record in records:
                if record.offset >= ends[tp]:
                    break
                envelope = from_kafka(record.key, record.headers, record.value)
                first = await conn.fetchval(
                    "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) "
                    "ON CONFLICT DO NOTHING RETURNING true",
                    group,
                    envelope.id,
                )
                if first:
                    await table.apply(envelope, conn)
                    applied += 1
        # Every remaining partition, not only those that returned records: a position can
        # reach the end with nothing to show (a compacted or control batch at the tail).
        now = {tp: await consumer.position(tp) for tp in remaining}
        remaining = {tp for tp, position in now.items() if position < ends[tp]}
        if now != positions:
            positions, last_move = now, clock()
        elif clock() - last_move > stall_seconds:
            behind = ", ".join(
                f"{tp.topic}[{tp.partition}] at {now[tp]} of {ends[tp]}" for tp in sorted(remaining)
            )
            raise RebuildStalled(f"rebuild read nothing for {stall_seconds:.0f} s: {behind}")
    log.info("read model rebuilt", extra={"events": applied})
    return applied
