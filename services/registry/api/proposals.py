"""Pre-list entries, profile-change proposals, their review, and the SIKS-NG exchange."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from services.registry.api.deps import SOURCE, CurrentPrincipal, Pool, today
from services.registry.domain.proposals import (
    CHANGEABLE_FIELDS,
    ProposalStateError,
    check_change,
    check_person_numbers,
    missing_for_siks_ng,
)
from services.registry.domain.siks_ng import parse_results
from services.registry.store import persons, proposals
from services.registry.store.proposals import Kind, PrelistOutcome, ProposalNotFound
from slrt.auth import Action
from slrt.auth.api import authorize
from slrt.db import Connection
from slrt.problems import Problem, field_error

router = APIRouter(prefix="/v1", tags=["proposals"])


class PrelistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    village_code: str = Field(pattern=r"^\d{10}$")
    nik: str | None = Field(default=None, pattern=r"^\d{16}$")
    kk_number: str | None = Field(default=None, pattern=r"^\d{16}$")
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    address: str | None = Field(default=None, max_length=500)
    complaint_id: UUID | None = None
    ticket_number: str | None = None


class PrelistCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    nik: str | None = Field(default=None, pattern=r"^\d{16}$")
    kk_number: str | None = Field(default=None, pattern=r"^\d{16}$")
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    address: str | None = Field(default=None, max_length=500)


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    individual_id: UUID
    field: str = Field(description=f"one of {', '.join(CHANGEABLE_FIELDS)}")
    new_value: str = Field(max_length=200)
    evidence: str = Field(
        min_length=3, max_length=2000, description="what the facilitator saw (document, visit)"
    )
    complaint_id: UUID | None = None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "return"]
    note: str | None = Field(default=None, max_length=2000)


class Proposal(BaseModel):
    id: UUID
    kind: Kind
    status: str
    village_code: str
    complaint_id: UUID | None
    review_note: str | None
    reviewed_by: str | None
    batch_id: UUID | None
    result_reason: str | None
    created_by: str
    created_at: datetime
    details: dict[str, Any]
    """Pre-list: the person's fields; change: field, old and new value, evidence."""
    joins: list[dict[str, Any]] = Field(default_factory=list)
    """Pre-list: later requests for the same person that joined this entry (complaint, ticket,
    ``matched_by``, who, when)."""
    joined: bool = False
    """This request joined an existing pending entry instead of creating one."""
    matched_by: Literal["nik", "name_birth_date_village"] | None = None


class BatchOut(BaseModel):
    batch_id: UUID
    item_count: int


class ResultsSummary(BaseModel):
    applied: int
    errors: list[dict[str, str | int]]


_COMMON = {
    "id",
    "status",
    "village_code",
    "complaint_id",
    "review_note",
    "reviewed_by",
    "batch_id",
    "result_reason",
    "created_by",
    "created_at",
}
_PRIVATE = {"request_id", "reviewed_at", "household_id", "individual_id"}


def _out(kind: Kind, row: asyncpg.Record) -> Proposal:
    data = dict(row)
    details = {
        k: (v.isoformat() if isinstance(v, date) else v)
        for k, v in data.items()
        if k not in _COMMON | _PRIVATE
    }
    if kind == "prelist":
        details["household_id"] = str(data["household_id"]) if data["household_id"] else None
    else:
        for name in ("individual_id", "household_id", "target_household_id"):
            details[name] = str(data[name]) if data.get(name) else None
    return Proposal(kind=kind, details=details, **{k: data[k] for k in _COMMON})


async def _prelist_out(conn: Connection, rows: list[asyncpg.Record]) -> list[Proposal]:
    """Pre-list entries with the requests that joined them."""
    found = await proposals.joins(conn, [r["id"] for r in rows])
    return [_out("prelist", r).model_copy(update={"joins": found.get(r["id"], [])}) for r in rows]


def _numbers_problem(fields: list[str]) -> Problem:
    return Problem(
        422,
        "invalid-request",
        "The request is not valid",
        errors=[field_error(f, "identity_number", "not a valid number") for f in fields],
    )


async def prelist_in(
    conn: Connection, body: PrelistIn, principal: CurrentPrincipal
) -> PrelistOutcome:
    """Check and record one pre-list request (the route and the tablet batch); raises the
    problem of a bad one."""
    authorize(principal, Action.PROPOSAL_SUBMIT, place_code=body.village_code, what="village")
    if bad := check_person_numbers(body.nik, body.kk_number, today()):
        raise _numbers_problem(bad)
    if not await conn.fetchval(
        "SELECT 1 FROM places WHERE code = $1 AND level = 'village'", body.village_code
    ):
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            errors=[field_error("village_code", "known_village", "unknown village")],
        )
    return await proposals.create_or_join_prelist(
        conn, SOURCE, fields=body.model_dump(), created_by=principal.subject
    )


