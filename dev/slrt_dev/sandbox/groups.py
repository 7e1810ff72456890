"""Consumer groups of a stack of its own, on a Kafka that other stacks share (the test session's,
a benchmark's): the services' groups under a new prefix (``SLRT_KAFKA_CONSUMER_GROUP_PREFIX``),
each starting at the topics' ends as they are when the stack starts.

In groups of their own the stack's consumers do not take over where another stack's consumers
stopped: events other tests left unhandled on the shared topics (complaints submitted without
routing running, requests without a registry) would otherwise be handled by whichever stack
starts next, and its outcomes would depend on the order tests run in. Starting at the ends, they
do not read the whole session's history either (a new group's own reset is the beginning); what
is published once they start is theirs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.dashboard import consumers as dashboard
from services.intake import consumers as intake
from services.notifier import consumers as notifier
from services.registry import consumers as registry
from services.routing import consumers as routing
from slrt.contracts.topics import ALL_TOPICS
from slrt.kafka import client_options, consumer_group_id
from slrt.settings import ConnectionSettings

PREFIX_ENV = "SLRT_KAFKA_CONSUMER_GROUP_PREFIX"

SERVICE_GROUPS: dict[str, tuple[str, ...]] = {
    "intake": (intake.STATUS_GROUP, intake.CATALOG_GROUP, intake.STAFF_GROUP),
    "registry": (registry.REQUESTS_GROUP,),
    "routing": (routing.COMPLAINTS_GROUP, routing.RESULTS_GROUP, routing.CATALOG_GROUP),
    "notifier": (
        notifier.REQUESTS_GROUP,
        notifier.CATALOG_GROUP,
        notifier.LIFECYCLE_GROUP,
        notifier.STAFF_GROUP,
    ),
    "dashboard": (dashboard.READ_MODEL_GROUP,),
}
"""Every service's consumer groups (the names in its ``consumers`` module)."""

ALL_GROUPS = tuple(group for groups in SERVICE_GROUPS.values() for group in groups)


def new_prefix() -> str:
    """A consumer-group prefix no other stack uses."""
    return f"t{uuid.uuid4().hex[:10]}."


def with_new_prefix(connections: ConnectionSettings) -> ConnectionSettings:
    """``connections`` with a new consumer-group prefix: groups of their own, which read their
    topics from the beginning (a new group's reset) unless moved (:func:`start_at_end`)."""
    return connections.model_copy(update={"kafka_consumer_group_prefix": new_prefix()})


async def start_at_end(
    connections: ConnectionSettings,
    groups: Iterable[str] = ALL_GROUPS,
    topics: Iterable[str] = ALL_TOPICS,
) -> None:
    """Commit, for each of ``groups`` (under ``connections``' prefix), the current end of every
    partition of those of ``topics`` that exist. The groups must have no members yet."""
    admin = AIOKafkaAdminClient(**client_options(connections))
    await admin.start()
    try:
        described = await admin.describe_topics([str(t) for t in topics])
    finally:
        await admin.close()
    partitions = [
        TopicPartition(t["topic"], p["partition"])
        for t in described
        if t["error_code"] == 0
        for p in t["partitions"]
    ]
    if not partitions:
        return
    ends: dict[TopicPartition, int] | None = None
    for group in groups:
        consumer = AIOKafkaConsumer(
            **client_options(connections),
            group_id=consumer_group_id(connections, group),
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            if ends is None:  # one reading for every group: what is published after is theirs
                ends = await consumer.end_offsets(partitions)
            await consumer.commit(dict(ends))
        finally:
            await consumer.stop()


def own_groups(
    connections: ConnectionSettings, groups: Iterable[str] = ALL_GROUPS
) -> ConnectionSettings:
    """``connections`` with a new prefix whose ``groups`` start at the topics' current ends
    (:func:`start_at_end`). Synchronous, for callers inside or outside an event loop."""
    own = with_new_prefix(connections)
    with ThreadPoolExecutor(1) as pool:  # an event loop of its own, whoever calls
        pool.submit(asyncio.run, start_at_end(own, list(groups))).result()
    return own
