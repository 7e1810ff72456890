"""The audit log of staff reads of personal data, for the district's data manager."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from services.intake import casefile_store
from services.intake.api.deps import CurrentPrincipal, Pool
from services.intake.api.problems import problems
from services.intake.schemas import AuditEntry, AuditPage
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.errors import field_error
from slrt.problems import Problem

router = APIRouter(prefix="/v1", tags=["audit"])


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"audit|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, _, row_id = raw.partition("|")
        if tag != "audit":
            raise ValueError("not an audit cursor")
        return int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            errors=[field_error("cursor", "cursor", "not a cursor this API returned")],
        ) from None


def _utc(moment: datetime | None) -> datetime | None:
    """A time without an offset is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Data managers: who read which complaint's personal data, newest first",
    description="One row per read of a complaint's personal data (case file, task feed, "
    "referral read, answer page): who, in which role, what was disclosed, when, and why (the "
    "complaint's step at the read). Only complaints inside your area. Filters: `complaint_id`, "
    "`actor` (a user id), `from` / `to` (ISO 8601; without an offset, UTC; `to` excluded); "
    "cursor pagination.",
    responses=problems(401, 403, 422),
)
async def read_audit(
    principal: CurrentPrincipal,
    pool: Pool,
    complaint_id: UUID | None = None,
    actor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    at_from: Annotated[datetime | None, Query(alias="from")] = None,
    at_to: Annotated[datetime | None, Query(alias="to")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> AuditPage:
    authorize(principal, Action.AUDIT_READ)
    async with pool.acquire() as conn:
        rows = await casefile_store.audit_page(
            conn,
            area=principal.area,
            complaint_id=complaint_id,
            actor=actor,
            at_from=_utc(at_from),
            at_to=_utc(at_to),
            before_id=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    page = rows[:limit]
    return AuditPage(
        items=[
            AuditEntry(
                id=r["id"],
                at=r["at"],
                actor=r["actor"],
                actor_role=r["actor_role"],
                action=r["action"],
                complaint_id=r["complaint_id"],
                place_code=r["place_code"],
                step=r["step"],
                fields=list(r["fields"]),
            )
            for r in page
        ],
        next_cursor=encode_cursor(page[-1]["id"]) if len(rows) > limit else None,
    )
