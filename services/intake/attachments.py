"""Attachments of complaints: upload, list, a short-lived download link, the download behind a
local link, and erasure with the complaint's personal data.

Intake owns complaints, so it owns their attachments: the row (``attachments``, migration
``0011``) says what was kept; the bytes, made safe (``slrt.attachments.content``) and sealed
(``slrt.attachments.sealing``), live in the configured store (``slrt.attachments.storage``).
Who may: adding is ``complaint.attachment_add`` (front office, facilitator, back office, in
their area; a program manager on a complaint referred to their program, with their answer);
listing and reading are ``complaint.read_personal``, the case file's rule, with the same area
scoping (a complaint outside the caller's area is 404), and ``referral.read`` for the program
manager of the complaint's referral. Each download link
issued writes an ``audit_log`` row (``attachment_read``) in the read's own transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from services.intake import casefile_store, store
from services.intake.domain import acting_role
from services.intake.settings import IntakeSettings
from slrt.attachments import links, service
from slrt.attachments.service import AttachmentParts, make_parts, may_add, sweep
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.auth.principal import Principal, Role
from slrt.db import Connection
from slrt.errors import Conflict, NotFound


def storage_name(complaint_id: UUID, attachment_id: UUID) -> str:
    return f"complaints/{complaint_id}/{attachment_id}"


def download_name(row: asyncpg.Record) -> str:
    return service.download_name(row["id"], row["content_type"])


@dataclass(frozen=True)
class Uploaded:
    row: asyncpg.Record
    replayed: bool


async def _visible(
    conn: Connection, principal: Principal, complaint_id: UUID, action: Action
) -> asyncpg.Record:
    row = await store.status(conn, complaint_id)
    if row is None:
        raise NotFound("No such complaint")
    authorize(
        principal,
        action,
        place_code=row["place_code"],
        program=row["referral_destination"],
        what="complaint",
    )
    return row


async def upload(
    pool: asyncpg.Pool,
    parts: AttachmentParts,
    settings: IntakeSettings,
    principal: Principal,
    complaint_id: UUID,
    data: bytes,
    client_id: str | None,
) -> Uploaded:
    action = Action.ATTACHMENT_ADD
    async with pool.acquire() as conn:
        await _visible(conn, principal, complaint_id, action)
        if client_id is not None:
            found = await conn.fetchrow(
                "SELECT * FROM attachments WHERE complaint_id = $1 AND client_id = $2",
                complaint_id,
                client_id,
            )
            if found is not None:
                return Uploaded(found, True)
        count = await conn.fetchval(
            "SELECT count(*) FROM attachments WHERE complaint_id = $1", complaint_id
        )
    if not may_add(count, settings.attachment_max_count):
        raise _too_many(settings)
    cleaned = await parts.accept(data)
    attachment_id = uuid.uuid4()
    name = storage_name(complaint_id, attachment_id)
    key_id = await parts.keep(name, cleaned)
    try:
        async with pool.acquire() as conn, conn.transaction():
            # One upload at a time per complaint: the count below holds until commit.
            erased = await conn.fetchval(
                "SELECT personal_data_erased_at FROM complaints WHERE id = $1 FOR UPDATE",
                complaint_id,
            )
            if erased is not None:  # retention: no new personal data after the erasure
                raise Conflict(
                    "this complaint's personal data was erased; it takes no attachments",
                    kind="personal-data-erased",
                    title="Personal data erased",
                )
            if client_id is not None:
                found = await conn.fetchrow(
                    "SELECT * FROM attachments WHERE complaint_id = $1 AND client_id = $2",
                    complaint_id,
                    client_id,
                )
                if found is not None:
                    await parts.store.delete(name)
                    return Uploaded(found, True)
            count = await conn.fetchval(
                "SELECT count(*) FROM attachments WHERE complaint_id = $1", complaint_id
            )
            if not may_add(count, settings.attachment_max_count):
                raise _too_many(settings)
            row = await conn.fetchrow(
                "INSERT INTO attachments (id, complaint_id, client_id, content_type, size_bytes, "
                "sha256, width, height, storage_name, key_id, uploaded_by, uploaded_role) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                "RETURNING *",
                attachment_id,
                complaint_id,
                client_id,
                cleaned.kind.value,
                len(cleaned.data),
                hashlib.sha256(cleaned.data).hexdigest(),
                cleaned.width,
                cleaned.height,
                name,
                key_id,
                principal.subject,
                acting_role(principal, action).value,
            )
            assert row is not None  # INSERT ... RETURNING always returns the row
    except BaseException:
        await parts.store.delete(name)
        raise
    return Uploaded(row, False)


def _too_many(settings: IntakeSettings) -> Conflict:
    return Conflict(
        f"a complaint has at most {settings.attachment_max_count} attachments",
        kind="too-many-attachments",
        title="Too many attachments",
    )


async def missing(pool: asyncpg.Pool, complaint_id: UUID, client_ids: list[str]) -> list[str]:
    """Of a tablet's file references, those not uploaded to the complaint yet (in order)."""
    uploaded = {
        r["client_id"]
        for r in await pool.fetch(
            "SELECT client_id FROM attachments WHERE complaint_id = $1 AND client_id = ANY($2)",
            complaint_id,
            client_ids,
        )
    }
    return [c for c in dict.fromkeys(client_ids) if c not in uploaded]


