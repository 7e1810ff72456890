"""Rebuilding the read model from the topics (offset 0 up to their current end).

The whole rebuild is one transaction: the tables are emptied, every event is applied again
with the live consumer's dedupe records, then everything commits at once. Readers see the old
figures until then; the live consumer waits on the tables' locks and afterwards skips what the
rebuild already applied, so it may keep running.
"""

from __future__ import annotations

import logging

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.dashboard.consumers import HANDLERS
from services.dashboard.settings import DashboardSettings
from services.dashboard.store import READ_MODEL_TABLES
from slrt.contracts.envelope import from_kafka
from slrt.db import Connection
from slrt.kafka import HandlerTable, client_options

log = logging.getLogger(__name__)


async def rebuild(settings: DashboardSettings, pool: asyncpg.Pool) -> int:
    """Replay the lifecycle and catalog topics into emptied tables; returns events applied."""
    topics = (settings.lifecycle_topic, settings.catalog_topic)
    # Subscribing at start makes the client fetch these topics' metadata; the replay itself
    # reads explicitly assigned partitions between fixed offsets.
    consumer = AIOKafkaConsumer(
        *topics, **client_options(settings.connections), group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.unsubscribe()
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"TRUNCATE {', '.join(READ_MODEL_TABLES)}")
            await conn.execute(
                "DELETE FROM processed_events WHERE consumer = $1", settings.consumer_group
            )
            return await _replay(consumer, conn, ends, settings.consumer_group)
    finally:
        await consumer.stop()


async def _replay(
    consumer: AIOKafkaConsumer,
    conn: Connection,
    ends: dict[TopicPartition, int],
    group: str,
) -> int:
    table = HandlerTable(HANDLERS)
    applied = 0
    remaining = {tp for tp, end in ends.items() if end > 0}
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
            if await consumer.position(tp) >= ends[tp]:
                remaining.discard(tp)
    log.info("read model rebuilt", extra={"events": applied})
    return applied
