"""Release N+1 of the complaint workflow, as the upgrade test rolls it out: a new first step (a
short timer before the SLA policy is fetched). On every history recorded by release N the first
command is the SLA-policy activity, so the change is a non-determinism error there unless it is
guarded: ``NextReleaseWorkflow`` guards it with ``workflow.patched``, ``UnguardedNextRelease``
does not (to prove the guard is what keeps N's complaints running). Workflow classes live in
their own module for the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from slrt.contracts.complaints import ComplaintSnapshot
    from slrt.contracts.events import ComplaintSubmitted
    from slrt.contracts.temporal import COMPLAINT_WORKFLOW
    from workflows.complaint import ComplaintWorkflow

PATCH_NEXT_RELEASE: Final = "test-next-release-pause-at-start"
PAUSE: Final = timedelta(milliseconds=50)


@workflow.defn(name=COMPLAINT_WORKFLOW)
class NextReleaseWorkflow(ComplaintWorkflow):
    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        if workflow.patched(PATCH_NEXT_RELEASE):
            await workflow.sleep(PAUSE)
        return await super().run(submitted)


@workflow.defn(name=COMPLAINT_WORKFLOW)
class UnguardedNextRelease(ComplaintWorkflow):
    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        await workflow.sleep(PAUSE)
        return await super().run(submitted)
