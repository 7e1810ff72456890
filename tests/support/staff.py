"""Staff-directory records (``slrt.contracts.staff``) built the way tests need them: a person,
one spell of an assignment, a village's facilitators, a facilitator's supervisors (every id
new; names and contacts made up), and their publication on the real topic."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer

from slrt import task_holders
from slrt.auth.principal import Role
from slrt.contracts.envelope import from_kafka
from slrt.contracts.staff import (
    ContactChannel,
    EndReason,
    Spell,
    StaffPerson,
    StaffRecord,
    Supervision,
    VillageAssignment,
    record_key,
)
from slrt.contracts.topics import Topic
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt.staff_directory import DirectorySnapshot, apply, parse_record
from tests.support.kafka_tools import read_topic_to_end
from tests.support.polling import until


def person(
    roles: list[Role],
    areas: list[str],
    *,
    since: datetime,
    subject: str | None = None,
    display_name: str = "Petugas",
    email: str | None = "petugas@example.go.id",
    phone: str | None = None,
    channel: ContactChannel = ContactChannel.EMAIL,
    until: datetime | None = None,
    version: int = 1,
    person_id: uuid.UUID | None = None,
) -> StaffPerson:
    """A person active from ``since`` (also their record's ``updated_at``) until ``until``."""
    return StaffPerson(
        person_id=person_id or uuid.uuid4(),
        subject=subject,
        display_name=display_name,
        email=email,
        phone=phone,
        preferred_channel=channel,
        roles=roles,
        areas=areas,
        active_from=since,
        active_until=until,
        version=version,
        updated_at=since,
    )


def spell(
    holder: StaffPerson | uuid.UUID,
    since: datetime,
    until: datetime | None = None,
    *,
    end_reason: EndReason = EndReason.REASSIGNED,
) -> Spell:
    """``holder`` holds an assignment from ``since``; an ended spell ends for ``end_reason``."""
    return Spell(
        assignment_id=uuid.uuid4(),
        person_id=holder if isinstance(holder, uuid.UUID) else holder.person_id,
        since=since,
        until=until,
        end_reason=end_reason if until else None,
    )


def village(code: str, *spells: Spell, at: datetime, version: int = 1) -> VillageAssignment:
    """The village's facilitators, oldest spell first, as of the record's ``at``."""
    return VillageAssignment(village_code=code, spells=list(spells), version=version, updated_at=at)


def supervision(
    facilitator: StaffPerson, *spells: Spell, at: datetime, version: int = 1
) -> Supervision:
    """The facilitator's supervisors, oldest spell first, as of the record's ``at``."""
    return Supervision(
        facilitator_id=facilitator.person_id, spells=list(spells), version=version, updated_at=at
    )


async def publish(connections: ConnectionSettings, *records: StaffRecord) -> None:
    """Publish ``records`` on ``slrt.staff.directory`` as the registry does (its source, each
    under its record key), for services to copy."""
    async with EventProducer(connections, "/slrt/registry") as events:
        for record in records:
            await events.publish(record, subject=record_key(record))


def ended(person: StaffPerson, at: datetime | None = None) -> StaffPerson:
    """``person``'s next version, no longer active from ``at`` (now)."""
    when = at or datetime.now(UTC)
    return person.model_copy(
        update={"active_until": when, "version": person.version + 1, "updated_at": when}
    )


async def end(connections: ConnectionSettings, *persons: StaffPerson) -> None:
    """Publish every one of ``persons`` ended (as the registry does when one leaves).

    ``slrt.staff.directory`` is the session's one topic: every later test's intake and notifier
    copy it from the start. A test that put persons there in places other tests use ends them
    when it is done, so those places behave as if no one were assigned (slrt/task_holders.py:
    an inactive person holds nothing, is no supervisor, no role holder, no addressee)."""
    await publish(connections, *(ended(p) for p in persons))


SHARED_DISTRICT = "3204"
"""Kabupaten Bandung: most tests' complaints live there (the session-end guard in
tests/conftest.py finds no active directory person there)."""


async def active_in(bootstrap: str, district: str) -> list[StaffPerson]:
    """The persons active now on the session's ``slrt.staff.directory`` topic who would hold a
    task or get a message in ``district``: a role of :data:`task_holders.PERSON_ROLES` and an
    area inside the district, or covering it below national level."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        topics = await probe.topics()
    finally:
        await probe.stop()
    if Topic.STAFF_DIRECTORY.value not in topics:
        return []
    snapshot = DirectorySnapshot()
    for record in await read_topic_to_end(bootstrap, Topic.STAFF_DIRECTORY.value):
        if record.value is None:
            continue
        parsed = parse_record(from_kafka(record.key, record.headers, record.value))
        if parsed is not None:
            apply(snapshot, parsed)
    now = datetime.now(UTC)
    return [
        p
        for p in snapshot.persons.values()
        if p.active_at(now)
        and set(p.roles) & set(task_holders.PERSON_ROLES)
        and any(a.startswith(district) or (a and district.startswith(a)) for a in p.areas)
    ]


async def ended_in_copy(
    dsn: str, person_ids: Iterable[uuid.UUID | str], *, timeout: float = 60
) -> None:
    """Wait until intake's copy of the directory (it follows the topic) has every one of
    ``person_ids`` ended: their ends are on the shared topic, for every later copy."""
    wanted = [uuid.UUID(str(i)) for i in person_ids]

    async def all_ended() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            count = await conn.fetchval(
                "SELECT count(*) FROM intake.staff_persons WHERE person_id = ANY($1::uuid[]) "
                "AND record->>'active_until' IS NOT NULL",
                wanted,
            )
        finally:
            await conn.close()
        return bool(count == len(wanted))

    await until(all_ended, timeout=timeout)
