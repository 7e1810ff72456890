"""A consumer process that dies after handling its first event but before committing the offset.

Run as ``python -m tests.support.crashing_consumer DSN BOOTSTRAP TOPIC GROUP SCHEMA``; it exits
with code 17 through ``os._exit`` (no clean-up, no commit), like a killed pod.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from slrt.contracts.envelope import Envelope
from slrt.kafka import EventConsumer, EventProducer, On
from slrt.settings import ConnectionSettings
from tests.support.kafka_tools import Ping, prepare_schema, recording_handler

CRASH_EXIT_CODE = 17


class DiesBeforeCommit(EventConsumer):
    async def _commit(self, *args: Any, **kwargs: Any) -> None:
        os._exit(CRASH_EXIT_CODE)


async def main(dsn: str, bootstrap: str, topic: str, group: str, schema: str) -> None:
    settings = ConnectionSettings(postgres_dsn=dsn, kafka_bootstrap=bootstrap)
    pool = await prepare_schema(dsn, schema)
    handler = recording_handler()

    async def handle(event: Ping, envelope: Envelope, conn: Any) -> None:
        await handler(event, envelope, conn)

    async with EventProducer(settings, source="/test") as dlq:
        consumer = DiesBeforeCommit(
            settings,
            group=group,
            topics=[topic],
            handlers=[On(Ping, handle)],
            pool=pool,
            dead_letters=dlq,
        )
        await consumer.run(asyncio.Event())


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
