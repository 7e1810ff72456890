"""The staff directory (``/v1/staff``): persons, facilitators' villages, supervisors'
facilitators, districts' settings, and the audit of every change.

Administrators manage the staff of their level (``services.registry.domain.staff``); every
change is audited and published on ``slrt.staff.directory`` (``slrt.contracts.staff``).
Ending an assignment or a person publishes the change, so the services holding tasks hand
them over. Names, phones and emails appear in answers only, never in logs or errors.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from services.registry.api.deps import SOURCE, CurrentPrincipal, Pool
from services.registry.domain.staff import (
    PersonSpec,
    assignment_errors,
    may_manage,
    may_manage_place,
    may_read,
    person_errors,
    supervision_errors,
)
from services.registry.store import staff as store
from slrt.auth.principal import Principal, Role
from slrt.contracts.staff import (
    DistrictStaffSettings,
    EndReason,
    StaffPerson,
    Supervision,
    VillageAssignment,
    person_key,
    supervision_key,
    village_key,
)
from slrt.db import Connection
from slrt.deps import Clock
from slrt.errors import Conflict, Invalid, NotFound, Refused, field_error

router = APIRouter(prefix="/v1/staff", tags=["staff directory"])

VILLAGE = Path(pattern=r"^\d{10}$", description="village (desa/kelurahan) code")
DISTRICT = Path(pattern=r"^\d{4}$", description="district (kabupaten/kota) code")
AREA = r"^(\d{2}|\d{4}|\d{6}|\d{10})$"


class Person(StaffPerson):
    """A person as the directory keeps them, with what they hold now."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    villages: list[str] = Field(default_factory=list)
    """The villages they are the facilitator of now."""
    supervisees: list[UUID] = Field(default_factory=list)
    """The facilitators they supervise now."""


class PersonEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = Field(default=None, description="when they leave (default: now)")
    successor_id: UUID | None = Field(
        default=None,
        description="who takes over their villages (facilitator) or facilitators (supervisor)",
    )


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: UUID
    since: datetime | None = Field(default=None, description="from when (default: now)")


class AssignmentEnd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = Field(default=None, description="when it ends (default: now)")


class DistrictSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    separation_of_duties: bool | None = Field(
        description="one person may not propose and approve the same referral; null: the "
        "deployment's default"
    )


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    record_key: str
    changed: list[str]
    record: dict[str, Any]


def _invalid(errors: list[Any]) -> Invalid:
    return Invalid("One or more fields break a rule; see errors.", errors=errors)


def _must_manage(principal: Principal, roles: list[Role], areas: list[str]) -> None:
    if Role.ADMINISTRATOR not in principal.roles:
        raise Refused("only administrators manage the staff directory")
    if not may_manage(principal, roles, areas):
        raise Refused("this person's areas are not at your level or outside your area")


def _must_manage_place(principal: Principal, place_code: str) -> None:
    if not may_manage_place(principal, place_code):
        raise Refused("only the administrator of this district manages its assignments")


async def _with_holdings(conn: Connection, person: StaffPerson) -> Person:
    return Person(
        **person.model_dump(),
        villages=await store.held_villages(conn, person.person_id),
        supervisees=await store.supervisees(conn, person.person_id),
    )


async def _readable_person(conn: Connection, principal: Principal, person_id: UUID) -> StaffPerson:
    person = await store.get_person(conn, person_id)
    if person is None or not (
        may_read(principal, person.areas) or person.subject == principal.subject
    ):
        raise NotFound(title="No such person")
    return person


async def _check_person(
    conn: Connection, spec: PersonSpec, person_id: UUID | None, principal: Principal
) -> None:
    errors = person_errors(spec)
    if errors:
        raise _invalid(errors)
    _must_manage(principal, spec.roles, spec.areas)
    if spec.subject is not None and await store.subject_taken(conn, spec.subject, person_id):
        raise Conflict(
            "another person of the directory signs in as this subject",
            errors=[field_error("subject", "unique", "another person has this subject")],
        )


