"""Tablet batches (offline capture): pre-list entries, change proposals and needs a facilitator
captured without a connection, sent as one batch when the tablet is back online.

Each item carries the tablet's ``client_id``. A resent item (same kind, same client id, same
user) gets the answer it got the first time and creates nothing new, so a tablet may resend a
whole batch after a lost answer. Items are independent: each is checked and recorded on its own
(a savepoint in the batch's transaction), and the answer lists one result per item, in order —
``201`` created, ``200`` joined an existing pending entry (pre-list) or replayed, or the 4xx
problem of a bad item naming the field and the rule. The answers name ids, never personal data.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.registry.api.deps import CurrentPrincipal, Pool
from services.registry.api.persons import NeedIn, need_in
from services.registry.api.proposals import ChangeIn, PrelistIn, change_in, prelist_in
from slrt.db import Connection
from slrt.errors import DomainError, field_error
from slrt.problems import Problem, from_domain

router = APIRouter(prefix="/v1/tablet-batches", tags=["tablet batches"])

MAX_ITEMS = 500
ClientId = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
Kind = Literal["prelist", "change", "need"]


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_ITEMS)
    """Each item: ``client_id`` and the fields of the single route (``POST /v1/prelist``,
    ``POST /v1/change-proposals``, ``POST /v1/households/{id}/needs`` with ``household_id``)."""


class ItemResult(BaseModel):
    index: int
    client_id: str | None
    status: int
    """201 created, 200 joined (pre-list) or replayed, 4xx the item's problem."""
    id: UUID | None = None
    """The entry, proposal or need the item created or joined."""
    joined: bool = False
    matched_by: str | None = None
    replayed: bool = False
    """A resend: this answer was recorded when the client id was first seen."""
    problem: dict[str, Any] | None = None
    """The problem document of a bad item (``errors`` name the item's field and rule)."""


class BatchOut(BaseModel):
    created: int
    joined: int
    replayed: int
    rejected: int
    results: list[ItemResult]


class _PrelistItem(PrelistIn):
    client_id: str = ClientId


class _ChangeItem(ChangeIn):
    client_id: str = ClientId


class _NeedItem(NeedIn):
    client_id: str = ClientId
    household_id: UUID


Record = Callable[[Connection, Any, CurrentPrincipal], Awaitable[dict[str, Any]]]


async def _prelist(conn: Connection, item: _PrelistItem, principal: CurrentPrincipal) -> Any:
    body = PrelistIn(**item.model_dump(exclude={"client_id"}))
    outcome = await prelist_in(conn, body, principal)
    return {
        "status": 200 if outcome.matched_by else 201,
        "id": str(outcome.row["id"]),
        "joined": outcome.matched_by is not None,
        "matched_by": outcome.matched_by,
    }


async def _change(conn: Connection, item: _ChangeItem, principal: CurrentPrincipal) -> Any:
    row, _ = await change_in(conn, ChangeIn(**item.model_dump(exclude={"client_id"})), principal)
    return {"status": 201, "id": str(row["id"])}


async def _need(conn: Connection, item: _NeedItem, principal: CurrentPrincipal) -> Any:
    body = NeedIn(**item.model_dump(exclude={"client_id", "household_id"}))
    need_id = await need_in(conn, item.household_id, body, principal)
    return {"status": 201, "id": str(need_id)}


_MODELS: dict[Kind, type[BaseModel]] = {
    "prelist": _PrelistItem,
    "change": _ChangeItem,
    "need": _NeedItem,
}
_RECORD: dict[Kind, Record] = {"prelist": _prelist, "change": _change, "need": _need}


def _invalid(exc: ValidationError) -> Problem:
    errors = [
        field_error(
            ".".join(str(p) for p in e.get("loc", ())) or "item",
            str(e.get("type", "invalid")),
            str(e.get("msg", "invalid value")),
        )
        for e in exc.errors(include_input=False, include_url=False)
    ]
    return Problem(422, "invalid-request", "The item is not valid", errors=errors)


class _Rollback(Exception):
    """Undo a bad item's savepoint (its problem travels with it)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem


async def _item(
    conn: Connection, kind: Kind, index: int, raw: dict[str, Any], principal: CurrentPrincipal
) -> ItemResult:
    client_id = raw.get("client_id") if isinstance(raw.get("client_id"), str) else None
    try:
        item = _MODELS[kind].model_validate(raw)
    except ValidationError as exc:
        return ItemResult(
            index=index, client_id=client_id, status=422, problem=_invalid(exc).body()
        )
    client_id = item.client_id  # type: ignore[attr-defined]
    # One answer per client id, even for two resends at once.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('tablet:' || $1 || ':' || $2))", kind, client_id
    )
    seen = await conn.fetchrow(
        "SELECT submitted_by, result FROM client_items WHERE kind = $1 AND client_id = $2",
        kind,
        client_id,
    )
    if seen is not None:
        if seen["submitted_by"] != principal.subject:
            problem = Problem(
                409,
                "conflict",
                "Another user's item has this client id",
                errors=[field_error("client_id", "unique_per_user", "already used")],
            )
            return ItemResult(index=index, client_id=client_id, status=409, problem=problem.body())
        return ItemResult(
            index=index, client_id=client_id, replayed=True, **json.loads(seen["result"])
        )
    try:
        async with conn.transaction():  # a savepoint: a bad item leaves nothing behind
            try:
                result = await _RECORD[kind](conn, item, principal)
            except Problem as problem:
                raise _Rollback(problem) from None
            except DomainError as error:
                raise _Rollback(from_domain(error)) from None
            await conn.execute(
                "INSERT INTO client_items (kind, client_id, submitted_by, result) "
                "VALUES ($1, $2, $3, $4)",
                kind,
                client_id,
                principal.subject,
                json.dumps(result),
            )
    except _Rollback as bad:
        return ItemResult(
            index=index, client_id=client_id, status=bad.problem.status, problem=bad.problem.body()
        )
    return ItemResult(index=index, client_id=client_id, **result)


async def _batch(kind: Kind, body: BatchIn, principal: CurrentPrincipal, pool: Pool) -> BatchOut:
    async with pool.acquire() as conn, conn.transaction():
        results = [
            await _item(conn, kind, index, raw, principal) for index, raw in enumerate(body.items)
        ]
    return BatchOut(
        created=sum(r.status == 201 and not r.replayed for r in results),
        joined=sum(r.joined and not r.replayed for r in results),
        replayed=sum(r.replayed for r in results),
        rejected=sum(r.status >= 400 for r in results),
        results=results,
    )


@router.post("/prelist", response_model=BatchOut)
async def prelist_batch(body: BatchIn, principal: CurrentPrincipal, pool: Pool) -> BatchOut:
    """Pre-list entries captured offline (items as ``POST /v1/prelist``, plus ``client_id``);
    a person already pending is joined, as on the single route."""
    return await _batch("prelist", body, principal, pool)


@router.post("/change-proposals", response_model=BatchOut)
async def change_batch(body: BatchIn, principal: CurrentPrincipal, pool: Pool) -> BatchOut:
    """Profile-change proposals captured offline (items as ``POST /v1/change-proposals``)."""
    return await _batch("change", body, principal, pool)


@router.post("/needs", response_model=BatchOut)
async def need_batch(body: BatchIn, principal: CurrentPrincipal, pool: Pool) -> BatchOut:
    """Program needs captured offline (items as ``POST /v1/households/{id}/needs`` plus
    ``household_id``)."""
    return await _batch("need", body, principal, pool)