def read_action(principal: Principal) -> Action:
    """Staff read attachments as the case file; a program manager as part of their referral."""
    if principal.roles and all(r is Role.PROGRAM_MANAGER for r in principal.roles):
        return Action.REFERRAL_READ
    return Action.COMPLAINT_READ_PERSONAL


async def listed(
    pool: asyncpg.Pool, principal: Principal, complaint_id: UUID
) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        await _visible(conn, principal, complaint_id, read_action(principal))
        return list(
            await conn.fetch(
                "SELECT * FROM attachments WHERE complaint_id = $1 ORDER BY uploaded_at, id",
                complaint_id,
            )
        )


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime
    row: asyncpg.Record


async def link(
    pool: asyncpg.Pool,
    parts: AttachmentParts,
    settings: IntakeSettings,
    principal: Principal,
    complaint_id: UUID,
    attachment_id: UUID,
    now: datetime,
) -> Link:
    """A short-lived download link, for a reader allowed to read the complaint's personal
    data; the read is audited (who, role, complaint, its step, which attachment)."""
    action = read_action(principal)
    parts.require_sealer()
    async with pool.acquire() as conn, conn.transaction():
        status = await _visible(conn, principal, complaint_id, action)
        row = await conn.fetchrow(
            "SELECT * FROM attachments WHERE id = $1 AND complaint_id = $2",
            attachment_id,
            complaint_id,
        )
        if row is None:
            raise NotFound("No such attachment")
        await casefile_store.audit(
            conn,
            actor=principal.subject,
            actor_role=acting_role(principal, action).value,
            action="attachment_read",
            reads=[(complaint_id, status["place_code"], status["step"], ["attachment"])],
            detail=str(attachment_id),
        )
    expires = now + timedelta(seconds=settings.attachment_link_seconds)
    token = links.sign(parts.link_keys, attachment_id, expires)
    url = await parts.link_url(
        row["storage_name"],
        attachment_id,
        row["content_type"],
        download_name(row),
        f"{settings.public_base_url}/v1/attachment-downloads/{token}",
    )
    return Link(url, expires, row)


async def download(
    pool: asyncpg.Pool, parts: AttachmentParts, token: str, now: datetime
) -> tuple[asyncpg.Record, bytes]:
    """The file a local download link names, if the link holds (else :class:`NotFound`: an
    expired, altered or unknown link looks alike)."""
    try:
        attachment_id = links.verify(parts.link_keys, token, now)
    except links.LinkRefused:
        raise NotFound("No such download link, or it expired") from None
    row = await pool.fetchrow("SELECT * FROM attachments WHERE id = $1", attachment_id)
    if row is None:
        raise NotFound("No such download link, or it expired")
    return row, await parts.opened(row["storage_name"])


async def erase_for_complaint(
    pool: asyncpg.Pool, parts: AttachmentParts, complaint_id: UUID
) -> int:
    """Delete a complaint's attachments (the stored objects, then the rows): part of erasing
    the complaint's personal data. Idempotent; how many were deleted."""
    rows = await pool.fetch(
        "SELECT id, storage_name FROM attachments WHERE complaint_id = $1", complaint_id
    )
    for row in rows:
        await parts.store.delete(row["storage_name"])
    await pool.execute(
        "DELETE FROM attachments WHERE id = ANY($1::uuid[])", [row["id"] for row in rows]
    )
    return len(rows)


__all__ = ["AttachmentParts", "make_parts", "sweep"]
