"""Workflows on the real Temporal dev server and on the time-skipping test server."""

from __future__ import annotations

import uuid

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.support.workflows import FortnightTimerWorkflow, GreetingWorkflow, greet


async def test_a_workflow_runs_on_the_dev_server(temporal_client: Client) -> None:
    queue = f"test-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_client, task_queue=queue, workflows=[GreetingWorkflow], activities=[greet]
    ):
        result = await temporal_client.execute_workflow(
            GreetingWorkflow.run, "Siti", id=f"greet-{uuid.uuid4()}", task_queue=queue
        )
    assert result == "Halo, Siti"


async def test_the_time_skipping_server_skips_a_fourteen_day_timer(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    queue = f"test-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_skipping_env.client, task_queue=queue, workflows=[FortnightTimerWorkflow]
    ):
        slept = await time_skipping_env.client.execute_workflow(
            FortnightTimerWorkflow.run, id=f"timer-{uuid.uuid4()}", task_queue=queue
        )
    # The workflow's clock moved a fortnight while the test ran: the server skipped the timer.
    assert slept >= 14 * 24 * 3600