@router.post("/persons", response_model=Person, status_code=201, summary="Add a person")
async def create_person(
    spec: PersonSpec, principal: CurrentPrincipal, pool: Pool, clock: Clock
) -> Person:
    person_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await _check_person(conn, spec, None, principal)
        saved, _ = await store.save_person(
            conn,
            person_id,
            spec,
            active_from=spec.active_from or clock(),
            active_until=None,
            actor=principal.subject,
            action="person.created",
            source=SOURCE,
        )
        return await _with_holdings(conn, saved)


@router.get("/persons", response_model=list[Person], summary="The staff of an area")
async def list_persons(
    principal: CurrentPrincipal,
    pool: Pool,
    clock: Clock,
    area: Annotated[str | None, Query(pattern=AREA)] = None,
    role: Role | None = None,
    active: Annotated[bool, Query(description="only persons active now")] = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Person]:
    chosen = principal.area if area is None else area
    if not may_read(principal, [chosen]) or not chosen.startswith(principal.area):
        raise Refused("you may read the staff of your own area only")
    async with pool.acquire() as conn:
        found = await store.list_persons(
            conn, area=chosen, role=role, active_at=clock() if active else None, limit=limit
        )
        return [await _with_holdings(conn, p) for p in found]


@router.get("/me", response_model=Person, summary="The caller's own record")
async def me(principal: CurrentPrincipal, pool: Pool) -> Person:
    async with pool.acquire() as conn:
        person = await store.person_by_subject(conn, principal.subject)
        if person is None:
            raise NotFound(title="No such person", detail="the directory has no one of your sub")
        return await _with_holdings(conn, person)


@router.get("/persons/{person_id}", response_model=Person)
async def read_person(principal: CurrentPrincipal, pool: Pool, person_id: UUID) -> Person:
    async with pool.acquire() as conn:
        return await _with_holdings(conn, await _readable_person(conn, principal, person_id))


@router.put("/persons/{person_id}", response_model=Person, summary="Change a person")
async def replace_person(
    spec: PersonSpec, principal: CurrentPrincipal, pool: Pool, person_id: UUID
) -> Person:
    """Replace what the directory says about a person (their period ends through ``/end``).
    The administrator must manage the person both as they were and as they will be."""
    async with pool.acquire() as conn, conn.transaction():
        current = await store.get_person(conn, person_id, for_update=True)
        if current is None or not may_read(principal, current.areas):
            raise NotFound(title="No such person")
        _must_manage(principal, current.roles, current.areas)
        await _check_person(conn, spec, person_id, principal)
        if current.active_until is not None:
            raise Conflict("this person has left the directory; add them again")
        held = await store.held_villages(conn, person_id)
        if held and Role.FACILITATOR not in spec.roles:
            raise Conflict(
                "end their village assignments before taking the facilitator role away",
                errors=[field_error("roles", "holds_villages", "the person holds villages")],
            )
        outside = [v for v in held if not any(v.startswith(a) for a in spec.areas)]
        if outside:
            raise Conflict(
                "end the assignments of villages outside the new areas first",
                errors=[field_error("areas", "holds_villages", "a held village falls outside")],
            )
        saved, _ = await store.save_person(
            conn,
            person_id,
            spec,
            active_from=spec.active_from or current.active_from,
            active_until=None,
            actor=principal.subject,
            action="person.changed",
            source=SOURCE,
        )
        return await _with_holdings(conn, saved)


