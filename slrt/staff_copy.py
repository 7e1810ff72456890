"""A service's copy of the staff directory (``slrt.staff.directory``) in its own schema:
tables ``staff_persons``, ``staff_village_assignments``, ``staff_supervisions`` (intake's
migration ``0015``, the notifier's ``0008``), the latest version of each key, and the part of
it that decides who holds one village's tasks as a ``slrt.staff_directory.DirectorySnapshot``.
A service that does not need to reach people keeps persons without name or contact
(``contacts=False``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from slrt import staff_directory as sd
from slrt.contracts.staff import (
    STAFF_EVENT_MODELS,
    StaffPerson,
    StaffRecord,
    Supervision,
    VillageAssignment,
)
from slrt.db import Connection
from slrt.kafka import Handler, On


def _stored(person: StaffPerson, contacts: bool) -> dict[str, Any]:
    """The person as the service keeps it (without name and contact unless ``contacts``)."""
    if contacts:
        return person.model_dump(mode="json")
    return person.model_copy(update={"display_name": "-", "email": None, "phone": None}).model_dump(
        mode="json"
    )


def handlers(handle: Handler[StaffRecord]) -> list[On[Any]]:
    """The handler table of a consumer of ``slrt.staff.directory``: every kind of record the
    directory publishes goes to ``handle`` (which keeps it in the copy)."""
    return [On(model, handle) for model in STAFF_EVENT_MODELS]


async def keep_record(conn: Connection, record: StaffRecord, *, contacts: bool = False) -> bool:
    """Store ``record`` if newer than the copy's; whether it was."""
    if isinstance(record, StaffPerson):
        return bool(
            await conn.fetchval(
                "INSERT INTO staff_persons (person_id, subject, roles, areas, version, record) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_id) DO UPDATE SET "
                "subject = EXCLUDED.subject, roles = EXCLUDED.roles, areas = EXCLUDED.areas, "
                "version = EXCLUDED.version, record = EXCLUDED.record "
                "WHERE staff_persons.version < EXCLUDED.version RETURNING true",
                record.person_id,
                record.subject,
                [r.value for r in record.roles],
                record.areas,
                record.version,
                _stored(record, contacts),
            )
        )
    key: str | UUID
    if isinstance(record, VillageAssignment):
        table, key_column, key = "staff_village_assignments", "village_code", record.village_code
    elif isinstance(record, Supervision):
        table, key_column, key = "staff_supervisions", "facilitator_id", record.facilitator_id
    else:
        return False  # district settings: routing's concern (separation of duties)
    return bool(
        await conn.fetchval(
            f"INSERT INTO {table} ({key_column}, version, record) VALUES ($1, $2, $3) "  # noqa: S608
            f"ON CONFLICT ({key_column}) DO UPDATE SET version = EXCLUDED.version, "
            f"record = EXCLUDED.record WHERE {table}.version < EXCLUDED.version RETURNING true",
            key,
            record.version,
            record.model_dump(mode="json"),
        )
    )


async def snapshot_for(conn: Connection, village_codes: Iterable[str]) -> sd.DirectorySnapshot:
    """The part of the copy that decides who holds the tasks of ``village_codes``: their
    assignments, the persons covering them or named there, and those facilitators' supervision."""
    villages = sorted(set(village_codes))
    snapshot = sd.DirectorySnapshot()
    if not villages:
        return snapshot
    for row in await conn.fetch(
        "SELECT record FROM staff_village_assignments WHERE village_code = ANY($1)", villages
    ):
        sd.apply(snapshot, VillageAssignment.model_validate(row["record"]))
    named: set[UUID] = {
        spell.person_id for v in snapshot.villages.values() for spell in v.spells[-2:]
    }
    for row in await conn.fetch(
        "SELECT record FROM staff_supervisions WHERE facilitator_id = ANY($1)", list(named)
    ):
        supervision = Supervision.model_validate(row["record"])
        sd.apply(snapshot, supervision)
        named.update(spell.person_id for spell in supervision.spells[-2:])
    prefixes = sorted({v[:n] for v in villages for n in (0, 2, 4, 6, 10)})
    for row in await conn.fetch(
        "SELECT record FROM staff_persons WHERE person_id = ANY($1) OR areas && $2",
        list(named),
        prefixes,
    ):
        sd.apply(snapshot, StaffPerson.model_validate(row["record"]))
    return snapshot


async def persons_of_area(conn: Connection, role: str, area: str) -> list[StaffPerson]:
    """The copy's persons holding ``role`` with ``area`` itself among their areas (a district's
    managers for ``3204``), active or not (the caller decides at which time)."""
    rows = await conn.fetch(
        "SELECT record FROM staff_persons WHERE $1 = ANY(roles) AND $2 = ANY(areas)", role, area
    )
    return [StaffPerson.model_validate(row["record"]) for row in rows]
