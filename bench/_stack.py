"""Shared set-up of the service benchmarks: the real stack of the test harness (PostgreSQL,
Kafka, Temporal: the ones named by ``SLRT_TEST_*`` if set, else started in a temporary
folder), a fresh database, the contract topics, and result files with the machine's
description."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from slrt.contracts.topics import ALL_TOPICS, dead_letter_topic
from slrt.settings import ConnectionSettings
from slrt_dev.sandbox.infra import PAYLOAD_KEYS, PAYLOAD_KEYS_ENV, TEST_NAMESPACE, RealStack

RESULTS = Path(__file__).parent / "results"


@contextmanager
def real_stack() -> Iterator[tuple[RealStack, ConnectionSettings]]:
    """The stack, a new database of the benchmark's own and the contract topics."""
    with tempfile.TemporaryDirectory(prefix="slrt-bench-") as work:
        stack = RealStack(Path(work))
        try:
            dsn = asyncio.run(_database(stack.postgres_dsn))
            asyncio.run(
                stack.create_topics(
                    *ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS), partitions=2
                )
            )
            yield (
                stack,
                ConnectionSettings(
                    postgres_dsn=dsn,
                    kafka_bootstrap=stack.kafka_bootstrap,
                    temporal_address=stack.temporal_address,
                    temporal_namespace=TEST_NAMESPACE,
                ),
            )
        finally:
            stack.close()


async def _database(server_dsn: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = server_dsn.rpartition("/")
    return f"{base}/{name}"


# Services a benchmark runs in its own process (routing_memory) find the Temporal payload keys
# here; those started as processes get them from service_env.
os.environ.setdefault(PAYLOAD_KEYS_ENV, PAYLOAD_KEYS)


def service_env(connections: ConnectionSettings, **extra: str) -> dict[str, str]:
    return {
        "SLRT_POSTGRES_DSN": connections.postgres_dsn.get_secret_value(),
        "SLRT_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        "SLRT_TEMPORAL_ADDRESS": connections.temporal_address,
        "SLRT_TEMPORAL_NAMESPACE": connections.temporal_namespace,
        "SLRT_TEMPORAL_TASK_QUEUE": f"complaints-{uuid.uuid4().hex[:8]}",
        "SLRT_LOG_LEVEL": "WARNING",
        "SLRT_SECRET_ANSWER_LINKS": "bench-answer-link-key-0123456789abcdef",
        PAYLOAD_KEYS_ENV: PAYLOAD_KEYS,
        "SLRT_SECRETS_DIR": "/nonexistent",
        **extra,
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average_1_5_15": list(os.getloadavg()),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **result,
    }
    out.write_text(json.dumps(document, indent=2) + "\n")
    return out
