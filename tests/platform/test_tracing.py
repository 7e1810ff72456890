"""Spans reach an OTLP receiver, and trace context crosses Kafka from a producer process to a
consumer process."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from slrt.contracts.topics import dead_letter_topic
from slrt.telemetry import cache_server_span_names
from slrt_dev.otlp_receiver import otlp_receiver
from tests.support.harness import RealStack


def _run(role: str, endpoint: str, env_extra: list[str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "tests.support.trace_hop", role, endpoint, *env_extra],
        check=True,
        timeout=120,
        capture_output=True,
    )


async def test_one_trace_spans_a_producer_and_a_consumer_process(
    real_stack: RealStack,
    kafka_bootstrap: str,
    fresh_db: str,
    topic_name: str,
) -> None:
    await real_stack.create_topics(topic_name, dead_letter_topic(topic_name), partitions=2)
    with otlp_receiver() as (endpoint, store):
        # Each process flushes its spans before it exits.
        await asyncio.to_thread(_run, "produce", endpoint, [kafka_bootstrap, topic_name])
        await asyncio.to_thread(_run, "consume", endpoint, [kafka_bootstrap, topic_name, fresh_db])
        spans = store.spans()

    by_name = {s.name: s for s in spans}
    request = by_name["intake request"]
    publish = by_name[f"{topic_name} publish"]
    process = by_name[f"{topic_name} process"]
    handler = by_name["handle in consumer"]
    assert request.service == publish.service == "slrt-trace-producer"
    assert process.service == handler.service == "slrt-trace-consumer"
    assert request.trace_id == publish.trace_id == process.trace_id == handler.trace_id
    assert publish.parent_span_id == request.span_id
    assert process.parent_span_id == publish.span_id
    assert handler.parent_span_id == process.span_id
    # The handler's statements: one span each (asyncpg wrapped once), named by the operation,
    # with the statement and the database's attributes, the cached one like the first.
    statements = [s for s in spans if s.parent_span_id == handler.span_id]
    added = [s for s in statements if s.attributes["db.statement"].endswith("+ 1")]
    assert [s.name for s in added] == ["SELECT", "SELECT"], statements
    assert added[0].attributes == added[1].attributes
    assert added[0].attributes["db.statement"] == "/* hop */ SELECT $1::int + 1"
    assert added[0].attributes["db.system"] == "postgresql"
    assert added[0].status_code == 0
    assert added[0].events == ()
    # A failing statement's span: error status with the exception's type and message, and the
    # exception recorded as an event (what ``start_as_current_span`` would add).
    (failed,) = [s for s in statements if s.attributes["db.statement"].endswith("/ $1::int")]
    assert failed.name == "SELECT"
    assert failed.status_code == 2
    assert failed.status_message == "DivisionByZeroError: division by zero"
    assert failed.events == ("exception",)


@pytest.mark.unit
def test_server_span_names_are_the_route_templates_from_the_cache() -> None:
    from fastapi import FastAPI
    from opentelemetry.instrumentation import fastapi as instrumentation

    cache_server_span_names()
    app = FastAPI()

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> str:
        return thing_id

    @app.post("/v1/things")
    async def new_thing() -> None:
        return None

    def details(method: str, path: str) -> tuple[str, dict[str, str]]:
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "app": app}
        found: tuple[str, dict[str, str]] = instrumentation._get_default_span_details(scope)
        return found

    one = ("GET /v1/things/{thing_id}", {"http.route": "/v1/things/{thing_id}"})
    assert details("GET", "/v1/things/a") == one
    assert details("GET", "/v1/things/a") == one  # from the cache
    assert details("GET", "/v1/things/b") == one
    assert details("POST", "/v1/things") == ("POST /v1/things", {"http.route": "/v1/things"})
    assert details("GET", "/nowhere") == ("GET", {})
    # A caller changing the attributes it was given does not change the cached ones.
    details("GET", "/v1/things/a")[1]["extra"] = "x"
    assert details("GET", "/v1/things/a") == one
