"""The staff directory in PostgreSQL: persons, spells (village and supervision assignments),
district settings; every change audited (``staff_audit``) and its record published on
``slrt.staff.directory`` through the outbox, in the change's transaction.

Callers hold a transaction; the functions lock what they change (``FOR UPDATE``) so concurrent
edits of one record serialise and versions never repeat.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from services.registry.domain.staff import PersonSpec, changed_fields
from slrt import outbox
from slrt.auth.principal import Role
from slrt.contracts.staff import (
    DistrictStaffSettings,
    EndReason,
    Spell,
    StaffPerson,
    StaffRecord,
    Supervision,
    VillageAssignment,
    record_key,
)
from slrt.db import Connection

Kind = Literal["village", "supervision"]

_PERSON_COLUMNS = (
    "id, subject, display_name, email, phone, preferred_channel, roles, areas, programs, "
    "active_from, active_until, version, updated_at"
)


def _person(row: asyncpg.Record) -> StaffPerson:
    return StaffPerson(
        person_id=row["id"],
        subject=row["subject"],
        display_name=row["display_name"],
        email=row["email"],
        phone=row["phone"],
        preferred_channel=row["preferred_channel"],
        roles=[Role(r) for r in row["roles"]],
        areas=list(row["areas"]),
        programs=list(row["programs"]),
        active_from=row["active_from"],
        active_until=row["active_until"],
        version=row["version"],
        updated_at=row["updated_at"],
    )


async def get_person(
    conn: Connection, person_id: UUID, *, for_update: bool = False
) -> StaffPerson | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_PERSON_COLUMNS} FROM staff_persons WHERE id = $1{lock}",  # noqa: S608
        person_id,
    )
    return _person(row) if row else None


async def person_by_subject(conn: Connection, subject: str) -> StaffPerson | None:
    row = await conn.fetchrow(
        f"SELECT {_PERSON_COLUMNS} FROM staff_persons WHERE subject = $1",  # noqa: S608
        subject,
    )
    return _person(row) if row else None


async def subject_taken(conn: Connection, subject: str, other_than: UUID | None) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM staff_persons WHERE subject = $1 AND id IS DISTINCT FROM $2",
            subject,
            other_than,
        )
    )


async def list_persons(
    conn: Connection,
    *,
    area: str,
    role: Role | None,
    active_at: datetime | None,
    limit: int,
) -> list[StaffPerson]:
    """Persons with an area inside ``area`` or covering it (a district's staff and the
    province's and nation's staff who work there), optionally holding ``role`` and active at
    ``active_at``."""
    rows = await conn.fetch(
        f"SELECT {_PERSON_COLUMNS} FROM staff_persons "  # noqa: S608
        "WHERE EXISTS (SELECT 1 FROM unnest(areas) a "
        "              WHERE starts_with(a, $1) OR starts_with($1, a)) "
        "AND ($2::text IS NULL OR $2 = ANY(roles)) "
        "AND ($3::timestamptz IS NULL OR (active_from <= $3 "
        "     AND (active_until IS NULL OR active_until > $3))) "
        "ORDER BY display_name, id LIMIT $4",
        area,
        role.value if role else None,
        active_at,
        limit,
    )
    return [_person(r) for r in rows]


async def _audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    record: StaffRecord,
    areas: list[str],
    changed: list[str],
) -> None:
    await conn.execute(
        "INSERT INTO staff_audit (actor, action, record_key, areas, changed, record) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        actor,
        action,
        record_key(record),
        areas,
        changed,
        record.model_dump(mode="json"),
    )


async def _publish(conn: Connection, record: StaffRecord, source: str) -> None:
    await outbox.write(conn, record, source=source, subject=record_key(record))


async def save_person(
    conn: Connection,
    person_id: UUID,
    spec: PersonSpec,
    *,
    active_from: datetime,
    active_until: datetime | None,
    actor: str,
    action: str,
    source: str,
) -> tuple[StaffPerson, list[str]]:
    """Create or replace a person; an edit that changes nothing is not a new version."""
    current = await get_person(conn, person_id, for_update=True)
    if current is not None:
        candidate = current.model_copy(
            update={
                **spec.model_dump(exclude={"active_from"}),
                "active_from": active_from,
                "active_until": active_until,
            }
        )
        if not changed_fields(current, candidate):
            return current, []
    version = 1 if current is None else current.version + 1
    row = await conn.fetchrow(
        "INSERT INTO staff_persons (id, subject, display_name, email, phone, "  # noqa: S608
        "preferred_channel, "
        "roles, areas, programs, active_from, active_until, version, updated_by) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) "
        "ON CONFLICT (id) DO UPDATE SET subject = excluded.subject, "
        "display_name = excluded.display_name, email = excluded.email, phone = excluded.phone, "
        "preferred_channel = excluded.preferred_channel, roles = excluded.roles, "
        "areas = excluded.areas, programs = excluded.programs, "
        "active_from = excluded.active_from, active_until = excluded.active_until, "
        "version = excluded.version, updated_by = excluded.updated_by, updated_at = now() "
        f"RETURNING {_PERSON_COLUMNS}",
        person_id,
        spec.subject,
        spec.display_name,
        spec.email,
        spec.phone,
        spec.preferred_channel.value,
        [r.value for r in spec.roles],
        spec.areas,
        spec.programs,
        active_from,
        active_until,
        version,
        actor,
    )
    assert row is not None
    saved = _person(row)
    changed = changed_fields(current, saved)
    await _audit(conn, actor=actor, action=action, record=saved, areas=saved.areas, changed=changed)
    await _publish(conn, saved, source)
    return saved, changed


async def set_active_until(
    conn: Connection, person: StaffPerson, at: datetime, *, actor: str, source: str
) -> StaffPerson:
    row = await conn.fetchrow(
        "UPDATE staff_persons SET active_until = $2, version = version + 1, "  # noqa: S608
        "updated_by = $3, "
        f"updated_at = now() WHERE id = $1 RETURNING {_PERSON_COLUMNS}",
        person.person_id,
        at,
        actor,
    )
    assert row is not None
    ended = _person(row)
    await _audit(
        conn,
        actor=actor,
        action="person.ended",
        record=ended,
        areas=ended.areas,
        changed=["active_until"],
    )
    await _publish(conn, ended, source)
    return ended


# --- assignments -------------------------------------------------------------------------


async def _lock_target(conn: Connection, kind: Kind, target: str) -> int:
    """Lock the target's record (made at version 0 the first time); its current version."""
    await conn.execute(
        "INSERT INTO staff_assignment_records (kind, target, version) VALUES ($1, $2, 0) "
        "ON CONFLICT DO NOTHING",
        kind,
        target,
    )
    version = await conn.fetchval(
        "SELECT version FROM staff_assignment_records WHERE kind = $1 AND target = $2 FOR UPDATE",
        kind,
        target,
    )
    return int(version)


