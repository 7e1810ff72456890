"""Builders and waits shared by the workflow tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle

from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    QUERY_STATE,
    SIGNAL_REGISTRY_RESULT,
    Actor,
    ComplaintSnapshot,
    ComplaintState,
    ComplaintStep,
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
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        current = await state(handle)
        if condition(current):
            return current
        if asyncio.get_running_loop().time() > deadline:
            steps = [(h.to_step.value, h.reason) for h in current.history]
            raise AssertionError(f"condition not reached; history: {steps}")
        await asyncio.sleep(0.1)


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

    async def notifications(self, *, expect: int) -> list[NotificationRequested]:
        events = await self.published(Topic.NOTIFICATION_REQUESTS, expect=expect)
        return [e.parse(NotificationRequested) for e in events]
