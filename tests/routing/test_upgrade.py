"""An upgrade with live complaints, under Temporal Worker Versioning (``docs/deploy.md``,
"Upgrade").

On the real dev server, with routing's own worker code (``build_worker`` and ``run_worker`` with
the start-up promotion the service does) and the real activities: release N (the complaint
workflow as it is) takes two complaints to the registry check; release N+1 — a changed workflow
whose new first step would be non-deterministic on N's histories but is guarded by
``workflow.patched`` — comes up as a new worker deployment version, makes itself current, and N
stops as a rolled-over pod does. A third complaint starts on N+1. Every complaint finishes: N's
on their own path (no patch marker, no new timer) replayed by N+1's code, the new one through
the new step; no workflow task fails. The same N history replayed on the unguarded change is a
non-determinism error: the guard, not luck, keeps the old complaints running.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType, VersioningBehavior
from temporalio.client import Client, WorkflowHistory
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from services.routing.settings import RoutingSettings
from services.routing.versions import (
    Promotion,
    current_build_id,
    describe,
    promote,
    promote_at_start,
    registered,
)
from services.routing.worker import build_worker, run_worker
from slrt.auth.principal import Role
from slrt.contracts.complaints import UPDATE_WITHDRAW, ComplaintStep, Withdraw
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.stack.config import REPO_ROOT
from tests.routing.next_release import (
    PATCH_NEXT_RELEASE,
    NextReleaseWorkflow,
    UnguardedNextRelease,
)
from tests.support.complaints import Driven, actor, request_id, submitted, terminate_unfinished
from tests.support.harness import TEST_NAMESPACE, sandbox_converter
from tests.support.polling import poll
from workflows.complaint import ComplaintWorkflow

S = ComplaintStep


@pytest.mark.unit
def test_versioning_is_off_without_a_build_id() -> None:
    from services.routing.versions import deployment_version

    assert deployment_version(RoutingSettings()) is None
    version = deployment_version(
        RoutingSettings.model_validate({"deployment_name": "slrt-routing", "build_id": "1.4.0"})
    )
    assert version == WorkerDeploymentVersion(deployment_name="slrt-routing", build_id="1.4.0")
    with pytest.raises(ValueError, match="deployment_name"):
        RoutingSettings.model_validate({"deployment_name": "slrt.routing"})


@pytest.mark.unit
def test_promote_needs_a_build(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.routing.__main__ import main

    monkeypatch.delenv("SLRT_ROUTING_BUILD_ID", raising=False)
    assert main(["promote"]) == 2
    assert "SLRT_ROUTING_BUILD_ID" in capsys.readouterr().err


def versioned(deployment: str, queue: str, build_id: str) -> RoutingSettings:
    return RoutingSettings(
        deployment_name=deployment,
        build_id=build_id,
        connections=ConnectionSettings(temporal_task_queue=queue),
    )


@asynccontextmanager
async def release(
    client: Client,
    producer: EventProducer,
    pool: asyncpg.Pool,
    settings: RoutingSettings,
    workflow: type,
) -> AsyncIterator[asyncio.Event]:
    """Routing's worker of one release, running as the service runs it (promotion at start);
    set the yielded event to stop it as SIGTERM would."""
    worker = build_worker(client, producer, pool, settings, workflows=[workflow])
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_worker(worker, stop, lambda: promote_at_start(client, settings))
    )
    try:
        yield stop
    finally:
        stop.set()
        await running


async def current(client: Client, deployment: str, build_id: str) -> None:
    async def look() -> str | None:
        try:
            _, info = await describe(client, deployment)
        except Exception:
            return None
        return current_build_id(info)

    await poll(
        look,
        lambda now: now == build_id,
        timeout=30,
        interval=0.2,
        explain=lambda now: f"current build is {now}, not {build_id}",
    )


def task_builds(history: WorkflowHistory) -> list[str]:
    """The build id of the worker that completed each workflow task, in order."""
    return [
        e.workflow_task_completed_event_attributes.deployment_version.build_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]


def kinds(history: WorkflowHistory) -> list[Any]:
    return [e.event_type for e in history.events]


def patched(history: WorkflowHistory) -> bool:
    return any(
        e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and PATCH_NEXT_RELEASE in str(e.marker_recorded_event_attributes)
        for e in history.events
    )


def first_command(history: WorkflowHistory) -> Any:
    """What the workflow did first: the first event after its first workflow task completed,
    past what release N's own patches record (their markers and the ``TemporalChangeVersion``
    search attribute; only N+1's patch counts)."""
    events = list(history.events)
    completed = next(
        (
            i
            for i, e in enumerate(events)
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        ),
        None,
    )
    if completed is None:
        raise AssertionError("no workflow task completed")
    for event in events[completed + 1 :]:
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            recorded = str(event.marker_recorded_event_attributes)
        elif event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            recorded = str(event.upsert_workflow_search_attributes_event_attributes)
        else:
            return event.event_type
        if PATCH_NEXT_RELEASE in recorded:
            return event.event_type
    raise AssertionError("the workflow did nothing after its first task")


async def withdraw(c: Driven) -> None:
    await c.act(
        UPDATE_WITHDRAW,
        Withdraw(actor=actor(Role.FRONT_OFFICE), request_id=request_id(), reason="sudah diterima"),
    )
    result = await c.handle.result()
    assert result.step is S.WITHDRAWN


