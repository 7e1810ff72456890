"""Builders and waits of the intake tests: the in-process service, request bodies, transitions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from services.intake.settings import IntakeSettings
from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintSnapshot, ComplaintStep
from slrt.contracts.envelope import EventData
from slrt.contracts.events import (
    ComplaintTransitioned,
    ProgramCatalogEntry,
    RegistryCheckCompleted,
    RegistryCheckRequested,
)
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import Category, Channel, ProgramChannel
from slrt.deps import runtime_of
from slrt.kafka import EventProducer
from slrt.service import Runtime
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from slrt_dev.sandbox.groups import with_new_prefix
from slrt_dev.sandbox.processes import Stack
from tests.support.kafka_tools import read_topic
from tests.support.polling import until

ISSUER = "https://auth.slrt.local/test"


ANSWER_LINK_KEY = "test-answer-link-key-0123456789abcdef"


WEBHOOK_KEY = "whsec_" + "dGVzdC13ZWJob29rLWtleS0wMTIzNDU2Nzg5YWJjZGVm"


OTHER_WEBHOOK_KEY = "whsec_" + "b3RoZXItd2ViaG9vay1rZXktMDEyMzQ1Njc4OWFi"


VILLAGE = "3204052001"
"""A real village in Kabupaten Bandung (3204)."""


OTHER_DISTRICT_VILLAGE = "3273011001"
"""A real village in Kota Bandung (3273)."""


@dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    settings: IntakeSettings
    issuer: DevIssuer
    producer: EventProducer

    @property
    def runtime(self) -> Runtime[IntakeSettings]:
        found: Runtime[IntakeSettings] = runtime_of(self.app)
        return found

    @property
    def pool(self) -> asyncpg.Pool:
        return self.runtime.pool

    def auth(
        self,
        role: Role,
        area: str = "3204",
        *,
        subject: str | None = None,
        programs: list[str] | None = None,
    ) -> dict[str, str]:
        token = self.issuer.token(subject or f"{role.value}-{area}", [role], area, programs)
        return {"Authorization": f"Bearer {token}"}

    async def publish(self, data: EventData, subject: str) -> None:
        await self.producer.publish(data, subject=subject)

    async def submit(
        self,
        body: dict[str, Any],
        role: Role = Role.FRONT_OFFICE,
        area: str = "3204",
        key: str | None = None,
    ) -> httpx.Response:
        headers = self.auth(role, area)
        if key:
            headers["Idempotency-Key"] = key
        return await self.client.post("/v1/complaints", json=body, headers=headers)


def settings_for(connections: ConnectionSettings, **extra: Any) -> IntakeSettings:
    """An in-process intake's settings: consumer groups of its own, every one of them. The
    session's intakes share one Kafka, and some live long (``registry_intake``, the whole
    session): in a shared group they would split a topic's partitions, and each copy (the staff
    directory's too) would hold only part of it."""
    return IntakeSettings(
        connections=with_new_prefix(connections),
        public_base_url="http://intake.test",
        update_timeout_seconds=10,
        **extra,
    )


def walk_in(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "puskesos_walk_in",
        "village_code": "32.04.05.2001",
        "complainant": {
            "nik": "3204054107850003",
            "name": "Siti Aminah",
            "phone": "081234567890",
            "sex": "female",
            "address": "Kp. Sukamaju RT 01 RW 02",
        },
        "category": "membership",
        "description": "Keluarga kami tidak terdaftar sebagai penerima PKH.",
        "occurred_on": "2026-10-01",
    }
    body.update(overrides)
    return body


def transition(
    complaint_id: uuid.UUID,
    ticket: str,
    sequence: int,
    step: ComplaintStep,
    *,
    from_step: str | None = None,
    holder: Role | None = None,
    place: str = VILLAGE,
    category: Category = Category.MEMBERSHIP,
    channel: Channel = Channel.PUSKESOS_WALK_IN,
    actor: str = "system",
    actor_role: str = "system",
    **snapshot: Any,
) -> ComplaintTransitioned:
    return ComplaintTransitioned(
        complaint_id=complaint_id,
        sequence=sequence,
        from_step=from_step,
        to_step=step.value,
        actor=actor,
        actor_role=actor_role,
        at=datetime.now(UTC),
        snapshot=ComplaintSnapshot(
            complaint_id=complaint_id,
            ticket_number=ticket,
            step=step,
            holder_role=holder,
            place_code=place,
            category=category,
            channel=channel,
            **snapshot,
        ),
    )


async def projected(intake: Intake, complaint_id: uuid.UUID, sequence: int) -> None:
    """Wait until the projection applied ``sequence`` of the complaint."""

    async def check() -> bool:
        seq = await intake.pool.fetchval(
            "SELECT max(sequence) FROM complaint_timeline WHERE complaint_id = $1", complaint_id
        )
        return seq is not None and seq >= sequence

    await until(check)


