"""Workflows used only to prove the Temporal harness (workflow classes need their own module)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def greet(name: str) -> str:
    return f"Halo, {name}"


@workflow.defn
class GreetingWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            greet, name, start_to_close_timeout=timedelta(seconds=10)
        )


@workflow.defn
class FortnightTimerWorkflow:
    """Sleeps 14 days, then reports how long the workflow's own clock says it slept."""

    @workflow.run
    async def run(self) -> float:
        started = workflow.now()
        await workflow.sleep(timedelta(days=14))
        return (workflow.now() - started).total_seconds()