@router.post(
    "/prelist",
    response_model=Proposal,
    status_code=201,
    responses={200: {"description": "joined the pending entry of the same person"}},
)
async def create_prelist(
    body: PrelistIn, principal: CurrentPrincipal, pool: Pool, response: Response
) -> Proposal:
    """Record a person found outside DT-PPFM (daftar awal). A person who already has a pending
    entry (same NIK, or same name, birth date and village when the NIK is missing) gets no
    second one: the request joins the first (200, ``joined``; the entry lists its ``joins``)."""
    async with pool.acquire() as conn, conn.transaction():
        outcome = await prelist_in(conn, body, principal)
        await persons.audit_proposals(
            conn,
            actor=principal.subject,
            action="prelist_join" if outcome.matched_by else "prelist_create",
            rows=[outcome.row],
        )
        (out,) = await _prelist_out(conn, [outcome.row])
    if outcome.matched_by is not None:
        response.status_code = 200
        out = out.model_copy(update={"joined": True, "matched_by": outcome.matched_by})
    return out


@router.patch("/prelist/{entry_id}", response_model=Proposal)
async def correct_prelist(
    entry_id: UUID, body: PrelistCorrection, principal: CurrentPrincipal, pool: Pool
) -> Proposal:
    """Complete or correct an entry (e.g. after it was returned); it goes back to review."""
    if bad := check_person_numbers(body.nik, body.kk_number, today()):
        raise _numbers_problem(bad)
    async with pool.acquire() as conn, conn.transaction():
        row = await _get(conn, "prelist", entry_id)
        authorize(
            principal, Action.PROPOSAL_SUBMIT, place_code=row["village_code"], what="pre-list entry"
        )
        try:
            row = await proposals.correct_prelist(
                conn, SOURCE, row=row, fields=body.model_dump(exclude_unset=True)
            )
        except ProposalStateError as exc:
            raise Problem(409, "conflict", "The entry cannot be corrected now", str(exc)) from None
        await persons.audit_proposals(
            conn, actor=principal.subject, action="prelist_correct", rows=[row]
        )
    return _out("prelist", row)


async def change_in(
    conn: Connection, body: ChangeIn, principal: CurrentPrincipal
) -> tuple[asyncpg.Record, asyncpg.Record]:
    """Check and record one profile-change proposal (the route and the tablet batch): the
    proposal and the person's record; raises the problem of a bad one."""
    if rule := check_change(body.field, body.new_value):
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            errors=[
                field_error(
                    "new_value" if body.field in CHANGEABLE_FIELDS else "field",
                    rule,
                    "not an acceptable value",
                )
            ],
        )
    individual = await persons.by_id(conn, body.individual_id)
    if individual is None:
        raise Problem(404, "not-found", "No such person in the registry")
    authorize(
        principal, Action.PROPOSAL_SUBMIT, place_code=individual["village_code"], what="person"
    )
    old = individual[body.field]
    row = await proposals.create_change(
        conn,
        SOURCE,
        individual=individual,
        field=body.field,
        old_value=None if old is None else str(old),
        new_value=body.new_value,
        evidence=body.evidence,
        complaint_id=body.complaint_id,
        created_by=principal.subject,
    )
    return row, individual


@router.post("/change-proposals", response_model=Proposal, status_code=201)
async def create_change(body: ChangeIn, principal: CurrentPrincipal, pool: Pool) -> Proposal:
    """Propose a change to a person's registry profile (field, new value, evidence)."""
    async with pool.acquire() as conn, conn.transaction():
        row, individual = await change_in(conn, body, principal)
        # The answer holds the person's current value: a read of their record.
        await persons.audit_proposals(
            conn,
            actor=principal.subject,
            action="change_create",
            rows=[{**dict(row), "household_id": individual["household_id"]}],
        )
    return _out("change", row)


async def _get(conn: Connection, kind: Kind, proposal_id: UUID) -> asyncpg.Record:
    try:
        return await proposals.get(conn, kind, proposal_id, for_update=True)
    except ProposalNotFound:
        raise Problem(404, "not-found", "No such proposal") from None


async def _list(
    kind: Kind, principal: CurrentPrincipal, pool: Pool, status: str | None, limit: int
) -> list[Proposal]:
    authorize(principal, Action.PROPOSAL_REVIEW)
    async with pool.acquire() as conn, conn.transaction():
        rows = await proposals.list_proposals(
            conn, kind, areas=principal.scopes, status=status, limit=limit
        )
        await persons.audit_proposals(
            conn, actor=principal.subject, action=f"{kind}_list", rows=rows
        )
        if kind == "prelist":
            return await _prelist_out(conn, rows)
    return [_out(kind, r) for r in rows]


