"""The Temporal worker that runs complaint workflows and their activities."""

from __future__ import annotations

import asyncio

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
    )


async def run_worker(worker: Worker, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set, then finish the tasks in hand and leave."""
    async with worker:
        await stop.wait()