async def spells(conn: Connection, kind: Kind, target: str) -> list[Spell]:
    rows = await conn.fetch(
        "SELECT id, person_id, since, until, end_reason FROM staff_spells "
        "WHERE kind = $1 AND target = $2 ORDER BY since, until NULLS LAST, id",
        kind,
        target,
    )
    return [
        Spell(
            assignment_id=r["id"],
            person_id=r["person_id"],
            since=r["since"],
            until=r["until"],
            end_reason=EndReason(r["end_reason"]) if r["end_reason"] else None,
        )
        for r in rows
    ]


async def open_spell(conn: Connection, kind: Kind, target: str) -> Spell | None:
    return next((s for s in await spells(conn, kind, target) if s.until is None), None)


async def assignment_record(
    conn: Connection, kind: Kind, target: str
) -> VillageAssignment | Supervision | None:
    version = await conn.fetchval(
        "SELECT version FROM staff_assignment_records WHERE kind = $1 AND target = $2",
        kind,
        target,
    )
    if not version:
        return None
    updated_at = await conn.fetchval(
        "SELECT max(at) FROM staff_audit WHERE record_key = $1",
        f"{'village' if kind == 'village' else 'supervision'}:{target}",
    )
    return _record(kind, target, await spells(conn, kind, target), int(version), updated_at)


def _record(
    kind: Kind, target: str, history: list[Spell], version: int, at: datetime
) -> VillageAssignment | Supervision:
    if kind == "village":
        return VillageAssignment(
            village_code=target, spells=history, version=version, updated_at=at
        )
    return Supervision(facilitator_id=UUID(target), spells=history, version=version, updated_at=at)


