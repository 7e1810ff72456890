"""Running complaints survive deploys: histories recorded before the household-acknowledgment
change (``PATCH_ACKNOWLEDGE_HOUSEHOLD``) and before household messages by contact reference
(``PATCH_HOUSEHOLD_MESSAGES``) must replay on the current code, and so must the histories of
every demo path recorded before the workflow became a package (a pure move must change
nothing). ``record_histories.py`` records them.

Every replayer uses the data converter the services use (``slrt.temporal.data_converter``, with
the payload codec): the histories recorded before payload encryption hold plain payloads, which
the codec passes through, so they replay as before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from services.routing.worker import WORKFLOW_RUNNER
from tests.support.harness import sandbox_converter
from tests.workflows.unguarded import (
    BatchedEffectsUnguarded,
    HouseholdMessagesUnguarded,
    LateEffectsUnguarded,
    LocalReadsUnguarded,
    UnguardedComplaintWorkflow,
)
from workflows.complaint import ComplaintWorkflow
from workflows.model import ACTIVITY_ROUTING_OPTIONS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
BEFORE_THE_PATCH = [
    "facilitator_capture_withdrawn",
    "information_answered",
    "walk_in_referral_accepted",
]
"""Recorded before ``PATCH_ACKNOWLEDGE_HOUSEHOLD``; the others were recorded after it."""
SINCE_HOUSEHOLD_MESSAGES = [
    "household_messages_reopened",
    "household_messages_window_over",
    "perf_batched_effects_referral_accepted",
    "perf_local_reads_referral_accepted",
    "perf_path_late_effects_referral_accepted",
    "perf_path_policy_at_start_referral_accepted",
    "pii_encrypted_referral_rejected",
    "proginfo_information_answered_from_an_entry",
    "proginfo_may_qualify_then_resolved_locally",
    "regres_awaiting_registration_result_overdue",
    "regres_correction_closed_run_held_for_the_result",
    "regres_prelist_awaiting_registration_accepted",
]
"""Recorded after ``PATCH_HOUSEHOLD_MESSAGES``; every other history was recorded before it."""
SINCE_BATCHED_EFFECTS = [
    "perf_batched_effects_referral_accepted",
    "perf_local_reads_referral_accepted",
    "perf_path_late_effects_referral_accepted",
    "perf_path_policy_at_start_referral_accepted",
    "proginfo_information_answered_from_an_entry",
    "proginfo_may_qualify_then_resolved_locally",
]
"""Recorded after ``PATCH_BATCH_EFFECTS``; every other history was recorded before it."""
SINCE_LOCAL_READS = [
    "perf_local_reads_referral_accepted",
    "perf_path_late_effects_referral_accepted",
    "perf_path_policy_at_start_referral_accepted",
    "proginfo_information_answered_from_an_entry",
    "proginfo_may_qualify_then_resolved_locally",
]
"""Recorded after ``PATCH_LOCAL_READS``; every other history was recorded before it."""


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"complaint-{path.stem}", path.read_text())


async def _before_the_patch() -> AsyncIterator[WorkflowHistory]:
    for path in HISTORIES:
        if path.stem in BEFORE_THE_PATCH:
            yield load(path)


def test_the_recorded_histories_are_there() -> None:
    assert [p.stem for p in HISTORIES] == [
        "anonymous_referral_accepted",
        "approval_note_after_separation_refusal",
        "back_office_resolved_locally",
        "facilitator_capture_withdrawn",
        "fast_clock_no_response_withdrawn",
        "household_messages_reopened",
        "household_messages_window_over",
        "household_reopened_after_closing",
        "information_answered",
        "information_asked_then_duplicate",
        "no_response_then_resolved_locally",
        "not_responsible_then_rerouted",
        "people_dir_district_policy_referral_accepted",
        "perf_batched_effects_referral_accepted",
        "perf_local_reads_referral_accepted",
        "perf_path_late_effects_referral_accepted",
        "perf_path_policy_at_start_referral_accepted",
        "pii2_prelist_by_reference",
        "pii_encrypted_referral_rejected",
        "prelist_resolved_locally",
        "proginfo_information_answered_from_an_entry",
        "proginfo_may_qualify_then_resolved_locally",
        "referral_rejected",
        "registry_late_then_reopen_window_over",
        "regres_awaiting_registration_result_overdue",
        "regres_correction_closed_run_held_for_the_result",
        "regres_prelist_awaiting_registration_accepted",
        "reopened_then_closed",
        "returned_for_correction",
        "sent_back_then_delivery_failed",
        "separation_of_duties_off_same_person_approves",
        "stuck_back_office_escalated",
        "under_review_then_accepted",
        "walk_in_referral_accepted",
        "withdrawn_at_back_office",
    ]


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_a_recorded_history_replays_on_the_current_code(
    path: Path,
) -> None:
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=sandbox_converter())
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_a_recorded_history_replays_with_the_workers_own_runner(path: Path) -> None:
    """Routing's worker passes the ``workflows`` package through the sandbox
    (``WORKFLOW_RUNNER``): every history replays the same under it."""
    replayer = Replayer(
        workflows=[ComplaintWorkflow],
        data_converter=sandbox_converter(),
        workflow_runner=WORKFLOW_RUNNER,
    )
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None


async def test_without_the_patch_guard_the_old_histories_would_break() -> None:
    replayer = Replayer(workflows=[UnguardedComplaintWorkflow], data_converter=sandbox_converter())
    results = await replayer.replay_workflows(_before_the_patch(), raise_on_replay_failure=False)
    failures = list(results.replay_failures.values())
    assert len(failures) == len(BEFORE_THE_PATCH)
    assert all(isinstance(f, NondeterminismError) for f in failures)


async def _before_household_messages() -> AsyncIterator[WorkflowHistory]:
    for path in HISTORIES:
        if path.stem not in SINCE_HOUSEHOLD_MESSAGES:
            yield load(path)


async def test_without_the_household_messages_guard_the_older_histories_would_break() -> None:
    replayer = Replayer(workflows=[HouseholdMessagesUnguarded], data_converter=sandbox_converter())
    results = await replayer.replay_workflows(
        _before_household_messages(), raise_on_replay_failure=False
    )
    failures = list(results.replay_failures.values())
    assert len(failures) == len(HISTORIES) - len(SINCE_HOUSEHOLD_MESSAGES)
    assert all(isinstance(f, NondeterminismError) for f in failures)


async def test_without_the_batched_effects_guard_the_older_histories_would_break() -> None:
    """Every history recorded before ``PATCH_BATCH_EFFECTS`` queues several effects at once
    (registration, the household's message, the registry check)."""
    older = [load(p) for p in HISTORIES if p.stem not in SINCE_BATCHED_EFFECTS]

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for history in older:
            yield history

    replayer = Replayer(workflows=[BatchedEffectsUnguarded], data_converter=sandbox_converter())
    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    failures = list(results.replay_failures.values())
    assert len(failures) == len(older)
    assert all(isinstance(f, NondeterminismError) for f in failures)


async def test_without_the_local_reads_guard_the_older_histories_would_break() -> None:
    """Every history recorded before ``PATCH_LOCAL_READS`` that loaded routing options did so
    through a regular activity."""
    older = [
        load(p)
        for p in HISTORIES
        if p.stem not in SINCE_LOCAL_READS and f'"{ACTIVITY_ROUTING_OPTIONS}"' in p.read_text()
    ]
    assert len(older) >= 10

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for history in older:
            yield history

    replayer = Replayer(workflows=[LocalReadsUnguarded], data_converter=sandbox_converter())
    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    failures = list(results.replay_failures.values())
    assert len(failures) == len(older)
    assert all(isinstance(f, NondeterminismError) for f in failures)


async def test_without_the_late_effects_guard_an_older_history_would_break() -> None:
    """Histories recorded before ``PATCH_BATCH_LATE_EFFECTS`` in which an approval landed while
    a transition was being published went on one activity per effect; the new one replays."""
    replayer = Replayer(workflows=[LateEffectsUnguarded], data_converter=sandbox_converter())

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for path in HISTORIES:
            yield load(path)

    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    failures = results.replay_failures
    assert failures, "no older history takes the other path: the guard would be untested"
    assert all(isinstance(f, NondeterminismError) for f in failures.values())
    assert "complaint-perf_path_late_effects_referral_accepted" not in failures


ENCRYPTED = HISTORIES[0].parent / "pii_encrypted_referral_rejected.json"
"""Recorded with the payload codec on: its payloads are ciphertext under ``sandbox-2``."""


async def test_an_encrypted_history_replays_only_with_the_key_ring() -> None:
    assert "3204054107850001" not in ENCRYPTED.read_text()  # the complainant's NIK
    with_keys = Replayer(workflows=[ComplaintWorkflow], data_converter=sandbox_converter())
    assert (
        await with_keys.replay_workflow(load(ENCRYPTED), raise_on_replay_failure=False)
    ).replay_failure is None
    without = Replayer(workflows=[ComplaintWorkflow])
    result = await without.replay_workflow(load(ENCRYPTED), raise_on_replay_failure=False)
    assert result.replay_failure is not None
