"""One side of the cross-process tracing test: ``produce`` publishes an event inside a span;
``consume`` handles it with the platform consumer. Both export spans over OTLP/HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import sys

import asyncpg
from opentelemetry import trace

from slrt.contracts.envelope import Envelope, EventData
from slrt.contracts.topics import Topic
from slrt.db import Connection
from slrt.kafka import EventConsumer, EventProducer, On
from slrt.settings import ConnectionSettings
from slrt.telemetry import setup_tracing
from tests.support.kafka_tools import new_group, prepare_schema


class Hop(EventData):
    event_type = "slrt.test.hop.v1"
    topic = Topic.COMPLAINT_SUBMITTED
    note: str


async def produce(settings: ConnectionSettings, topic: str) -> None:
    tracer = trace.get_tracer("test")
    async with EventProducer(settings, "/test") as producer:
        with tracer.start_as_current_span("intake request"):
            envelope = Envelope.wrap(Hop(note="halo"), source="/test", subject="complaint-1")
            await (await producer.send(topic, envelope))


async def consume(settings: ConnectionSettings, topic: str, dsn: str) -> None:
    pool = await prepare_schema(dsn, "hop")
    done = asyncio.Event()
    tracer = trace.get_tracer("test")

    async def handle(event: Hop, envelope: Envelope, conn: Connection) -> None:
        with tracer.start_as_current_span("handle in consumer"):
            # Two statement spans of the same text (the second from the instrumentation's
            # cache of names and attributes: slrt.telemetry).
            for _ in range(2):
                await conn.fetchval("/* hop */ SELECT $1::int + 1", 1)
            # A failing statement (in a savepoint of its own): its span carries the error.
            with contextlib.suppress(asyncpg.DivisionByZeroError):
                async with conn.transaction():
                    await conn.fetchval("/* hop */ SELECT 1 / $1::int", 0)
            done.set()

    async with EventProducer(settings, "/test") as dead_letters:
        consumer = EventConsumer(
            settings,
            group=new_group(),
            topics=[topic],
            handlers=[On(Hop, handle)],
            pool=pool,
            dead_letters=dead_letters,
        )
        stop = asyncio.Event()
        task = asyncio.create_task(consumer.run(stop))
        await asyncio.wait_for(done.wait(), 60)
        stop.set()
        await task
    await pool.close()


def main(role: str, endpoint: str, bootstrap: str, topic: str, dsn: str = "") -> None:
    settings = ConnectionSettings(kafka_bootstrap=bootstrap, otlp_endpoint=endpoint)
    provider = setup_tracing("trace-producer" if role == "produce" else "trace-consumer", settings)
    if role == "produce":
        asyncio.run(produce(settings, topic))
    else:
        asyncio.run(consume(settings, topic, dsn))
    provider.force_flush()
    provider.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])