async def test_complaints_started_on_n_finish_after_the_rollout_to_n_plus_1(
    temporal_client: Client,
    producer: EventProducer,
    routing_pool: asyncpg.Pool,
    kafka_bootstrap: str,
) -> None:
    deployment = f"slrt-routing-{uuid.uuid4().hex[:8]}"
    queue = f"complaints-{uuid.uuid4().hex[:8]}"
    # Build ids as the chart makes them: an image tag, then an image digest.
    n, n1 = "0.1.0", "sha256:" + "ab" * 32
    started: list[Driven] = []

    async def complaint() -> Driven:
        c = await Driven(temporal_client, queue, kafka_bootstrap, submitted()).start()
        started.append(c)
        return c

    try:
        async with release(
            temporal_client,
            producer,
            routing_pool,
            versioned(deployment, queue, n),
            ComplaintWorkflow,
        ) as stop_n:
            await current(temporal_client, deployment, n)
            old = [await complaint(), await complaint()]
            for c in old:
                await c.at(S.REGISTRY_CHECK)
            # The answer to the first one is on its way while the rollout begins.
            await old[0].answer_registry()

            async with release(
                temporal_client,
                producer,
                routing_pool,
                versioned(deployment, queue, n1),
                NextReleaseWorkflow,
            ):
                # N+1's first pod is up: it made itself current (it had never been).
                await current(temporal_client, deployment, n1)
                stop_n.set()  # N's pod is rolled over (SIGTERM)

                new = await complaint()
                await new.at(S.REGISTRY_CHECK)
                await old[1].answer_registry()
                await new.answer_registry()
                for c in [*old, new]:
                    await withdraw(c)

                # A restarting N pod (mid-rollout) does not take the current version back.
                again = await promote(
                    temporal_client,
                    WorkerDeploymentVersion(deployment_name=deployment, build_id=n),
                    only_if_new=True,
                )
                assert again.outcome is Promotion.NOT_NEW
                await current(temporal_client, deployment, n1)
    finally:
        await terminate_unfinished(started)

    histories = [await c.handle.fetch_history() for c in started]
    for history in histories:
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in kinds(history), history.workflow_id
    (first, second, fresh) = histories
    for old_history in (first, second):
        builds = task_builds(old_history)
        # Began on N, finished on N+1, never back.
        assert builds[0] == n
        assert builds[-1] == n1
        assert builds == sorted(builds, key=lambda b: b == n1)
        # N's first step (the SLA policy), not N+1's: replayed on N+1 without the patch.
        assert first_command(old_history) == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        assert not patched(old_history)
    assert set(task_builds(fresh)) == {n1}
    assert first_command(fresh) == EventType.EVENT_TYPE_MARKER_RECORDED
    assert patched(fresh)
    assert EventType.EVENT_TYPE_TIMER_FIRED in kinds(fresh)
    for history in histories:
        behaviors = {
            e.workflow_task_completed_event_attributes.versioning_behavior
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        }
        assert behaviors == {VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE}
    description = await started[2].handle.describe()
    versioning = description.raw_description.workflow_execution_info.versioning_info
    assert versioning.behavior == VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
    assert versioning.deployment_version.build_id == n1

    # Without the guard, N+1 could not have replayed N's complaints.
    replay = Replayer(workflows=[UnguardedNextRelease], data_converter=sandbox_converter())
    with pytest.raises(NondeterminismError):
        await replay.replay_workflow(first)
    await Replayer(
        workflows=[NextReleaseWorkflow], data_converter=sandbox_converter()
    ).replay_workflow(first)


async def test_turning_versioning_on_moves_open_complaints_to_the_promoted_build(
    temporal_client: Client,
    producer: EventProducer,
    routing_pool: asyncpg.Pool,
    kafka_bootstrap: str,
    temporal_address: str,
) -> None:
    """The first release with a build id (``promoteOnStart: false``) meets complaints started
    by unversioned workers: its pods poll but run nothing until ``python -m services.routing
    promote``; from then on the open complaints run on the promoted build."""
    deployment = f"slrt-routing-{uuid.uuid4().hex[:8]}"
    queue = f"complaints-{uuid.uuid4().hex[:8]}"
    unversioned = RoutingSettings(connections=ConnectionSettings(temporal_task_queue=queue))
    first = versioned(deployment, queue, "v1").model_copy(update={"promote_on_start": False})
    started: list[Driven] = []
    try:
        async with release(
            temporal_client, producer, routing_pool, unversioned, ComplaintWorkflow
        ) as stop_unversioned:
            c = await Driven(temporal_client, queue, kafka_bootstrap, submitted()).start()
            started.append(c)
            await c.at(S.REGISTRY_CHECK)
            async with release(temporal_client, producer, routing_pool, first, ComplaintWorkflow):
                version = WorkerDeploymentVersion(deployment_name=deployment, build_id="v1")
                _, info, _ = await registered(temporal_client, version, timeout=30)
                assert current_build_id(info) is None  # v1 polls; nobody promoted it
                promoting = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "services.routing",
                    "promote",
                    env={
                        "SLRT_TEMPORAL_ADDRESS": temporal_address,
                        "SLRT_TEMPORAL_NAMESPACE": TEST_NAMESPACE,
                        "SLRT_ROUTING_DEPLOYMENT_NAME": deployment,
                        "SLRT_ROUTING_BUILD_ID": "v1",
                        "PATH": "/usr/bin:/bin",
                    },
                    cwd=REPO_ROOT,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT,
                )
                output, _ = await asyncio.wait_for(promoting.communicate(), timeout=60)
                assert promoting.returncode == 0, output.decode()
                assert f"promote {deployment}.v1: promoted" in output.decode()
                await current(temporal_client, deployment, "v1")
                stop_unversioned.set()
                await c.answer_registry()
                await withdraw(c)
    finally:
        await terminate_unfinished(started)

    history = await c.handle.fetch_history()
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in kinds(history)
    builds = task_builds(history)
    assert builds[0] == ""  # started unversioned
    assert builds[-1] == "v1"
