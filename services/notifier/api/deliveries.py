"""Delivery status per complaint or referral, and a manager's re-send of a failed delivery.

Staff only and area-scoped: a delivery is visible to staff whose area covers the complaint's
place, wherever the delivery went (an escalation to the province, a referral to a ministry);
the complaint's place is the most specific place any of its deliveries carries. A delivery of
no complaint is scoped by its own place (without one, only national staff see it); outside the
area, it does not exist (404).
Responses carry no personal data (no contact, no message text)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.notifier import store
from services.notifier.api.deps import CurrentPrincipal, Pool, RunningDispatcher
from slrt.auth import Action
from slrt.auth.api import authorize
from slrt.auth.principal import Principal
from slrt.db import Connection
from slrt.problems import Problem, field_error

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])


class AttemptView(BaseModel):
    round: int
    number: int
    channel: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    status_code: int | None
    error: str | None
    retry_after: float | None


class DeliveryView(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID
    complaint_id: uuid.UUID | None
    referral_id: uuid.UUID | None
    kind: str
    destination: str
    addressed_to: str | None = None
    """The workflow's address (``<role>:<area>``) of a staff message the notifier sent to the
    person holding the step (``destination`` ``person:<id>``); null otherwise."""
    template: str
    status: str
    channel: str | None
    attempts: int
    round: int
    next_attempt_at: datetime | None
    last_error: str | None
    external_ref: str | None
    created_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    cancelled_at: datetime | None = None
    """A referral that no longer waits (``status = cancelled``; ``last_error`` says why)."""
    resent_by: str | None
    attempt_log: list[AttemptView]


class DeliveryList(BaseModel):
    items: list[DeliveryView]


async def _authorize_all(
    conn: Connection, principal: Principal, action: Action, rows: list[dict[str, Any]]
) -> None:
    """Scope by the complaint's place, not by the delivery's destination."""
    complaints = sorted({r["complaint_id"] for r in rows if r["complaint_id"] is not None})
    places = await store.complaint_places(conn, complaints) if complaints else {}
    for row in rows:
        place = places.get(row["complaint_id"]) or row["place_code"] or ""
        authorize(principal, action, place_code=place, what="delivery")


async def _views(pool: asyncpg.Pool, rows: list[dict[str, Any]]) -> list[DeliveryView]:
    async with pool.acquire() as conn:
        attempts = await store.attempts_of(conn, [r["id"] for r in rows])
    by_delivery: dict[uuid.UUID, list[AttemptView]] = {}
    for attempt in attempts:
        by_delivery.setdefault(attempt["delivery_id"], []).append(AttemptView(**attempt))
    return [DeliveryView(**row, attempt_log=by_delivery.get(row["id"], [])) for row in rows]


@router.get("", summary="Deliveries of a complaint or a referral, with their attempts")
async def list_deliveries(
    principal: CurrentPrincipal,
    pool: Pool,
    complaint_id: Annotated[uuid.UUID | None, Query()] = None,
    referral_id: Annotated[uuid.UUID | None, Query()] = None,
) -> DeliveryList:
    if (complaint_id is None) == (referral_id is None):
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            "Give exactly one of complaint_id and referral_id.",
            errors=[field_error("complaint_id", "one_of", "give complaint_id or referral_id")],
        )
    column, value = ("complaint_id", complaint_id) if complaint_id else ("referral_id", referral_id)
    assert value is not None
    async with pool.acquire() as conn:
        rows = await store.find(conn, column=column, value=value)
        if not rows:
            raise Problem(404, "not-found", "No such delivery")
        await _authorize_all(conn, principal, Action.DELIVERY_READ, rows)
    return DeliveryList(items=await _views(pool, rows))


@router.get("/{delivery_id}", summary="One delivery with its attempts")
async def get_delivery(
    principal: CurrentPrincipal, pool: Pool, delivery_id: uuid.UUID
) -> DeliveryView:
    async with pool.acquire() as conn:
        rows = await store.find(conn, column="id", value=delivery_id)
        if not rows:
            raise Problem(404, "not-found", "No such delivery")
        await _authorize_all(conn, principal, Action.DELIVERY_READ, rows)
    return (await _views(pool, rows))[0]


@router.post(
    "/{delivery_id}/resend",
    status_code=202,
    summary="Send a failed delivery again (a new round of attempts)",
)
async def resend_delivery(
    principal: CurrentPrincipal, pool: Pool, dispatcher: RunningDispatcher, delivery_id: uuid.UUID
) -> DeliveryView:
    async with pool.acquire() as conn, conn.transaction():
        rows = await store.find(conn, column="id", value=delivery_id)
        if not rows:
            raise Problem(404, "not-found", "No such delivery")
        await _authorize_all(conn, principal, Action.DELIVERY_RESEND, rows)
        if not await store.resend(conn, delivery_id, principal.subject):
            raise Problem(
                409,
                "conflict",
                "Only a failed delivery can be re-sent",
                f"this delivery is {rows[0]['status']}",
            )
        # The manager's re-send is their decision that the destination is back.
        await store.enable_endpoint(conn, rows[0]["destination"])
        rows = await store.find(conn, column="id", value=delivery_id)
    if dispatcher is not None:
        dispatcher.wake.set()
    return (await _views(pool, rows))[0]
