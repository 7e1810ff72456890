"""The patched change without its ``workflow.patched`` guard, to prove the guard is needed
(workflow classes must live in their own module for the sandbox)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from slrt.contracts.complaints import ComplaintSnapshot
    from slrt.contracts.events import ComplaintSubmitted
    from workflows.complaint import ComplaintWorkflow


@workflow.defn(name="ComplaintWorkflow")
class UnguardedComplaintWorkflow(ComplaintWorkflow):
    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        return await super().run(submitted)

    def _acknowledges_household(self) -> bool:
        return True


@workflow.defn(name="ComplaintWorkflow")
class HouseholdMessagesUnguarded(ComplaintWorkflow):
    """Household messages without ``PATCH_HOUSEHOLD_MESSAGES``: every run sends them."""

    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        return await super().run(submitted)

    def _tells_household(self) -> bool:
        return True


@workflow.defn(name="ComplaintWorkflow")
class BatchedEffectsUnguarded(ComplaintWorkflow):
    """Effects batched without ``PATCH_BATCH_EFFECTS``: every run publishes them together."""

    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        return await super().run(submitted)

    def _batches_effects(self) -> bool:
        return True


@workflow.defn(name="ComplaintWorkflow")
class LocalReadsUnguarded(ComplaintWorkflow):
    """Local reads without ``PATCH_LOCAL_READS``: every run reads through local activities."""

    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        return await super().run(submitted)

    def _reads_locally(self) -> bool:
        return True


@workflow.defn(name="ComplaintWorkflow")
class LateEffectsUnguarded(ComplaintWorkflow):
    """Late effects batched without ``PATCH_BATCH_LATE_EFFECTS``: every run batches them."""

    @workflow.run
    async def run(self, submitted: ComplaintSubmitted) -> ComplaintSnapshot:
        return await super().run(submitted)

    def _batches_late_effects(self) -> bool:
        return True
