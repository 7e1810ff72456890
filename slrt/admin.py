"""``slrt-admin``: one-off platform set-up that production runs as a Helm hook Job and the local
stack runs on ``make up`` — create the Kafka topics, register the Temporal namespace and search
attributes. Both are idempotent."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from datetime import timedelta

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, RegisterNamespaceRequest
from temporalio.service import RPCError, RPCStatusCode

from slrt import temporal
from slrt.contracts.temporal import SEARCH_ATTRIBUTES
from slrt.contracts.topics import ALL_TOPICS, Topic, dead_letter_topic
from slrt.kafka import client_options
from slrt.settings import ConnectionSettings

TOPIC_CONFIGS: dict[str, dict[str, str]] = {
    # The catalog topic keeps the latest entry per program for as long as the topic exists.
    Topic.PROGRAM_CATALOG.value: {"cleanup.policy": "compact"},
    Topic.PROGRAM_INFO.value: {"cleanup.policy": "compact"},
    Topic.STAFF_DIRECTORY.value: {"cleanup.policy": "compact"},
}


def contract_topics() -> list[str]:
    """Every contract topic and its dead-letter topic."""
    return [name for t in ALL_TOPICS for name in (t.value, dead_letter_topic(t.value))]


async def create_topics(
    settings: ConnectionSettings,
    *,
    partitions: int,
    replication: int = 1,
    topics: Iterable[str] | None = None,
    wait_seconds: float = 60.0,
) -> list[str]:
    """Create missing topics; returns those created. Waits for the broker up to ``wait_seconds``."""
    names = list(topics) if topics is not None else contract_topics()
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=30000)
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        try:
            await admin.start()
            break
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
    created: list[str] = []
    try:
        existing = set(await admin.list_topics())
        for name in (n for n in names if n not in existing):
            try:
                configs = TOPIC_CONFIGS.get(name, {})
                await admin.create_topics(
                    [NewTopic(name, partitions, replication, topic_configs=configs)]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()
    return created


_INDEXED_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


async def register_temporal(settings: ConnectionSettings, retention_days: int = 90) -> list[str]:
    """Register the namespace (if missing) and the search attributes; returns what was added."""
    client = await temporal.connect(settings, payloads=False)
    ns = settings.temporal_namespace
    added: list[str] = []
    try:
        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=ns))
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        retention = Duration()
        retention.FromTimedelta(timedelta(days=retention_days))
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(namespace=ns, workflow_execution_retention_period=retention)
        )
        added.append(f"namespace {ns}")
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=ns)
    )
    missing = {
        k: _INDEXED_TYPES[v]
        for k, v in SEARCH_ATTRIBUTES.items()
        if k not in listed.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=ns, search_attributes=missing)
        )
        added += [f"search attribute {k}" for k in missing]
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slrt-admin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    topics = sub.add_parser(
        "create-topics", help="create the contract topics and dead-letter topics"
    )
    topics.add_argument("--partitions", type=int, default=6)
    topics.add_argument("--replication", type=int, default=3)
    temporal = sub.add_parser(
        "register-temporal", help="register the namespace and search attributes"
    )
    temporal.add_argument("--retention-days", type=int, default=90)
    args = parser.parse_args(argv)
    settings = ConnectionSettings()
    try:
        if args.command == "create-topics":
            done = asyncio.run(
                create_topics(settings, partitions=args.partitions, replication=args.replication)
            )
        else:
            done = asyncio.run(register_temporal(settings, args.retention_days))
    except Exception as exc:
        print(f"slrt-admin {args.command} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.command}: {', '.join(done) if done else 'nothing to do'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
