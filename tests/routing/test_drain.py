"""SIGTERM during a rollout: routing's Temporal worker lets the activity in hand finish.

``python -m services.routing`` runs on the real dev server, Kafka and PostgreSQL. A complaint
reaches the repeat search (an activity that writes routing's complaint index); the test holds a
lock on that table so the activity is caught mid-flight, sends SIGTERM, and releases the lock
only once the worker has begun its shutdown. The activity then completes on its first attempt
(no cancellation, no retry from scratch on another worker) and the process exits cleanly.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import asyncpg
import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from services.routing.settings import RoutingSettings
from services.routing.worker import worker_drain_seconds
from slrt.contracts.events import RegistryCheckCompleted
from slrt.contracts.temporal import complaint_workflow_id
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.stack.config import REPO_ROOT
from slrt_dev.stack.process import free_port
from tests.support.complaints import Driven, submitted
from tests.support.harness import PAYLOAD_KEYS, PAYLOAD_KEYS_ENV, TEST_NAMESPACE
from tests.support.polling import poll
from tests.support.routing import described
from workflows.model import ACTIVITY_FIND_REPEATS

DRAIN_SECONDS = 40
T = TypeVar("T")


def probe(read: Callable[[], T]) -> Callable[[], Awaitable[T]]:
    """A synchronous look (a process, a file) as the awaitable ``poll`` calls."""

    async def look() -> T:
        return read()

    return look


@pytest.mark.unit
def test_worker_drain_time_follows_the_service_grace_period() -> None:
    def settings(**values: float) -> RoutingSettings:
        return RoutingSettings.model_validate(values)

    # The chart's default for routing (gracefulShutdownSeconds: 60).
    assert worker_drain_seconds(settings(graceful_shutdown_seconds=60)) == 50
    assert worker_drain_seconds(settings(graceful_shutdown_seconds=8)) == 6
    assert worker_drain_seconds(settings(graceful_shutdown_seconds=20)) == 15
    explicit = settings(graceful_shutdown_seconds=60, worker_graceful_shutdown_seconds=30)
    assert worker_drain_seconds(explicit) == 30
    capped = settings(graceful_shutdown_seconds=20, worker_graceful_shutdown_seconds=90)
    assert worker_drain_seconds(capped) == 20


@pytest.fixture
def routing_process(
    connections: ConnectionSettings, tmp_path: Path, contract_topics: None
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path, str]]:
    """routing as its own process (the test signals it), on a task queue of its own."""
    queue = f"complaints-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        "SLRT_POSTGRES_DSN": connections.postgres_dsn.get_secret_value(),
        "SLRT_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        "SLRT_TEMPORAL_ADDRESS": connections.temporal_address,
        "SLRT_TEMPORAL_NAMESPACE": TEST_NAMESPACE,
        "SLRT_TEMPORAL_TASK_QUEUE": queue,
        "SLRT_LOG_JSON": "true",
        "SLRT_ROUTING_PORT": str(port),
        "SLRT_ROUTING_GRACEFUL_SHUTDOWN_SECONDS": str(DRAIN_SECONDS),
        PAYLOAD_KEYS_ENV: PAYLOAD_KEYS,
        "PATH": "/usr/bin:/bin",
    }
    log_file = tmp_path / "routing.log"
    with log_file.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.routing"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    try:
        yield proc, queue, log_file, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def routing_started(proc: subprocess.Popen[bytes], url: str, log_file: Path) -> None:
    async def up() -> bool:
        if proc.poll() is not None:
            return True
        try:
            async with httpx.AsyncClient(timeout=1) as client:
                return (await client.get(f"{url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    await poll(
        up,
        timeout=90,
        interval=0.2,
        explain=lambda _: f"routing did not start: {log_file.read_text()[-3000:]}",
    )
    assert proc.poll() is None, "routing exited at start (see its log)"


async def test_sigterm_lets_the_running_activity_finish(
    routing_process: tuple[subprocess.Popen[bytes], str, Path, str],
    temporal_client: Client,
    producer: EventProducer,
    kafka_bootstrap: str,
    connections: ConnectionSettings,
) -> None:
    proc, queue, log_file, url = routing_process
    await routing_started(proc, url, log_file)
    dsn = connections.postgres_dsn.get_secret_value()
    complaint = submitted()
    c = Driven(temporal_client, queue, kafka_bootstrap, complaint)
    workflow_id = complaint_workflow_id(c.subject)
    await producer.publish(complaint, subject=c.subject)
    await described(temporal_client, workflow_id)
    request = await c.registry_request()

    blocker = await asyncpg.connect(dsn)
    watcher = await asyncpg.connect(dsn)
    try:
        # The repeat search inserts into the complaint index: hold it until routing is stopping.
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("LOCK TABLE routing.complaint_index IN EXCLUSIVE MODE")
        await producer.publish(
            RegistryCheckCompleted(
                request_id=request.request_id,
                complaint_id=complaint.complaint_id,
                found=True,
                household_id=uuid.uuid4(),
                welfare_decile=2,
                programs=["PKH"],
            ),
            subject=c.subject,
        )
        # The activity is running: its INSERT waits for the lock.
        await poll(
            lambda: watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE '%INSERT INTO complaint_index%'"
            ),
            lambda waiting: waiting == 1,
            timeout=60,
            interval=0.2,
            explain=lambda n: f"{n} repeat searches waiting on the lock",
        )

        proc.send_signal(signal.SIGTERM)
        await poll(
            probe(lambda: "Beginning worker shutdown" in log_file.read_text()),
            timeout=30,
            interval=0.2,
            explain=lambda _: f"no worker shutdown began: {log_file.read_text()[-2000:]}",
        )
        assert proc.poll() is None, "routing exited before its activity finished"
        description = await temporal_client.get_workflow_handle(workflow_id).describe()
        (pending,) = description.raw_description.pending_activities
        assert pending.activity_type.name == ACTIVITY_FIND_REPEATS
        assert pending.attempt == 1
        await lock.rollback()  # the activity goes on
    finally:
        await blocker.close()
        await watcher.close()

    exit_code = await poll(
        probe(proc.poll),
        lambda code: code is not None,
        timeout=DRAIN_SECONDS + 20,
        interval=0.2,
        explain=lambda _: "routing did not exit after its drain",
    )
    # uvicorn re-raises the SIGTERM it caught once the shutdown completed.
    assert exit_code in (0, -signal.SIGTERM), log_file.read_text()[-3000:]
    assert "Application shutdown complete" in log_file.read_text()

    history = await temporal_client.get_workflow_handle(workflow_id).fetch_history()
    scheduled = {
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == ACTIVITY_FIND_REPEATS
    }
    (started,) = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]
    assert started.activity_task_started_event_attributes.attempt == 1
    outcomes = [
        e.event_type
        for e in history.events
        if e.event_type
        in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
        )
        and (
            e.activity_task_completed_event_attributes.scheduled_event_id in scheduled
            or e.activity_task_failed_event_attributes.scheduled_event_id in scheduled
            or e.activity_task_timed_out_event_attributes.scheduled_event_id in scheduled
            or e.activity_task_canceled_event_attributes.scheduled_event_id in scheduled
        )
    ]
    assert outcomes == [EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED]
    # The index row the activity wrote is there: it ran to its end, once.
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetchval(
            "SELECT count(*) FROM routing.complaint_index WHERE complaint_id = $1",
            complaint.complaint_id,
        )
    finally:
        await conn.close()
    assert rows == 1
