"""The Temporal worker that runs complaint workflows and their activities."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from services.routing.activities import ComplaintActivities
from services.routing.settings import RoutingSettings
from slrt.kafka import EventProducer
from workflows.complaint import ComplaintWorkflow


def build_worker(
    client: Client, producer: EventProducer, pool: asyncpg.Pool, settings: RoutingSettings
) -> Worker:
    activities = ComplaintActivities(producer, pool, settings)
    return Worker(
        client,
        task_queue=settings.connections.temporal_task_queue,
        workflows=[ComplaintWorkflow],
        activities=activities.all(),
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
        # At SIGTERM the worker stops polling and lets running activities finish for this long
        # before cancelling them (the SDK's default is 0: cancelled at once, retried elsewhere).
        graceful_shutdown_timeout=timedelta(seconds=worker_drain_seconds(settings)),
    )


def worker_drain_seconds(settings: RoutingSettings) -> float:
    """How long running activities may finish after SIGTERM: the service's drain time
    (``SLRT_ROUTING_GRACEFUL_SHUTDOWN_SECONDS``, the chart's ``gracefulShutdownSeconds``) less
    a margin in which the worker reports the results and closes before the service stops
    waiting for it; ``worker_graceful_shutdown_seconds`` when set."""
    if settings.worker_graceful_shutdown_seconds is not None:
        return min(settings.worker_graceful_shutdown_seconds, settings.graceful_shutdown_seconds)
    total = settings.graceful_shutdown_seconds
    return max(total - min(10.0, total / 4), 0.0)


async def run_worker(worker: Worker, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set, then finish the tasks in hand and leave."""
    async with worker:
        await stop.wait()
