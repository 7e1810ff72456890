"""Program information at the front office (``/v1/program-info``): the district's FAQ (kept by
the administrator) and each program's information with its eligibility criteria (kept by the
program's manager, or the district manager), versioned and searchable; and the eligibility
check of a registry household ("may qualify for", never a decision)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from services.registry.api.deps import SOURCE, CurrentPrincipal, Pool, today
from services.registry.domain.program_info import (
    NOT_A_DECISION,
    PROGRAM_CODE_PATTERN,
    FaqSpec,
    ProgramInfoSpec,
    may_qualify_for,
)
from services.registry.store import catalog, persons
from services.registry.store import program_info as store
from services.registry.store.program_info import StoredEntry
from slrt.auth import Action
from slrt.auth.api import authorize
from slrt.auth.principal import Principal
from slrt.errors import Conflict, Invalid, NotFound, field_error

router = APIRouter(tags=["program information"])

DISTRICT = r"^\d{4}$"
Kind = Literal["faq", "program"]


class Entry(BaseModel):
    id: UUID
    kind: Kind
    district: str
    program_code: str | None
    topic: str
    title: str
    version: int
    body: dict[str, Any]
    """The FAQ's ``topic``/``question``/``answer`` or the program's information and criteria."""
    updated_by: str
    updated_at: datetime


class EntryVersion(BaseModel):
    version: int
    topic: str
    title: str
    body: dict[str, Any]
    changed_by: str
    changed_at: datetime


class SearchHit(Entry):
    rank: float
    excerpt: str


class SearchPage(BaseModel):
    district: str
    query: str
    items: list[SearchHit]


class NewFaq(FaqSpec):
    district: str = Field(pattern=DISTRICT, description="the district (kabupaten/kota) code")


class FaqEdit(FaqSpec):
    base_version: int = Field(ge=1, description="the version this edit was made from")


class ProgramInfoEdit(ProgramInfoSpec):
    base_version: int | None = Field(
        default=None, ge=1, description="the version this edit was made from (absent: new)"
    )


class Assessed(BaseModel):
    program_code: str
    entry_id: UUID
    entry_version: int
    met: list[str]
    to_check: list[str]
    """Criteria the registry cannot tell: ask the household."""


class Eligibility(BaseModel):
    household_id: UUID
    checked_on: date
    may_qualify_for: list[Assessed]
    note: str = NOT_A_DECISION


def _out(e: StoredEntry) -> Entry:
    return Entry(
        id=e.id,
        kind=e.kind,
        district=e.district,
        program_code=e.program_code,
        topic=e.topic,
        title=e.title,
        version=e.version,
        body=e.body,
        updated_by=e.updated_by,
        updated_at=e.updated_at,
    )


def _district_of(principal: Principal, district: str | None) -> str:
    """The district asked for, else the caller's own (a district-or-below caller)."""
    if district is not None:
        return district
    if len(principal.area) >= 4:
        return principal.area[:4]
    raise Invalid(
        errors=[
            field_error("district", "required", "a province or national caller names the district")
        ]
    )


def _read_place(principal: Principal, district: str) -> str:
    """Where a read is judged: a village or sub-district caller reads their own district."""
    return principal.area if principal.area.startswith(district) else district


def _may_read(principal: Principal, entry: StoredEntry) -> None:
    authorize(
        principal,
        Action.PROGRAM_INFO_READ,
        place_code=_read_place(principal, entry.district),
        program=entry.program_code,
        what="entry",
    )


async def _entry_or_404(pool: Any, entry_id: UUID, principal: Principal) -> StoredEntry:
    async with pool.acquire() as conn:
        entry = await store.get(conn, entry_id)
    if entry is None:
        raise NotFound(title="No such entry")
    _may_read(principal, entry)
    return entry