async def change_assignment(
    conn: Connection,
    kind: Kind,
    target: str,
    *,
    district: str,
    successor: UUID | None,
    at: datetime,
    end_reason: EndReason,
    actor: str,
    action: str,
    source: str,
    areas: list[str],
) -> VillageAssignment | Supervision | None:
    """Close the target's open spell at ``at`` (``end_reason``) and, with a ``successor``, open
    theirs at ``at``; publish the record. None when nothing changes (the successor already
    holds it, or nothing is open and no successor is named)."""
    version = await _lock_target(conn, kind, target)
    current = await open_spell(conn, kind, target)
    if current is not None and current.person_id == successor:
        return None
    if current is None and successor is None:
        return None
    if current is not None:
        await conn.execute(
            "UPDATE staff_spells SET until = $2, end_reason = $3 WHERE id = $1",
            current.assignment_id,
            at,
            (EndReason.REASSIGNED if successor else end_reason).value,
        )
    if successor is not None:
        await conn.execute(
            "INSERT INTO staff_spells (id, kind, target, district, person_id, since) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            uuid.uuid4(),
            kind,
            target,
            district,
            successor,
            at,
        )
    version += 1
    await conn.execute(
        "UPDATE staff_assignment_records SET version = $3 WHERE kind = $1 AND target = $2",
        kind,
        target,
        version,
    )
    now = await conn.fetchval("SELECT now()")
    record = _record(kind, target, await spells(conn, kind, target), version, now)
    await _audit(conn, actor=actor, action=action, record=record, areas=areas, changed=["spells"])
    await _publish(conn, record, source)
    return record


async def open_spells_of(conn: Connection, person_id: UUID) -> list[tuple[Kind, str, str]]:
    """(kind, target, district) of every spell the person holds, and of their own supervision
    (as the facilitator supervised)."""
    rows = await conn.fetch(
        "SELECT kind, target, district FROM staff_spells WHERE until IS NULL "
        "AND (person_id = $1 OR (kind = 'supervision' AND target = $2)) ORDER BY kind, target",
        person_id,
        str(person_id),
    )
    return [(r["kind"], r["target"], r["district"]) for r in rows]


async def held_villages(conn: Connection, person_id: UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT target FROM staff_spells WHERE kind = 'village' AND person_id = $1 "
        "AND until IS NULL ORDER BY target",
        person_id,
    )
    return [r["target"] for r in rows]


async def supervisees(conn: Connection, person_id: UUID) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT target FROM staff_spells WHERE kind = 'supervision' AND person_id = $1 "
        "AND until IS NULL ORDER BY target",
        person_id,
    )
    return [UUID(r["target"]) for r in rows]


# --- district settings -------------------------------------------------------------------


async def district_settings(conn: Connection, district: str) -> DistrictStaffSettings | None:
    row = await conn.fetchrow(
        "SELECT district, separation_of_duties, version, updated_at "
        "FROM staff_district_settings WHERE district = $1",
        district,
    )
    return DistrictStaffSettings(**dict(row)) if row else None


async def save_district_settings(
    conn: Connection,
    district: str,
    separation_of_duties: bool | None,
    *,
    actor: str,
    source: str,
) -> DistrictStaffSettings:
    row = await conn.fetchrow(
        "INSERT INTO staff_district_settings (district, separation_of_duties, version, "
        "updated_by) VALUES ($1, $2, 1, $3) ON CONFLICT (district) DO UPDATE SET "
        "separation_of_duties = excluded.separation_of_duties, "
        "version = staff_district_settings.version + 1, updated_by = excluded.updated_by, "
        "updated_at = now() RETURNING district, separation_of_duties, version, updated_at",
        district,
        separation_of_duties,
        actor,
    )
    assert row is not None
    saved = DistrictStaffSettings(**dict(row))
    await _audit(
        conn,
        actor=actor,
        action="district_settings.changed",
        record=saved,
        areas=[district],
        changed=["separation_of_duties"],
    )
    await _publish(conn, saved, source)
    return saved


# --- audit -------------------------------------------------------------------------------


async def audit_rows(
    conn: Connection, *, area: str, record_key: str | None, limit: int
) -> list[dict[str, Any]]:
    """The directory's changes in ``area`` (rows any of whose areas lie in it, or cover it),
    newest first."""
    rows = await conn.fetch(
        "SELECT id, at, actor, action, record_key, changed, record FROM staff_audit "
        "WHERE EXISTS (SELECT 1 FROM unnest(areas) a "
        "              WHERE starts_with(a, $1) OR starts_with($1, a)) "
        "AND ($2::text IS NULL OR record_key = $2) ORDER BY id DESC LIMIT $3",
        area,
        record_key,
        limit,
    )
    return [
        {
            **dict(r),
            "changed": list(r["changed"]),
            "record": json.loads(r["record"]) if isinstance(r["record"], str) else r["record"],
        }
        for r in rows
    ]