PKH_BY_WEBHOOK = ProgramCatalogEntry(
    code="PKH",
    name="Program Keluarga Harapan",
    level="national",
    owner_agency="Direktorat Jaminan Sosial Keluarga",
    channel=ProgramChannel.DIRECT,
    categories=[Category.IMPLEMENTATION, Category.MEMBERSHIP],
    sla_working_days=10,
    callback_url="https://pkh.example/slrt",
    webhook_secret_ref="pkh-callbacks",
    version=1,
)
"""PKH answered by its own system: signed webhook out, signed callback (``WEBHOOK_KEY``) back."""


async def at_step(intake: Intake, complaint_id: str, step: str) -> dict[str, Any]:
    """Wait until intake's status projection shows ``step``; its step and referral id."""

    async def check() -> dict[str, Any] | None:
        row = await intake.pool.fetchrow(
            "SELECT step, referral_id FROM complaint_status WHERE complaint_id = $1",
            uuid.UUID(complaint_id),
        )
        return dict(row) if row is not None and row["step"] == step else None

    return await until(check, timeout=60)


async def requested(
    bootstrap: str,
    topic: str,
    complaint_id: str,
    match: Callable[[dict[str, bytes], dict[str, Any]], bool],
) -> dict[str, Any]:
    """Wait for the complaint's event on ``topic`` that ``match(headers, value)`` picks."""

    async def find() -> dict[str, Any] | None:
        for record in await read_topic(bootstrap, topic, expect=1, timeout=2):
            if record.key != complaint_id.encode():
                continue
            value: dict[str, Any] = json.loads(record.value)
            if match(dict(record.headers), value):
                return value
        return None

    return await until(find, timeout=60)


def of_type(event_type: str) -> Callable[[dict[str, bytes], dict[str, Any]], bool]:
    """A ``requested`` matcher: the event's CloudEvents type."""
    return lambda headers, _: headers["ce_type"] == event_type.encode()


async def registry_answers(
    intake: Intake, bootstrap: str, complaint_id: str, programs: list[str]
) -> None:
    """Play the registry: answer the workflow's check (found, decile 2, in ``programs``), then
    wait for the complaint at the back office."""
    check = RegistryCheckRequested.model_validate(
        await requested(
            bootstrap,
            Topic.REGISTRY_REQUESTS,
            complaint_id,
            of_type(RegistryCheckRequested.event_type),
        )
    )
    await intake.publish(
        RegistryCheckCompleted(
            request_id=check.request_id,
            complaint_id=check.complaint_id,
            found=True,
            household_id=uuid.uuid4(),
            welfare_decile=2,
            programs=programs,
        ),
        complaint_id,
    )
    await at_step(intake, complaint_id, "back_office")


async def known_programs(intake: Intake, *codes: str) -> None:
    """Make sure intake's catalog copy holds ``codes`` (a submission naming a program the
    catalog does not know is refused), each as a national program taking every category."""
    await catalog_holds(
        intake,
        *(
            ProgramCatalogEntry(
                code=code,
                name=code,
                level="national",
                owner_agency="Kementerian Sosial",
                channel=ProgramChannel.DIRECT,
                categories=list(Category),
                sla_working_days=10,
                version=1,
            )
            for code in codes
        ),
    )


async def catalog_holds(intake: Intake, *entries: ProgramCatalogEntry) -> None:
    """Publish ``entries`` through the real broker and wait until intake's catalog copy holds
    each code (a newer version from another test counts: the catalog topic is shared)."""
    for entry in entries:
        await intake.publish(entry, entry.code)
    codes = [entry.code for entry in entries]

    async def present() -> bool:
        found = await intake.pool.fetchval(
            "SELECT count(*) FROM programs WHERE code = ANY($1::text[])", codes
        )
        return bool(found == len(codes))

    await until(present)


async def back_office_resolves(
    client: httpx.AsyncClient, stack: Stack, complaint: str, area: str = "3204"
) -> None:
    """The back office of ``area`` resolves ``complaint`` on the running stack's intake
    (``client``), asking again while the workflow has not reached the back office yet."""
    attempt = 0

    async def post() -> bool:
        nonlocal attempt
        attempt += 1
        response = await client.post(
            f"/v1/complaints/{complaint}/back-office-action",
            json={"kind": "resolve", "answer": "Dibayar susulan", "decision_code": "paid_late"},
            headers={
                **stack.auth("back_office", area),
                "Idempotency-Key": f"{complaint}-{attempt}",
            },
        )
        assert response.status_code in (200, 202, 409, 422, 503), response.text
        return response.status_code < 300

    await until(post, timeout=180)