@router.post("/persons/{person_id}/end", response_model=Person, summary="A person leaves")
async def end_person(
    body: PersonEnd, principal: CurrentPrincipal, pool: Pool, clock: Clock, person_id: UUID
) -> Person:
    """The person leaves at ``at``: every village they hold goes to ``successor_id`` when named
    (a facilitator who may take it), else is left unassigned (the supervisor's queue); the
    facilitators they supervise go to the successor (a supervisor), else are left without one;
    their own supervision ends. Every changed record is published."""
    at = body.at or clock()
    async with pool.acquire() as conn, conn.transaction():
        person = await store.get_person(conn, person_id, for_update=True)
        if person is None or not may_read(principal, person.areas):
            raise NotFound(title="No such person")
        _must_manage(principal, person.roles, person.areas)
        if person.active_until is not None:
            raise Conflict("this person has already left")
        if at < person.active_from:
            raise _invalid([field_error("at", "before_start", "before the person started")])
        successor = await _successor(conn, principal, body.successor_id, person_id, at)
        for kind, target, district in await store.open_spells_of(conn, person_id):
            own_supervision = kind == "supervision" and target == str(person_id)
            takes_over = None if own_supervision else successor
            if takes_over is not None:
                errors = (
                    assignment_errors(target, takes_over, at)
                    if kind == "village"
                    else supervision_errors(await _existing(conn, UUID(target)), takes_over, at)
                )
                if errors:
                    raise _invalid([{**e, "field": f"successor_id ({e['field']})"} for e in errors])
            await store.change_assignment(
                conn,
                kind,
                target,
                district=district,
                successor=takes_over.person_id if takes_over else None,
                at=at,
                end_reason=EndReason.PERSON_ENDED,
                actor=principal.subject,
                action=f"{kind}.person_ended",
                source=SOURCE,
                areas=[district],
            )
        ended = await store.set_active_until(
            conn, person, at, actor=principal.subject, source=SOURCE
        )
        return await _with_holdings(conn, ended)


async def _existing(conn: Connection, person_id: UUID) -> StaffPerson:
    person = await store.get_person(conn, person_id)
    if person is None:
        raise NotFound(title="No such person")
    return person


async def _successor(
    conn: Connection,
    principal: Principal,
    successor_id: UUID | None,
    leaving: UUID,
    at: datetime,
) -> StaffPerson | None:
    if successor_id is None:
        return None
    if successor_id == leaving:
        raise _invalid([field_error("successor_id", "not_self", "the successor is the person")])
    successor = await store.get_person(conn, successor_id)
    if successor is None or not may_read(principal, successor.areas):
        raise _invalid([field_error("successor_id", "unknown_person", "no such person")])
    if not successor.active_at(at):
        raise _invalid([field_error("successor_id", "not_active", "not active then")])
    return successor


# --- villages ------------------------------------------------------------------------------


def _village_out(record: VillageAssignment | Supervision | None) -> VillageAssignment:
    assert isinstance(record, VillageAssignment)
    return record


@router.get(
    "/villages/{village_code}",
    response_model=VillageAssignment,
    summary="A village's facilitators, now and before",
)
async def village_history(
    principal: CurrentPrincipal, pool: Pool, village_code: str = VILLAGE
) -> VillageAssignment:
    if not may_read(principal, [village_code]) or not principal.covers(village_code):
        raise NotFound(title="No such village")
    async with pool.acquire() as conn:
        record = await store.assignment_record(conn, "village", village_code)
    if record is None:
        raise NotFound(title="No assignment", detail="the village has never had a facilitator")
    return _village_out(record)


@router.put(
    "/villages/{village_code}/facilitator",
    response_model=VillageAssignment,
    summary="Assign the village's facilitator (the previous one's spell ends)",
)
async def assign_village(
    body: Assign,
    principal: CurrentPrincipal,
    pool: Pool,
    clock: Clock,
    village_code: str = VILLAGE,
) -> VillageAssignment:
    _must_manage_place(principal, village_code)
    at = body.since or clock()
    async with pool.acquire() as conn, conn.transaction():
        facilitator = await _named_person(conn, principal, body.person_id)
        record = await _assign(
            conn,
            principal,
            "village",
            village_code,
            district=village_code[:4],
            areas=[village_code],
            holder=facilitator,
            at=at,
            errors=assignment_errors(village_code, facilitator, at),
        )
        return _village_out(record)


async def _named_person(conn: Connection, principal: Principal, person_id: UUID) -> StaffPerson:
    """The person a body names (``person_id``), if the caller may see them."""
    person = await store.get_person(conn, person_id)
    if person is None or not may_read(principal, person.areas):
        raise _invalid([field_error("person_id", "unknown_person", "no such person")])
    return person


