"""Staff-directory records (``slrt.contracts.staff``) built the way tests need them: a person,
one spell of an assignment, a village's facilitators, a facilitator's supervisors (every id
new; names and contacts made up), and their publication on the real topic."""

from __future__ import annotations

import uuid
from datetime import datetime

from slrt.auth.principal import Role
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
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings


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
