"""A complaint driven through its workflow in tests: builders of events and actions, the
:class:`Driven` complaint (start, act, answer, watch) and the one way to take it to a referral."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.worker import Worker

from services.routing.activities import ComplaintActivities
from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    QUERY_STATE,
    SIGNAL_REGISTRY_RESULT,
    UPDATE_BACK_OFFICE,
    UPDATE_MANAGER_DECISION,
    Actor,
    BackOfficeAction,
    ComplaintSnapshot,
    ComplaintState,
    ComplaintStep,
    ManagerDecision,
)
from slrt.contracts.envelope import Envelope, from_kafka
from slrt.contracts.events import (
    Complainant,
    ComplaintSubmitted,
    NotificationRequested,
    RegistryCheckCompleted,
    RegistryCheckRequested,
)
from slrt.contracts.temporal import COMPLAINT_WORKFLOW, complaint_workflow_id
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import Category, Channel
from tests.support.polling import poll
from workflows.complaint import ComplaintWorkflow

VILLAGE = "3204052001"
"""A village in Kabupaten Bandung (Jawa Barat)."""


def submitted(
    *,
    channel: Channel = Channel.PUSKESOS_WALK_IN,
    category: Category = Category.IMPLEMENTATION,
    program: str | None = "PKH",
    sub_type: str | None = None,
    anonymous: bool = False,
    nik: str | None = "3204054107850001",
) -> ComplaintSubmitted:
    complaint_id = uuid.uuid4()
    person = None
    if not anonymous:
        person = Complainant(nik=nik, name="Siti Aminah", village_code=VILLAGE)
    return ComplaintSubmitted(
        complaint_id=complaint_id,
        ticket_number=f"SLRT-{complaint_id.hex[:8].upper()}",
        channel=channel,
        category=category,
        village_code=VILLAGE,
        program_code=program,
        sub_type=sub_type,
        anonymous=anonymous,
        complainant=person,
        description="Bantuan PKH tahap 3 belum diterima",
        submitted_at=datetime.now(UTC),
        submitted_by="user-frontoffice-1",
    )


def actor(role: Role, user: str | None = None) -> Actor:
    return Actor(user_id=user or f"user-{role.value}", role=role, area="3204")


def request_id() -> str:
    return uuid.uuid4().hex


async def state(handle: WorkflowHandle[Any, Any]) -> ComplaintState:
    current: ComplaintState = await handle.query(QUERY_STATE, result_type=ComplaintState)
    return current


async def until(
    handle: WorkflowHandle[Any, Any],
    condition: Callable[[ComplaintState], bool],
    *,
    timeout: float = 30.0,
) -> ComplaintState:
    """Wait until the workflow's queried state satisfies ``condition`` (or fail)."""
    return await poll(
        lambda: state(handle),
        condition,
        timeout=timeout,
        explain=lambda last: (
            f"condition not reached; history: {[(h.to_step.value, h.reason) for h in last.history]}"
        ),
    )


def registry_answer(
    complaint: ComplaintSubmitted,
    registry_request_id: uuid.UUID,
    *,
    found: bool = True,
    household_id: uuid.UUID | None = None,
) -> RegistryCheckCompleted:
    return RegistryCheckCompleted(
        request_id=registry_request_id,
        complaint_id=complaint.complaint_id,
        found=found,
        household_id=(household_id or uuid.uuid4()) if found else None,
        individual_id=uuid.uuid4() if found else None,
        welfare_decile=2 if found else None,
        programs=["PKH", "BPNT"] if found else [],
    )