async def _assign(
    conn: Connection,
    principal: Principal,
    kind: store.Kind,
    target: str,
    *,
    district: str,
    areas: list[str],
    holder: StaffPerson,
    at: datetime,
    errors: list[Any],
) -> VillageAssignment | Supervision | None:
    """``holder`` takes ``target`` (a village, a facilitator's supervision) from ``at``; the
    previous spell ends (``reassigned``). Raises 422 with ``errors`` and any spell ``at`` comes
    before."""
    await _not_before_current(conn, kind, target, at, "since", errors)
    if errors:
        raise _invalid(errors)
    record = await store.change_assignment(
        conn,
        kind,
        target,
        district=district,
        successor=holder.person_id,
        at=at,
        end_reason=EndReason.REASSIGNED,
        actor=principal.subject,
        action=f"{kind}.assigned",
        source=SOURCE,
        areas=areas,
    )
    if record is None:
        record = await store.assignment_record(conn, kind, target)
    return record


async def _unassign(
    conn: Connection,
    principal: Principal,
    kind: store.Kind,
    target: str,
    *,
    district: str,
    areas: list[str],
    at: datetime,
) -> VillageAssignment | Supervision | None:
    """No one holds ``target`` from ``at`` (``unassigned``); None when no one held it."""
    errors: list[Any] = []
    await _not_before_current(conn, kind, target, at, "at", errors)
    if errors:
        raise _invalid(errors)
    return await store.change_assignment(
        conn,
        kind,
        target,
        district=district,
        successor=None,
        at=at,
        end_reason=EndReason.UNASSIGNED,
        actor=principal.subject,
        action=f"{kind}.unassigned",
        source=SOURCE,
        areas=areas,
    )


async def _not_before_current(
    conn: Connection, kind: store.Kind, target: str, at: datetime, field: str, errors: list[Any]
) -> None:
    history = await store.spells(conn, kind, target)
    if not history:
        return
    last = history[-1]
    if at < last.since or (last.until is not None and at < last.until):
        errors.append(field_error(field, "before_current_spell", "before the latest spell's"))


@router.post(
    "/villages/{village_code}/facilitator/end",
    response_model=VillageAssignment,
    summary="End the village's assignment (no one holds it until the next)",
)
async def end_village(
    body: AssignmentEnd,
    principal: CurrentPrincipal,
    pool: Pool,
    clock: Clock,
    village_code: str = VILLAGE,
) -> VillageAssignment:
    _must_manage_place(principal, village_code)
    at = body.at or clock()
    async with pool.acquire() as conn, conn.transaction():
        record = await _unassign(
            conn,
            principal,
            "village",
            village_code,
            district=village_code[:4],
            areas=[village_code],
            at=at,
        )
    if record is None:
        raise Conflict("no one holds this village's assignment")
    return _village_out(record)


# --- supervision ---------------------------------------------------------------------------


def _supervision_out(record: VillageAssignment | Supervision | None) -> Supervision:
    assert isinstance(record, Supervision)
    return record


async def _facilitator_for_admin(
    conn: Connection, principal: Principal, facilitator_id: UUID
) -> StaffPerson:
    facilitator = await store.get_person(conn, facilitator_id)
    if facilitator is None or not may_read(principal, facilitator.areas):
        raise NotFound(title="No such person")
    return facilitator


@router.get(
    "/facilitators/{facilitator_id}/supervision",
    response_model=Supervision,
    summary="A facilitator's supervisors, now and before",
)
async def supervision_history(
    principal: CurrentPrincipal, pool: Pool, facilitator_id: UUID
) -> Supervision:
    async with pool.acquire() as conn:
        await _readable_person(conn, principal, facilitator_id)
        record = await store.assignment_record(conn, "supervision", str(facilitator_id))
    if record is None:
        raise NotFound(title="No assignment", detail="the facilitator has never had a supervisor")
    return _supervision_out(record)


