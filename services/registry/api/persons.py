"""Person and household lookups. Identity numbers and names travel in request bodies, never in
URLs (which end up in traces and proxy logs). Every person read is audit-logged."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from services.registry.api.deps import AuditLog, CurrentPrincipal, Pool, today
from services.registry.domain.identity import identity_warnings
from services.registry.store import persons
from slrt.auth import Action
from slrt.auth.api import authorize
from slrt.auth.policy import Decision, decide
from slrt.db import Connection
from slrt.places import normalise_code
from slrt.problems import Problem, field_error

router = APIRouter(prefix="/v1", tags=["persons"])

ComplaintId = Annotated[
    UUID | None, Query(description="the complaint this read is for (audit log)")
]


class Person(BaseModel):
    id: UUID
    nik: str
    kk_number: str
    name: str
    sex: Literal["male", "female"]
    birth_date: date
    relation: str
    disability: str | None
    school_status: str | None
    village_code: str
    household_id: UUID
    welfare_decile: int | None
    programs: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    """Data-quality warnings (the NIK disagrees with the record), codes only."""
    score: float | None = None
    """Name similarity (name searches only), 0–1."""


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nik: str | None = Field(default=None, pattern=r"^\d{16}$")
    kk_number: str | None = Field(default=None, pattern=r"^\d{16}$")
    complaint_id: UUID | None = None
    """The complaint this read is for (audit)."""

    @model_validator(mode="after")
    def _one_key(self) -> LookupRequest:
        if (self.nik is None) == (self.kk_number is None):
            raise ValueError("give exactly one of nik and kk_number")
        return self


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200)
    place_code: str = Field(description="province, regency, sub-district or village code")
    limit: int = Field(default=20, ge=1, le=100)
    complaint_id: UUID | None = None


class NeedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    need: str = Field(min_length=3, max_length=500, description="what the household needs")
    program_code: str | None = Field(default=None, description="a catalog program that covers it")
    individual_id: UUID | None = Field(default=None, description="the member who needs it")
    complaint_id: UUID | None = None


class Need(BaseModel):
    id: UUID
    need: str
    program_code: str | None
    individual_id: UUID | None
    complaint_id: UUID | None


class Household(BaseModel):
    id: UUID
    registry_ref: str
    village_code: str
    address: str
    welfare_decile: int | None
    members: list[Person]
    participation: list[dict[str, str | None]]
    needs: list[dict[str, str | None]]
    pmks: list[dict[str, str]]


_PEOPLE = TypeAdapter(list[Person])

_RECORD_FIELDS = [f for f in Person.model_fields if f not in ("programs", "warnings", "score")]
"""The person's fields as the row has them (programs, warnings and score are given apart)."""


def _person(row: asyncpg.Record, programs: list[str], today: date) -> Person:
    warnings = identity_warnings(
        nik=row["nik"],
        kk_number=row["kk_number"],
        birth_date=row["birth_date"],
        sex=row["sex"],
        village_code=row["village_code"],
        today=today,
    )
    fields = {k: row[k] for k in _RECORD_FIELDS if k in row.keys()}  # noqa: SIM118
    return Person(**fields, programs=list(programs), warnings=[str(w) for w in warnings])


def _visible(
    principal: CurrentPrincipal, action: Action, rows: list[asyncpg.Record]
) -> list[asyncpg.Record]:
    return [
        r for r in rows if decide(principal, action, place_code=r["village_code"]) is Decision.ALLOW
    ]


@router.post("/persons/lookup", response_model=list[Person])
async def lookup(
    body: LookupRequest, principal: CurrentPrincipal, pool: Pool, audit: AuditLog
) -> Response:
    """People by NIK (one) or by KK number (the family). 404 when none is in your area.

    One statement reads the people with their programs; the audit rows are committed (group
    commit, ``services.registry.audit_log``) before the answer leaves."""
    authorize(principal, Action.PERSON_READ)
    if body.nik is not None:
        found = await persons.by_nik(pool, body.nik)
        rows = [found] if found else []
    else:
        rows = await persons.by_kk(pool, body.kk_number or "")
    rows = _visible(principal, Action.PERSON_READ, rows)
    if not rows:
        raise Problem(404, "not-found", "No such person in the registry")
    result = [_person(r, r["programs"], today()) for r in rows]
    await audit.record(
        actor=principal.subject,
        action="person_lookup",
        reads=[(r["id"], r["household_id"]) for r in rows],
        complaint_id=body.complaint_id,
    )
    # Serialised once here (``response_model`` documents it): FastAPI would validate the
    # models it was given again before serialising them.
    return Response(_PEOPLE.dump_json(result, by_alias=True), media_type="application/json")


