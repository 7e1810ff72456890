"""Attachments of pre-list entries and profile-change proposals: the evidence front office and
facilitators photograph (a KK card, a letter from the village head) for the reviewers and for
SIKS-NG's verification.

The registry owns pre-list entries and change proposals, so it owns their attachments, kept
the way intake keeps complaints' (``slrt.attachments``: content checks, scanner, sealing, the
store). Who may: adding is ``registry.proposal_submit`` at the entry's village (front office,
facilitator); reading is ``registry.proposal_review`` (supervisor, manager) or
``registry.proposal_submit``, in the caller's area (outside it: 404). Every download link
issued writes an ``audit_log`` row (``attachment_read``, with the proposal) in its own
transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

import asyncpg

from services.registry.settings import RegistrySettings
from services.registry.store import persons, proposals
from services.registry.store.proposals import ProposalNotFound
from slrt.attachments import links, service
from slrt.attachments.service import AttachmentParts, may_add
from slrt.auth.api import authorize
from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal
from slrt.db import Connection
from slrt.errors import Conflict, NotFound, Refused

Owner = Literal["prelist", "change"]
WHAT: dict[Owner, str] = {"prelist": "pre-list entry", "change": "change proposal"}


def storage_name(kind: Owner, owner_id: UUID, attachment_id: UUID) -> str:
    return f"{kind}/{owner_id}/{attachment_id}"


def download_name(row: asyncpg.Record) -> str:
    return service.download_name(row["id"], row["content_type"])


async def _owner(conn: Connection, kind: Owner, owner_id: UUID) -> asyncpg.Record:
    try:
        return await proposals.get(conn, kind, owner_id)
    except ProposalNotFound:
        raise NotFound(title=f"No such {WHAT[kind]}") from None


def _may_read(principal: Principal, kind: Owner, place_code: str) -> None:
    """Reviewers and submitters read the evidence, in their area."""
    decisions = {
        decide(principal, action, place_code=place_code)
        for action in (Action.PROPOSAL_REVIEW, Action.PROPOSAL_SUBMIT)
    }
    if Decision.ALLOW in decisions:
        return
    if decisions == {Decision.NOT_FOUND}:
        raise NotFound(title=f"No such {WHAT[kind]}")
    raise Refused("your role may not read this evidence here")


@dataclass(frozen=True)
class Uploaded:
    row: asyncpg.Record
    replayed: bool


async def upload(
    pool: asyncpg.Pool,
    parts: AttachmentParts,
    settings: RegistrySettings,
    principal: Principal,
    kind: Owner,
    owner_id: UUID,
    data: bytes,
    client_id: str | None,
) -> Uploaded:
    async with pool.acquire() as conn:
        owner = await _owner(conn, kind, owner_id)
        authorize(
            principal, Action.PROPOSAL_SUBMIT, place_code=owner["village_code"], what=WHAT[kind]
        )
    cleaned = await parts.accept(data)
    attachment_id = uuid.uuid4()
    name = storage_name(kind, owner_id, attachment_id)
    key_id = await parts.keep(name, cleaned)
    try:
        async with pool.acquire() as conn, conn.transaction():
            # One upload at a time per owner: the count below holds until commit.
            await proposals.get(conn, kind, owner_id, for_update=True)
            if client_id is not None:
                found = await conn.fetchrow(
                    "SELECT * FROM attachments WHERE owner_kind = $1 AND owner_id = $2 "
                    "AND client_id = $3",
                    kind,
                    owner_id,
                    client_id,
                )
                if found is not None:
                    await parts.store.delete(name)
                    return Uploaded(found, True)
            count = await conn.fetchval(
                "SELECT count(*) FROM attachments WHERE owner_kind = $1 AND owner_id = $2",
                kind,
                owner_id,
            )
            if not may_add(count, settings.attachment_max_count):
                raise Conflict(
                    f"a {WHAT[kind]} has at most {settings.attachment_max_count} attachments",
                    kind="too-many-attachments",
                    title="Too many attachments",
                )
            row = await conn.fetchrow(
                "INSERT INTO attachments (id, owner_kind, owner_id, client_id, content_type, "
                "size_bytes, sha256, width, height, storage_name, key_id, uploaded_by) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *",
                attachment_id,
                kind,
                owner_id,
                client_id,
                cleaned.kind.value,
                len(cleaned.data),
                hashlib.sha256(cleaned.data).hexdigest(),
                cleaned.width,
                cleaned.height,
                name,
                key_id,
                principal.subject,
            )
            assert row is not None  # INSERT ... RETURNING always returns the row
    except BaseException:
        await parts.store.delete(name)
        raise
    return Uploaded(row, False)


async def listed(
    pool: asyncpg.Pool, principal: Principal, kind: Owner, owner_id: UUID
) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        owner = await _owner(conn, kind, owner_id)
        _may_read(principal, kind, owner["village_code"])
        return list(
            await conn.fetch(
                "SELECT * FROM attachments WHERE owner_kind = $1 AND owner_id = $2 "
                "ORDER BY uploaded_at, id",
                kind,
                owner_id,
            )
        )


async def link(
    pool: asyncpg.Pool,
    parts: AttachmentParts,
    settings: RegistrySettings,
    public_base_url: str,
    principal: Principal,
    kind: Owner,
    owner_id: UUID,
    attachment_id: UUID,
    now: datetime,
) -> tuple[str, datetime]:
    parts.require_sealer()
    async with pool.acquire() as conn, conn.transaction():
        owner = await _owner(conn, kind, owner_id)
        _may_read(principal, kind, owner["village_code"])
        row = await conn.fetchrow(
            "SELECT * FROM attachments WHERE id = $1 AND owner_kind = $2 AND owner_id = $3",
            attachment_id,
            kind,
            owner_id,
        )
        if row is None:
            raise NotFound(title="No such attachment")
        await persons.audit_proposals(
            conn, actor=principal.subject, action="attachment_read", rows=[owner]
        )
    expires = now + timedelta(seconds=settings.attachment_link_seconds)
    token = links.sign(parts.link_keys, attachment_id, expires)
    url = await parts.link_url(
        row["storage_name"],
        attachment_id,
        row["content_type"],
        download_name(row),
        f"{public_base_url}/v1/attachment-downloads/{token}",
    )
    return url, expires


async def download(
    pool: asyncpg.Pool, parts: AttachmentParts, token: str, now: datetime
) -> tuple[asyncpg.Record, bytes]:
    try:
        attachment_id = links.verify(parts.link_keys, token, now)
    except links.LinkRefused:
        raise NotFound(title="No such download link, or it expired") from None
    row = await pool.fetchrow("SELECT * FROM attachments WHERE id = $1", attachment_id)
    if row is None:
        raise NotFound(title="No such download link, or it expired")
    return row, await parts.opened(row["storage_name"])
