"""The baseline of the routing benchmark: a workflow that does nothing but what the complaint
path costs Temporal and Kafka — the same number of activities, the same Kafka hops (a start
from a topic, two request/answer round trips through an echo consumer, a final event), and two
updates in place of the two human decisions. Workflow code lives here, outside the benchmark
script, for Temporal's sandbox."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

TIMEOUT = timedelta(seconds=60)


@activity.defn(name="bench_noop")
async def noop(index: int) -> int:
    return index


@activity.defn(name="bench_publish")
async def publish(message: list[str]) -> None:
    """Replaced at run time by the benchmark's publishing activity (same name)."""


@workflow.defn(name="BenchEmptyComplaint")
class EmptyComplaint:
    def __init__(self) -> None:
        self._answers = 0
        self._decisions = 0

    @workflow.run
    async def run(self, complaint_id: str, activities: int) -> None:
        # activities = publishes (3) + no-ops; the same count as one complaint's history.
        noops = max(0, activities - 3)
        done = 0
        await workflow.execute_activity(
            "bench_publish", ["request", complaint_id], start_to_close_timeout=TIMEOUT
        )
        await workflow.wait_condition(lambda: self._answers >= 1)
        for i in range(noops // 2):
            await workflow.execute_activity(noop, i, start_to_close_timeout=TIMEOUT)
            done += 1
        await workflow.wait_condition(lambda: self._decisions >= 2)
        await workflow.execute_activity(
            "bench_publish", ["request", complaint_id], start_to_close_timeout=TIMEOUT
        )
        await workflow.wait_condition(lambda: self._answers >= 2)
        for i in range(done, noops):
            await workflow.execute_activity(noop, i, start_to_close_timeout=TIMEOUT)
        await workflow.execute_activity(
            "bench_publish", ["done", complaint_id], start_to_close_timeout=TIMEOUT
        )

    @workflow.signal
    def answer(self) -> None:
        self._answers += 1

    @workflow.update
    def decide(self) -> int:
        self._decisions += 1
        return self._decisions