async def events_for(
    bootstrap: str, topic: str, subject: str, *, expect: int, timeout: float = 30.0
) -> list[Envelope]:
    """Every event on ``topic`` about ``subject`` (waits until ``expect`` arrived)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[Envelope] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < expect and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    if record.key == subject.encode():
                        found.append(from_kafka(record.key, record.headers, record.value))
        # Anything beyond what was expected must show too (a duplicate is a failure).
        for records in (await consumer.getmany(timeout_ms=500)).values():
            found.extend(
                from_kafka(r.key, r.headers, r.value) for r in records if r.key == subject.encode()
            )
    finally:
        await consumer.stop()
    return found


class Driven:
    """One complaint's workflow as a test drives it: start, act, answer, watch."""

    def __init__(
        self, client: Client, queue: str, bootstrap: str, complaint: ComplaintSubmitted
    ) -> None:
        self.client = client
        self.queue = queue
        self.bootstrap = bootstrap
        self.complaint = complaint
        self.subject = str(complaint.complaint_id)
        self.handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(
            complaint_workflow_id(self.subject), result_type=ComplaintSnapshot
        )

    async def start(self) -> Driven:
        self.handle = await self.client.start_workflow(
            COMPLAINT_WORKFLOW,
            self.complaint,
            id=complaint_workflow_id(self.subject),
            task_queue=self.queue,
            result_type=ComplaintSnapshot,
        )
        return self

    async def state(self) -> ComplaintState:
        return await state(self.handle)

    async def until(
        self, condition: Callable[[ComplaintState], bool], timeout: float = 30.0
    ) -> ComplaintState:
        return await until(self.handle, condition, timeout=timeout)

    async def at(self, step: ComplaintStep, timeout: float = 30.0) -> ComplaintState:
        return await self.until(lambda s: s.snapshot.step is step, timeout)

    async def act(self, update: str, action: BaseModel) -> ComplaintSnapshot:
        result: ComplaintSnapshot = await self.handle.execute_update(
            update, action, result_type=ComplaintSnapshot
        )
        return result

    async def published(self, topic: str, *, expect: int) -> list[Envelope]:
        return await events_for(self.bootstrap, topic, self.subject, expect=expect)

    async def registry_request(self) -> RegistryCheckRequested:
        (event,) = [
            e
            for e in await self.published(Topic.REGISTRY_REQUESTS, expect=1)
            if e.type == RegistryCheckRequested.event_type
        ]
        return event.parse(RegistryCheckRequested)

    async def answer_registry(
        self, *, found: bool = True, household_id: uuid.UUID | None = None
    ) -> ComplaintState:
        await self.at(ComplaintStep.REGISTRY_CHECK)
        request = await self.registry_request()
        answer = registry_answer(
            self.complaint, request.request_id, found=found, household_id=household_id
        )
        await self.handle.signal(SIGNAL_REGISTRY_RESULT, answer)
        return await self.at(ComplaintStep.BACK_OFFICE)

    async def refer(self, **action: Any) -> ComplaintSnapshot:
        """Back office refers (to the routing plan's destination unless ``action`` names one).
        Right after the registry wait the routing plan may still be loading: the workflow then
        refuses with "still being prepared" and this tries again, as intake's clients are told
        to."""
        for _ in range(100):
            try:
                return await self.act(
                    UPDATE_BACK_OFFICE,
                    BackOfficeAction(
                        actor=actor(Role.BACK_OFFICE),
                        request_id=request_id(),
                        kind="refer",
                        **action,
                    ),
                )
            except WorkflowUpdateFailedError as exc:
                if "still being prepared" not in str(exc.cause):
                    raise
                await asyncio.sleep(0.1)
        raise AssertionError("the routing plan never became ready")

    async def approve(self) -> ComplaintSnapshot:
        """The manager approves the proposed referral: it is sent."""
        return await self.act(
            UPDATE_MANAGER_DECISION,
            ManagerDecision(actor=actor(Role.MANAGER), request_id=request_id(), decision="approve"),
        )

    async def to_referral(self) -> ComplaintSnapshot:
        """From back office (the registry check answered or waited out) to a sent referral:
        back office refers, the manager approves."""
        await self.refer()
        return await self.approve()

    async def notifications(self, *, expect: int) -> list[NotificationRequested]:
        events = await self.published(Topic.NOTIFICATION_REQUESTS, expect=expect)
        return [e.parse(NotificationRequested) for e in events]


async def worker_queue(client: Client, activities: ComplaintActivities) -> AsyncIterator[str]:
    """A worker of the complaint workflow with the real activities; yields its task queue."""
    queue = f"complaints-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=queue, workflows=[ComplaintWorkflow], activities=activities.all()
    ):
        yield queue


async def terminate_unfinished(started: list[Driven]) -> None:
    """Leave no running complaint behind: on the time-skipping server a workflow whose worker
    is gone would hold the clock still for every later test."""
    for driven in started:
        description = await driven.handle.describe()
        if description.status == WorkflowExecutionStatus.RUNNING:
            await driven.handle.terminate(reason="test finished")
