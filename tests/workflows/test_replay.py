"""Running complaints survive deploys: histories recorded before the household-acknowledgment
change (``PATCH_ACKNOWLEDGE_HOUSEHOLD``) must replay on the current code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.workflows.unguarded import UnguardedComplaintWorkflow
from workflows.complaint import ComplaintWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"complaint-{path.stem}", path.read_text())


async def _all() -> AsyncIterator[WorkflowHistory]:
    for path in HISTORIES:
        yield load(path)


def test_the_recorded_histories_are_there() -> None:
    assert [p.stem for p in HISTORIES] == [
        "facilitator_capture_withdrawn",
        "information_answered",
        "walk_in_referral_accepted",
    ]


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_a_history_recorded_before_the_patch_replays_on_the_current_code(
    path: Path,
) -> None:
    replayer = Replayer(workflows=[ComplaintWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None


async def test_without_the_patch_guard_the_old_histories_would_break() -> None:
    replayer = Replayer(
        workflows=[UnguardedComplaintWorkflow], data_converter=pydantic_data_converter
    )
    results = await replayer.replay_workflows(_all(), raise_on_replay_failure=False)
    failures = list(results.replay_failures.values())
    assert len(failures) == len(HISTORIES)
    assert all(isinstance(f, NondeterminismError) for f in failures)