@router.put(
    "/facilitators/{facilitator_id}/supervisor",
    response_model=Supervision,
    summary="Assign a facilitator's supervisor",
)
async def assign_supervisor(
    body: Assign, principal: CurrentPrincipal, pool: Pool, clock: Clock, facilitator_id: UUID
) -> Supervision:
    at = body.since or clock()
    async with pool.acquire() as conn, conn.transaction():
        facilitator = await _facilitator_for_admin(conn, principal, facilitator_id)
        _must_manage(principal, facilitator.roles, facilitator.areas)
        supervisor = await _named_person(conn, principal, body.person_id)
        record = await _assign(
            conn,
            principal,
            "supervision",
            str(facilitator_id),
            district=facilitator.areas[0][:4],
            areas=facilitator.areas,
            holder=supervisor,
            at=at,
            errors=supervision_errors(facilitator, supervisor, at),
        )
        return _supervision_out(record)


@router.post(
    "/facilitators/{facilitator_id}/supervisor/end",
    response_model=Supervision,
    summary="End a facilitator's supervision",
)
async def end_supervision(
    body: AssignmentEnd,
    principal: CurrentPrincipal,
    pool: Pool,
    clock: Clock,
    facilitator_id: UUID,
) -> Supervision:
    at = body.at or clock()
    async with pool.acquire() as conn, conn.transaction():
        facilitator = await _facilitator_for_admin(conn, principal, facilitator_id)
        _must_manage(principal, facilitator.roles, facilitator.areas)
        record = await _unassign(
            conn,
            principal,
            "supervision",
            str(facilitator_id),
            district=facilitator.areas[0][:4],
            areas=facilitator.areas,
            at=at,
        )
    if record is None:
        raise Conflict("this facilitator has no supervisor")
    return _supervision_out(record)


# --- district settings ---------------------------------------------------------------------


@router.get("/districts/{district}/settings", response_model=DistrictStaffSettings)
async def read_district_settings(
    principal: CurrentPrincipal, pool: Pool, district: str = DISTRICT
) -> DistrictStaffSettings:
    if not may_read(principal, [district]):
        raise NotFound(title="No such district")
    async with pool.acquire() as conn:
        found = await store.district_settings(conn, district)
    if found is None:
        raise NotFound(title="No settings", detail="the district uses the deployment's defaults")
    return found


@router.put("/districts/{district}/settings", response_model=DistrictStaffSettings)
async def put_district_settings(
    body: DistrictSettings, principal: CurrentPrincipal, pool: Pool, district: str = DISTRICT
) -> DistrictStaffSettings:
    _must_manage_place(principal, district)
    async with pool.acquire() as conn, conn.transaction():
        current = await store.district_settings(conn, district)
        if current is not None and current.separation_of_duties == body.separation_of_duties:
            return current
        return await store.save_district_settings(
            conn, district, body.separation_of_duties, actor=principal.subject, source=SOURCE
        )


# --- audit ---------------------------------------------------------------------------------


@router.get("/audit", response_model=list[AuditEntry], summary="Every change of the directory")
async def audit(
    principal: CurrentPrincipal,
    pool: Pool,
    area: Annotated[str | None, Query(pattern=AREA)] = None,
    person_id: UUID | None = None,
    village_code: Annotated[str | None, Query(pattern=r"^\d{10}$")] = None,
    facilitator_id: UUID | None = None,
    district: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditEntry]:
    """The administrators' view of who changed what in the directory of their area, newest
    first; narrowed to one record by ``person_id``, ``village_code``, ``facilitator_id`` (its
    supervision) or ``district`` (its settings)."""
    if Role.ADMINISTRATOR not in principal.roles:
        raise Refused("only administrators read the directory's audit")
    chosen = principal.area if area is None else area
    if not chosen.startswith(principal.area):
        raise Refused("you may read the audit of your own area only")
    keys = [
        key
        for key in (
            person_key(person_id) if person_id else None,
            village_key(village_code) if village_code else None,
            supervision_key(facilitator_id) if facilitator_id else None,
            f"district:{district}" if district else None,
        )
        if key
    ]
    if len(keys) > 1:
        raise _invalid([field_error("person_id", "one_record", "name at most one record")])
    async with pool.acquire() as conn:
        rows = await store.audit_rows(
            conn, area=chosen, record_key=keys[0] if keys else None, limit=limit
        )
    return [AuditEntry(**r) for r in rows]