@router.get("/prelist", response_model=list[Proposal])
async def list_prelist(
    principal: CurrentPrincipal,
    pool: Pool,
    status: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[Proposal]:
    return await _list("prelist", principal, pool, status, limit)


@router.get("/change-proposals", response_model=list[Proposal])
async def list_changes(
    principal: CurrentPrincipal,
    pool: Pool,
    status: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[Proposal]:
    return await _list("change", principal, pool, status, limit)


async def _review(
    kind: Kind, proposal_id: UUID, body: ReviewIn, principal: CurrentPrincipal, pool: Pool
) -> Proposal:
    if body.decision == "return" and not body.note:
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            errors=[field_error("note", "required", "say what to correct")],
        )
    async with pool.acquire() as conn, conn.transaction():
        row = await _get(conn, kind, proposal_id)
        authorize(
            principal, Action.PROPOSAL_REVIEW, place_code=row["village_code"], what="proposal"
        )
        if (
            kind == "prelist"
            and body.decision == "approve"
            and (missing := missing_for_siks_ng(dict(row)))
        ):
            raise Problem(
                422,
                "incomplete",
                "SIKS-NG needs more about this person",
                "return the entry to the facilitator to complete it",
                errors=[field_error(m, "required_for_siks_ng", "missing") for m in missing],
            )
        try:
            row = await proposals.record_review(
                conn,
                SOURCE,
                kind=kind,
                row=row,
                decision=body.decision,
                note=body.note,
                reviewer=principal.subject,
            )
        except ProposalStateError as exc:
            raise Problem(
                409, "conflict", "The proposal is not awaiting review", str(exc)
            ) from None
        await persons.audit_proposals(
            conn, actor=principal.subject, action=f"{kind}_review", rows=[row]
        )
    return _out(kind, row)


@router.post("/prelist/{entry_id}/review", response_model=Proposal)
async def review_prelist(
    entry_id: UUID, body: ReviewIn, principal: CurrentPrincipal, pool: Pool
) -> Proposal:
    return await _review("prelist", entry_id, body, principal, pool)


@router.post("/change-proposals/{proposal_id}/review", response_model=Proposal)
async def review_change(
    proposal_id: UUID, body: ReviewIn, principal: CurrentPrincipal, pool: Pool
) -> Proposal:
    return await _review("change", proposal_id, body, principal, pool)


@router.post("/siks-ng/batches", response_model=BatchOut, status_code=201)
async def create_batch(principal: CurrentPrincipal, pool: Pool) -> BatchOut:
    """Put every approved proposal in your area into a new SIKS-NG export batch."""
    authorize(principal, Action.PROPOSAL_REVIEW)
    async with pool.acquire() as conn, conn.transaction():
        batch_id, count = await proposals.create_batch(
            conn, SOURCE, area=principal.area, created_by=principal.subject
        )
    if count == 0:
        raise Problem(409, "nothing-to-export", "No approved proposals are waiting for SIKS-NG")
    return BatchOut(batch_id=batch_id, item_count=count)


async def _batch_in_area(conn: Connection, batch_id: UUID, principal: CurrentPrincipal) -> None:
    row = await proposals.batch(conn, batch_id)
    if row is None or not row["area"].startswith(principal.area):
        raise Problem(404, "not-found", "No such batch")


@router.get("/siks-ng/batches/{batch_id}.csv", response_class=PlainTextResponse)
async def export_batch(
    batch_id: UUID, principal: CurrentPrincipal, pool: Pool
) -> PlainTextResponse:
    """The batch file (re-exporting the same batch gives the same file)."""
    authorize(principal, Action.PROPOSAL_REVIEW)
    async with pool.acquire() as conn, conn.transaction():
        await _batch_in_area(conn, batch_id, principal)
        text, people = await proposals.batch_export(conn, batch_id)
        await persons.audit_export(conn, actor=principal.subject, batch_id=batch_id, people=people)
    return PlainTextResponse(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="siks-ng-{batch_id}.csv"'},
    )


@router.post(
    "/siks-ng/batches/{batch_id}/results",
    response_model=ResultsSummary,
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_results(
    batch_id: UUID, request: Request, principal: CurrentPrincipal, pool: Pool
) -> ResultsSummary:
    """Apply SIKS-NG's verification results for a batch (re-importing is a no-op)."""
    authorize(principal, Action.REGISTRY_IMPORT)
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(422, "invalid-request", "The results file is not UTF-8") from None
    results, errors = parse_results(text)
    async with pool.acquire() as conn, conn.transaction():
        await _batch_in_area(conn, batch_id, principal)
        applied, problems = await proposals.apply_results(
            conn, SOURCE, batch_id=batch_id, results=results
        )
    return ResultsSummary(
        applied=applied,
        errors=[{"line": e.line, "field": e.field, "rule": e.rule} for e in errors]
        + [{"line": p.line, "field": p.field, "rule": p.rule} for p in problems],
    )