@router.post("/persons/search", response_model=list[Person])
async def search(
    body: SearchRequest, principal: CurrentPrincipal, pool: Pool, audit: AuditLog
) -> list[Person]:
    """Name search within a place, ranked by similarity (typos and spelling variants)."""
    try:
        place = normalise_code(body.place_code)
    except ValueError:
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            errors=[field_error("place_code", "place_code", "2, 4, 6 or 10 digits")],
        ) from None
    authorize(principal, Action.PERSON_SEARCH, place_code=place, what="place")
    async with pool.acquire() as conn:
        rows = await persons.search_by_name(conn, body.name, place, limit=body.limit)
    result = [
        _person(r, r["programs"], today()).model_copy(update={"score": round(float(r["score"]), 4)})
        for r in rows
    ]
    await audit.record(
        actor=principal.subject,
        action="person_search",
        reads=[(r["id"], r["household_id"]) for r in rows],
        complaint_id=body.complaint_id,
    )
    return result


@router.get("/persons/{individual_id}", response_model=Person)
async def person(
    individual_id: UUID,
    principal: CurrentPrincipal,
    pool: Pool,
    audit: AuditLog,
    complaint_id: ComplaintId = None,
) -> Person:
    row = await persons.by_id(pool, individual_id)
    if row is None:
        raise Problem(404, "not-found", "No such person in the registry")
    authorize(principal, Action.PERSON_READ, place_code=row["village_code"], what="person")
    await audit.record(
        actor=principal.subject,
        action="person_read",
        reads=[(row["id"], row["household_id"])],
        complaint_id=complaint_id,
    )
    return _person(row, row["programs"], today())


@router.get("/households/{household_id}", response_model=Household)
async def household(
    household_id: UUID,
    principal: CurrentPrincipal,
    pool: Pool,
    audit: AuditLog,
    complaint_id: ComplaintId = None,
) -> Household:
    """A household with its members, program participation, recorded needs and PMKS flags."""
    async with pool.acquire() as conn, conn.transaction():
        row = await persons.household(conn, household_id)
        if row is None:
            raise Problem(404, "not-found", "No such household in the registry")
        authorize(principal, Action.PERSON_READ, place_code=row["village_code"], what="household")
        member_rows = await persons.members(conn, household_id)
        participation = await persons.participation(conn, household_id)
        needs = await persons.needs(conn, household_id)
        pmks = await persons.pmks(conn, household_id)
        members = [
            _person(
                m,
                sorted(
                    {
                        p["program_code"]
                        for p in participation
                        if p["individual_id"] in (None, m["id"])
                    }
                ),
                today(),
            )
            for m in member_rows
        ]
    await audit.record(
        actor=principal.subject,
        action="household_read",
        reads=[(m["id"], household_id) for m in member_rows] or [(None, household_id)],
        complaint_id=complaint_id,
    )
    return Household(
        id=row["id"],
        registry_ref=row["registry_ref"],
        village_code=row["village_code"],
        address=row["address"],
        welfare_decile=row["welfare_decile"],
        members=members,
        participation=[
            {
                "individual_id": str(p["individual_id"]) if p["individual_id"] else None,
                "program_code": p["program_code"],
                "period": p["period"],
            }
            for p in participation
        ],
        needs=[
            {
                "need": n["need"],
                "program_code": n["program_code"],
                "individual_id": str(n["individual_id"]) if n["individual_id"] else None,
                "complaint_id": str(n["complaint_id"]) if n["complaint_id"] else None,
                "closed_at": n["closed_at"].isoformat() if n["closed_at"] else None,
            }
            for n in needs
        ],
        pmks=[{"individual_id": str(p["individual_id"]), "kind": p["kind"]} for p in pmks],
    )


async def need_in(
    conn: Connection, household_id: UUID, body: NeedIn, principal: CurrentPrincipal
) -> UUID:
    """Check and record one need (the route and the tablet batch); raises the problem of a bad
    one."""
    row = await persons.household(conn, household_id)
    if row is None:
        raise Problem(404, "not-found", "No such household in the registry")
    authorize(principal, Action.PROPOSAL_SUBMIT, place_code=row["village_code"], what="household")
    errors = []
    if body.program_code is not None and not await conn.fetchval(
        "SELECT 1 FROM programs WHERE code = $1", body.program_code
    ):
        errors.append(field_error("program_code", "known_program", "not in the catalog"))
    if body.individual_id is not None and not await conn.fetchval(
        "SELECT 1 FROM individuals WHERE id = $1 AND household_id = $2",
        body.individual_id,
        household_id,
    ):
        errors.append(field_error("individual_id", "member", "not a household member"))
    if errors:
        raise Problem(422, "invalid-request", "The request is not valid", errors=errors)
    return await persons.record_need(
        conn,
        household_id=household_id,
        individual_id=body.individual_id,
        need=body.need,
        program_code=body.program_code,
        complaint_id=body.complaint_id,
        recorded_by=principal.subject,
    )


@router.post("/households/{household_id}/needs", response_model=Need, status_code=201)
async def record_need(
    household_id: UUID, body: NeedIn, principal: CurrentPrincipal, pool: Pool
) -> Need:
    """Record a program need (kebutuhan program) found on a visit or at the Puskesos."""
    async with pool.acquire() as conn, conn.transaction():
        need_id = await need_in(conn, household_id, body, principal)
    return Need(id=need_id, **body.model_dump())
