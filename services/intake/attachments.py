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

import asyncio
import contextlib
import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from services.intake import casefile_store, store
from services.intake.domain import acting_role
from services.intake.settings import IntakeSettings
from slrt import secrets
from slrt.attachments import content, links
from slrt.attachments.content import Kind
from slrt.attachments.scan import ClamdScanner
from slrt.attachments.sealing import PayloadKeys, Sealer
from slrt.attachments.storage import BlobStore, LocalStore, NotStored, S3Config, S3Store
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.auth.principal import Principal, Role
from slrt.db import Connection
from slrt.errors import Conflict, NotFound, Unavailable

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0


@dataclass
class AttachmentParts:
    """What intake holds for attachments while it runs (a runtime part)."""

    store: BlobStore
    sealer: Sealer | None
    link_keys: list[bytes]
    scanner: ClamdScanner | None

    def require_sealer(self) -> Sealer:
        if self.sealer is None:
            raise Unavailable(
                "attachments are not configured (no attachment key ring)",
                kind="attachments-unavailable",
                title="Attachments unavailable",
            )
        return self.sealer


def make_store(settings: IntakeSettings) -> BlobStore:
    if settings.attachment_store == "s3":
        if not settings.attachment_s3_endpoint:
            raise ValueError("SLRT_INTAKE_ATTACHMENT_S3_ENDPOINT is required for the s3 store")
        credentials = secrets.resolve(settings.attachment_s3_credentials_ref).split()
        if len(credentials) != 2:
            raise ValueError(
                f"secret {settings.attachment_s3_credentials_ref!r} must hold the access key id "
                "and the secret key, separated by white space"
            )
        return S3Store(
            S3Config(
                endpoint=settings.attachment_s3_endpoint,
                bucket=settings.attachment_s3_bucket,
                access_key=credentials[0],
                secret_key=credentials[1],
                region=settings.attachment_s3_region,
                public_endpoint=settings.attachment_s3_public_endpoint,
            )
        )
    return LocalStore(settings.attachment_dir)


def make_parts(settings: IntakeSettings) -> AttachmentParts:
    """The store, the key ring (when configured: without it uploads and reads answer 503, the
    rest of intake works) and the scanner (when configured)."""
    sealer: Sealer | None = None
    keys: list[bytes] = []
    try:
        ring = PayloadKeys.parse(secrets.resolve(settings.attachment_keys_ref))
        sealer, keys = Sealer(ring), links.link_keys(ring)
    except secrets.SecretNotFound:
        log.warning(
            "attachments disabled: no attachment key ring",
            extra={"secret_ref": settings.attachment_keys_ref},
        )
    scanner = (
        ClamdScanner.at(settings.clamd_address, settings.clamd_timeout_seconds)
        if settings.clamd_address
        else None
    )
    return AttachmentParts(make_store(settings), sealer, keys, scanner)


async def sweep(parts: AttachmentParts, stop: asyncio.Event) -> None:
    """Delete expired delivery copies (S3) every minute until ``stop``."""
    while not stop.is_set():
        try:
            await parts.store.sweep_deliveries()
        except Exception as exc:  # the store down: try again next round
            log.warning("delivery sweep skipped", extra={"error_type": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)


def storage_name(complaint_id: UUID, attachment_id: UUID) -> str:
    return f"complaints/{complaint_id}/{attachment_id}"


def download_name(row: asyncpg.Record) -> str:
    """The file name a download carries: never the uploader's (it may name a person)."""
    return f"lampiran-{str(row['id'])[:8]}.{Kind(row['content_type']).extension}"


def may_add(count: int, limit: int) -> bool:
    """A complaint may take one more attachment while it has fewer than ``limit``."""
    return count < limit


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
    sealer = parts.require_sealer()
    if parts.scanner is not None:
        await parts.scanner.require_clean(data)
    cleaned = await asyncio.to_thread(content.clean, data, settings.attachment_max_pixels)
    attachment_id = uuid.uuid4()
    name = storage_name(complaint_id, attachment_id)
    await parts.store.put(name, sealer.seal(cleaned.data, name))
    try:
        async with pool.acquire() as conn, conn.transaction():
            # One upload at a time per complaint: the count below holds until commit.
            await conn.execute("SELECT 1 FROM complaints WHERE id = $1 FOR UPDATE", complaint_id)
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
                sealer.current_key_id,
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
    sealer = parts.require_sealer()
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
    seconds = settings.attachment_link_seconds
    expires = now + timedelta(seconds=seconds)
    plaintext: bytes | None = None
    if isinstance(parts.store, S3Store):
        plaintext = await opened(parts, sealer, row)
    url = (
        await parts.store.delivery_link(
            plaintext,
            content_type=row["content_type"],
            filename=download_name(row),
            seconds=seconds,
        )
        if plaintext is not None
        else None
    )
    if url is None:
        token = links.sign(parts.link_keys, attachment_id, expires)
        url = f"{settings.public_base_url}/v1/attachment-downloads/{token}"
    return Link(url, expires, row)


async def opened(parts: AttachmentParts, sealer: Sealer, row: asyncpg.Record) -> bytes:
    try:
        sealed = await parts.store.get(row["storage_name"])
    except NotStored:
        raise NotFound("No such attachment") from None
    return sealer.open(sealed, row["storage_name"])


async def download(
    pool: asyncpg.Pool, parts: AttachmentParts, token: str, now: datetime
) -> tuple[asyncpg.Record, bytes]:
    """The file a local download link names, if the link holds (else :class:`NotFound`: an
    expired, altered or unknown link looks alike)."""
    try:
        attachment_id = links.verify(parts.link_keys, token, now)
    except links.LinkRefused:
        raise NotFound("No such download link, or it expired") from None
    sealer = parts.require_sealer()
    row = await pool.fetchrow("SELECT * FROM attachments WHERE id = $1", attachment_id)
    if row is None:
        raise NotFound("No such download link, or it expired")
    return row, await opened(parts, sealer, row)


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
