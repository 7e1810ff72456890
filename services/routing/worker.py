"""The Temporal worker that runs complaint workflows and their activities."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.common import VersioningBehavior
from temporalio.worker import Worker, WorkerDeploymentConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from services.routing.activities import ComplaintActivities
from services.routing.settings import RoutingSettings
from services.routing.versions import deployment_version
from slrt.auth.directory import DirectoryCopy
from slrt.kafka import EventProducer
from workflows.complaint import ComplaintWorkflow

WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
)
"""The sandbox with the project's workflow package (``workflows``: the complaint workflow, its
stages and rules) passed through: imported once per process, not re-executed in a fresh sandbox
for every complaint the worker starts or rebuilds (that import was a tenth of routing's CPU on
the complaint path, ``docs/benchmarks.md``). The code in it is deterministic by review and by
the replay tests (``tests/workflows/test_replay.py`` replays every recorded history with this
runner too); the sandbox still guards everything else a workflow imports."""


def build_worker(
    client: Client,
    producer: EventProducer,
    pool: asyncpg.Pool,
    settings: RoutingSettings,
    workflows: Sequence[type] = (ComplaintWorkflow,),
    directory: DirectoryCopy | None = None,
) -> Worker:
    """The worker; a versioned one (worker deployment ``deployment_name``, version
    ``build_id``) when the settings name a build. ``workflows`` is for tests that roll a changed
    workflow out."""
    activities = ComplaintActivities(producer, pool, settings, directory)
    version = deployment_version(settings)
    return Worker(
        client,
        task_queue=settings.connections.temporal_task_queue,
        workflows=list(workflows),
        workflow_runner=WORKFLOW_RUNNER,
        activities=activities.all(),
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_cached_workflows=settings.worker_max_cached_workflows,
        # At SIGTERM the worker stops polling and lets running activities finish for this long
        # before cancelling them (the SDK's default is 0: cancelled at once, retried elsewhere).
        graceful_shutdown_timeout=timedelta(seconds=worker_drain_seconds(settings)),
        deployment_config=None
        if version is None
        else WorkerDeploymentConfig(
            version=version,
            use_worker_versioning=True,
            # Complaints live for weeks: they move to each new current version (replaying
            # through ``workflow.patched``) rather than pin to one whose pods are gone.
            default_versioning_behavior=VersioningBehavior.AUTO_UPGRADE,
        ),
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


async def run_worker(
    worker: Worker,
    stop: asyncio.Event,
    polling: Callable[[], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """Run until ``stop`` is set, then finish the tasks in hand and leave. ``polling`` runs
    once the worker polls (routing: make a new deployment version current)."""
    async with worker:
        started = asyncio.create_task(polling()) if polling is not None else None
        try:
            await stop.wait()
        finally:
            if started is not None and not started.done():
                started.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await started
