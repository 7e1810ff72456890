"""What the internal redeem endpoints share (``complainant:`` for the registry, ``household:``
for the notifier): a reference that is not of its form is a 422 naming the field; the complaint
is looked up and what it may release is decided in one transaction that also audits the
redemption, released or not (intake's redemption audit; a disclosure also in the data
manager's audit log, ``GET /v1/audit``); one log line without personal data; an unknown
complaint is a 404.

Each route keeps what differs: which fields it releases (``release``), the service role and
audit action, and its answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar
from uuid import UUID

import asyncpg

from services.intake import casefile_store, store
from slrt.auth.principal import Principal, Role
from slrt.db import Connection
from slrt.problems import Problem, field_error

log = logging.getLogger(__name__)

T = TypeVar("T")

Release = Callable[[asyncpg.Record], tuple[T, list[str], str]]
"""For a known complaint: (what the answer releases, the fields it releases, the outcome)."""


@dataclass(frozen=True)
class Reference(Generic[T]):
    """One kind of reference an internal endpoint redeems, and what differs between kinds."""

    what: str
    """The reference's name in the log line and the 404 (``complainant``, ``contact``)."""
    form: str
    """The reference's form, named by the 422 (``complainant:<complaint id>``)."""
    parse: Callable[[str], UUID | None]
    lookup: Callable[[Connection, UUID], Awaitable[asyncpg.Record | None]]
    release: Release[T]
    role: Role
    """The service role the data manager's audit log names."""
    action: str
    """The data manager's audit log action (``complainant_redeemed``)."""


class RedemptionRequest(Protocol):
    @property
    def reference(self) -> str: ...
    @property
    def request_id(self) -> UUID: ...
    @property
    def purpose(self) -> str: ...


async def redeem(
    pool: asyncpg.Pool, principal: Principal, body: RedemptionRequest, kind: Reference[T]
) -> tuple[asyncpg.Record, T | None]:
    """Redeem ``body.reference`` (the caller is authorized already): the complaint's row and
    what ``kind.release`` made of it. A reference not of its form is a 422 naming the field; an
    unknown complaint a 404 (after the audit: an unknown reference is recorded too)."""
    complaint_id = kind.parse(body.reference)
    if complaint_id is None:
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            f"reference must be {kind.form}",
            errors=[field_error("reference", "pattern", f"{kind.form} (a UUID)")],
        )
    async with pool.acquire() as conn, conn.transaction():
        row = await kind.lookup(conn, complaint_id)
        released_value: T | None = None
        released: list[str] = []
        if row is None:
            outcome = "unknown"
        else:
            released_value, released, outcome = kind.release(row)
        await store.audit_redemption(
            conn,
            caller=principal.subject,
            caller_roles=sorted(r.value for r in principal.roles),
            complaint_id=complaint_id,
            request_id=body.request_id,
            purpose=body.purpose,
            released=released,
            outcome=outcome,
        )
        if row is not None and released:
            # A disclosure also shows in the data manager's audit log beside staff reads
            # (``GET /v1/audit``); why = the purpose it was released for.
            await casefile_store.audit(
                conn,
                actor=principal.subject,
                actor_role=kind.role.value,
                action=kind.action,
                reads=[(complaint_id, row["village_code"], None, released)],
                detail=body.purpose,
            )
    log.info(
        f"{kind.what} reference redeemed",
        extra={
            "complaint_id": str(complaint_id),
            "request_id": str(body.request_id),
            "caller": principal.subject,
            "outcome": outcome,
        },
    )
    if row is None:
        raise Problem(404, "not-found", f"No such {kind.what} reference")
    return row, released_value