@router.get("/v1/program-info", response_model=list[Entry], summary="The district's entries")
async def list_entries(
    principal: CurrentPrincipal,
    pool: Pool,
    district: Annotated[str | None, Query(pattern=DISTRICT)] = None,
    kind: Kind | None = None,
) -> list[Entry]:
    district = _district_of(principal, district)
    authorize(principal, Action.PROGRAM_INFO_READ, place_code=_read_place(principal, district))
    async with pool.acquire() as conn:
        rows = await store.list_entries(conn, district, kind)
    return [_out(store.stored(r)) for r in rows]


@router.get(
    "/v1/program-info/search",
    response_model=SearchPage,
    summary="Front office: find the FAQ or program information that answers a question",
)
async def search_entries(
    principal: CurrentPrincipal,
    pool: Pool,
    q: Annotated[str, Query(min_length=2, max_length=200, description="the question")],
    district: Annotated[str | None, Query(pattern=DISTRICT)] = None,
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchPage:
    """Full-text search (PostgreSQL 'simple' configuration: Bahasa Indonesia has no built-in
    one) over every field of the district's current entries, plus trigram word similarity
    so affixed or misspelt words still find them; best first."""
    district = _district_of(principal, district)
    authorize(principal, Action.PROGRAM_INFO_READ, place_code=_read_place(principal, district))
    async with pool.acquire() as conn:
        rows = await store.search(conn, district, q, kind=kind, limit=limit)
    items = [
        SearchHit(**_out(store.stored(r)).model_dump(), rank=float(r["rank"]), excerpt=r["excerpt"])
        for r in rows
    ]
    return SearchPage(district=district, query=q, items=items)


@router.get("/v1/program-info/entries/{entry_id}", response_model=Entry)
async def read_entry(principal: CurrentPrincipal, pool: Pool, entry_id: UUID) -> Entry:
    return _out(await _entry_or_404(pool, entry_id, principal))


@router.get("/v1/program-info/entries/{entry_id}/versions", response_model=list[EntryVersion])
async def entry_versions(
    principal: CurrentPrincipal, pool: Pool, entry_id: UUID
) -> list[EntryVersion]:
    """Every version, oldest first: who changed what, when."""
    await _entry_or_404(pool, entry_id, principal)
    async with pool.acquire() as conn:
        rows = await store.versions(conn, entry_id)
    return [EntryVersion(**dict(r)) for r in rows]


@router.get("/v1/program-info/entries/{entry_id}/versions/{version}", response_model=EntryVersion)
async def entry_version(
    principal: CurrentPrincipal,
    pool: Pool,
    entry_id: UUID,
    version: Annotated[int, Path(ge=1)],
) -> EntryVersion:
    await _entry_or_404(pool, entry_id, principal)
    async with pool.acquire() as conn:
        row = await store.version(conn, entry_id, version)
    if row is None:
        raise NotFound(title="No such version")
    return EntryVersion(**dict(row))


@router.post(
    "/v1/program-info/faq",
    response_model=Entry,
    status_code=201,
    summary="Administrator: add an FAQ entry",
)
async def create_faq(body: NewFaq, principal: CurrentPrincipal, pool: Pool) -> Entry:
    authorize(principal, Action.FAQ_EDIT, place_code=body.district, what="district")
    spec = FaqSpec(topic=body.topic, question=body.question, answer=body.answer)
    async with pool.acquire() as conn, conn.transaction():
        saved = await store.save(
            conn,
            current=None,
            kind="faq",
            district=body.district,
            program_code=None,
            topic=spec.topic,
            title=spec.question,
            body=spec,
            changed_by=principal.subject,
            source=SOURCE,
        )
    return _out(saved)


def _stale(current: StoredEntry, base: int | None) -> None:
    if base != current.version:
        raise Conflict(
            f"the entry is at version {current.version}; edit that version",
            kind="stale-version",
            title="The entry changed since you read it",
            current_version=current.version,
        )


@router.put(
    "/v1/program-info/faq/{entry_id}",
    response_model=Entry,
    summary="Administrator: edit an FAQ entry (a new version)",
)
async def edit_faq(body: FaqEdit, principal: CurrentPrincipal, pool: Pool, entry_id: UUID) -> Entry:
    spec = FaqSpec(topic=body.topic, question=body.question, answer=body.answer)
    async with pool.acquire() as conn, conn.transaction():
        current = await store.get(conn, entry_id, for_update=True)
        if current is None or current.kind != "faq":
            raise NotFound(title="No such FAQ entry")
        _may_read(principal, current)
        authorize(principal, Action.FAQ_EDIT, place_code=current.district, what="entry")
        _stale(current, body.base_version)
        saved = await store.save(
            conn,
            current=current,
            kind="faq",
            district=current.district,
            program_code=None,
            topic=spec.topic,
            title=spec.question,
            body=spec,
            changed_by=principal.subject,
            source=SOURCE,
        )
    return _out(saved)


@router.put(
    "/v1/program-info/programs/{district}/{code}",
    response_model=Entry,
    summary="Program manager: a program's information and eligibility criteria (a new version)",
)
async def put_program_info(
    body: ProgramInfoEdit,
    principal: CurrentPrincipal,
    pool: Pool,
    response: Response,
    district: Annotated[str, Path(pattern=DISTRICT)],
    code: Annotated[str, Path(pattern=PROGRAM_CODE_PATTERN)],
) -> Entry:
    """Created with no ``base_version``; every later edit names the version it was made from
    (409 ``stale-version`` otherwise). Program managers keep their own programs' entries in
    the districts of their area; the district manager keeps any program's in the district."""
    authorize(
        principal, Action.PROGRAM_INFO_EDIT, place_code=district, program=code, what="program"
    )
    if not district.startswith(principal.area) and not principal.area.startswith(district):
        raise NotFound(title="No such program")
    spec = ProgramInfoSpec.model_validate(body.model_dump(exclude={"base_version"}))
    async with pool.acquire() as conn, conn.transaction():
        if await catalog.get(conn, code) is None:
            raise Invalid(
                errors=[field_error("code", "known_program", "the program is not in the catalog")]
            )
        current = await store.program_entry(conn, district, code, for_update=True)
        if current is not None:
            _stale(current, body.base_version)
        elif body.base_version is not None:
            raise Conflict(
                "the entry does not exist yet; create it without base_version",
                kind="stale-version",
                title="No such version",
            )
        saved = await store.save(
            conn,
            current=current,
            kind="program",
            district=district,
            program_code=code,
            topic=code,
            title=spec.title,
            body=spec,
            changed_by=principal.subject,
            source=SOURCE,
        )
    response.status_code = 201 if current is None else 200
    return _out(saved)


@router.get(
    "/v1/households/{household_id}/eligibility",
    response_model=Eligibility,
    summary="The programs a registry household may qualify for (a hint, never a decision)",
)
async def household_eligibility(
    principal: CurrentPrincipal,
    pool: Pool,
    household_id: UUID,
) -> Eligibility:
    """The household against the eligibility criteria its district keeps for each program:
    those with no criterion failing, each with what the registry cannot tell (``to_check``).
    Never a decision: each program verifies its own participants. The read is audited."""
    on = today()
    async with pool.acquire() as conn, conn.transaction():
        found = await store.household_facts(conn, household_id)
        if found is None:
            raise NotFound(title="No such household")
        village, household = found
        authorize(principal, Action.ELIGIBILITY_CHECK, place_code=village, what="household")
        programs = await store.district_criteria(conn, village[:4])
        await persons.audit(
            conn,
            actor=principal.subject,
            action="eligibility_check",
            reads=[(None, household_id)],
            complaint_id=None,
        )
    return Eligibility(
        household_id=household_id,
        checked_on=on,
        may_qualify_for=[
            Assessed(
                program_code=a.program_code,
                entry_id=a.entry_id,
                entry_version=a.entry_version,
                met=list(a.met),
                to_check=list(a.to_check),
            )
            for a in may_qualify_for(programs, household, on)
        ],
    )
