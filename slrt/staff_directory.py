"""Questions every service asks of its copy of the staff directory, as plain functions.

A :class:`DirectorySnapshot` is the records of ``slrt.staff.directory`` (``slrt.contracts.staff``)
as a service keeps them: the latest version of each key. :func:`apply` folds one record in
(older or equal versions are ignored, so replaying the topic is harmless); the other functions
answer, for a moment ``at``:

- :func:`village_facilitator`: who holds village V's facilitator task;
- :func:`supervisor_of`: who supervises facilitator F;
- :func:`role_holders`: the active persons holding a role whose area covers a place;
- :func:`person_for_subject`: the active person a token's ``sub`` names;
- :func:`villages_of`: the villages a facilitator holds;
- :func:`separation_of_duties`: the district's setting, else the deployment's default.

No I/O here: consumers build the snapshot from their table or from the topic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from slrt.auth.principal import Role
from slrt.contracts.envelope import Envelope
from slrt.contracts.staff import (
    DistrictStaffSettings,
    StaffPerson,
    StaffRecord,
    Supervision,
    VillageAssignment,
)

K = TypeVar("K")
R = TypeVar("R", StaffPerson, VillageAssignment, Supervision, DistrictStaffSettings)


@dataclass
class DirectorySnapshot:
    """The latest record of each key (persons by id, villages by code, supervision by
    facilitator id, settings by district code)."""

    persons: dict[UUID, StaffPerson] = field(default_factory=dict)
    villages: dict[str, VillageAssignment] = field(default_factory=dict)
    supervision: dict[UUID, Supervision] = field(default_factory=dict)
    districts: dict[str, DistrictStaffSettings] = field(default_factory=dict)
    subjects: dict[str, UUID] = field(default_factory=dict)
    """The identity provider's subject → person id (kept by :func:`apply`)."""

    @classmethod
    def of(cls, records: list[StaffRecord]) -> DirectorySnapshot:
        snapshot = cls()
        for record in records:
            apply(snapshot, record)
        return snapshot


def parse_record(envelope: Envelope) -> StaffRecord | None:
    """The record an envelope of ``slrt.staff.directory`` carries; None for an unknown type
    (a newer producer's record: skip it)."""
    if envelope.type == StaffPerson.event_type:
        return envelope.parse(StaffPerson)
    if envelope.type == VillageAssignment.event_type:
        return envelope.parse(VillageAssignment)
    if envelope.type == Supervision.event_type:
        return envelope.parse(Supervision)
    if envelope.type == DistrictStaffSettings.event_type:
        return envelope.parse(DistrictStaffSettings)
    return None


def apply(snapshot: DirectorySnapshot, record: StaffRecord) -> bool:
    """Fold ``record`` in if it is newer than what the snapshot holds for its key; whether it
    was."""
    if isinstance(record, StaffPerson):
        known = snapshot.persons.get(record.person_id)
        if not _newer(snapshot.persons, record.person_id, record):
            return False
        if known is not None and known.subject and known.subject != record.subject:
            snapshot.subjects.pop(known.subject, None)
        if record.subject:
            snapshot.subjects[record.subject] = record.person_id
        return True
    if isinstance(record, VillageAssignment):
        return _newer(snapshot.villages, record.village_code, record)
    if isinstance(record, Supervision):
        return _newer(snapshot.supervision, record.facilitator_id, record)
    return _newer(snapshot.districts, record.district, record)


def _newer(table: dict[K, R], key: K, record: R) -> bool:
    known = table.get(key)
    if known is not None and known.version >= record.version:
        return False
    table[key] = record
    return True


def active_person(snapshot: DirectorySnapshot, person_id: UUID, at: datetime) -> StaffPerson | None:
    person = snapshot.persons.get(person_id)
    return person if person is not None and person.active_at(at) else None


def person_for_subject(
    snapshot: DirectorySnapshot, subject: str, at: datetime
) -> StaffPerson | None:
    """The active person the identity provider's ``subject`` names (None: unknown or not
    active at ``at``)."""
    person_id = snapshot.subjects.get(subject)
    return active_person(snapshot, person_id, at) if person_id is not None else None


def village_facilitator(
    snapshot: DirectorySnapshot, village_code: str, at: datetime
) -> StaffPerson | None:
    """The active facilitator holding ``village_code`` at ``at``; None when no one does (the
    work then goes to the supervisor's queue or the area's role holders)."""
    return _active_holder(snapshot, snapshot.villages.get(village_code), at)


def supervisor_of(
    snapshot: DirectorySnapshot, facilitator_id: UUID, at: datetime
) -> StaffPerson | None:
    """The active supervisor of facilitator ``facilitator_id`` at ``at``."""
    return _active_holder(snapshot, snapshot.supervision.get(facilitator_id), at)


def _active_holder(
    snapshot: DirectorySnapshot, record: VillageAssignment | Supervision | None, at: datetime
) -> StaffPerson | None:
    """Who holds ``record``'s assignment at ``at``, if they are an active person then."""
    holder = record.holder_at(at) if record is not None else None
    return active_person(snapshot, holder, at) if holder is not None else None


def village_supervisor(
    snapshot: DirectorySnapshot, village_code: str, at: datetime
) -> StaffPerson | None:
    """The supervisor of the village's facilitator (None without either)."""
    facilitator = village_facilitator(snapshot, village_code, at)
    return supervisor_of(snapshot, facilitator.person_id, at) if facilitator else None


def covers(person: StaffPerson, place_code: str) -> bool:
    """Whether ``place_code`` lies inside one of the person's areas."""
    return any(place_code.startswith(area) for area in person.areas)


def role_holders(
    snapshot: DirectorySnapshot, role: Role, place_code: str, at: datetime
) -> list[StaffPerson]:
    """The active persons holding ``role`` whose areas cover ``place_code`` (e.g. the back office
    of a village's district), the most local first (longest covering area), then by id."""

    def nearest(person: StaffPerson) -> int:
        return max(len(a) for a in person.areas if place_code.startswith(a))

    found = [
        p
        for p in snapshot.persons.values()
        if role in p.roles and p.active_at(at) and covers(p, place_code)
    ]
    return sorted(found, key=lambda p: (-nearest(p), str(p.person_id)))


def villages_of(snapshot: DirectorySnapshot, person_id: UUID, at: datetime) -> list[str]:
    """The villages the facilitator holds at ``at``, sorted."""
    return sorted(
        code for code, record in snapshot.villages.items() if record.holder_at(at) == person_id
    )


def supervisees_of(snapshot: DirectorySnapshot, supervisor_id: UUID, at: datetime) -> list[UUID]:
    """The facilitators the supervisor supervises at ``at``."""
    return sorted(
        (f for f, record in snapshot.supervision.items() if record.holder_at(at) == supervisor_id),
        key=str,
    )


def separation_of_duties(snapshot: DirectorySnapshot, district: str, default: bool) -> bool:
    """Whether the district forbids one person to propose and approve the same referral: its
    setting in the directory, else ``default`` (the deployment's)."""
    settings = snapshot.districts.get(district[:4])
    if settings is None or settings.separation_of_duties is None:
        return default
    return settings.separation_of_duties
