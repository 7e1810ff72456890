"""What a service that keeps attachments holds while it runs, and its settings: the store, the
key ring, the scanner (:class:`AttachmentParts`), built from :class:`AttachmentSettings` (a
mixin of the service's settings: ``SLRT_INTAKE_ATTACHMENT_*`` for intake,
``SLRT_REGISTRY_ATTACHMENT_*`` for the registry). Each owner keeps its own rows, key ring
secret reference and bucket (or prefix of one); the rules are these.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from slrt import secrets
from slrt.attachments import content, links
from slrt.attachments.content import Kind
from slrt.attachments.scan import ClamdScanner
from slrt.attachments.sealing import PayloadKeys, Sealer
from slrt.attachments.storage import BlobStore, LocalStore, NotStored, S3Config, S3Store
from slrt.errors import NotFound, Unavailable

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0


class AttachmentSettings(BaseModel):
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Largest file accepted (bytes, as uploaded); 413 beyond."""
    attachment_max_count: int = Field(default=10, ge=1)
    """Attachments one complaint may have; 409 beyond."""
    attachment_max_pixels: int = Field(default=40_000_000, ge=1)
    """Largest image (width × height) decoded; 422 beyond (decompression bombs)."""
    attachment_keys_ref: str = "attachment-keys"
    """The secret holding the attachments' AES-256-GCM key ring (``slrt.attachments.sealing``:
    ``<key id>:<base64 of 32 bytes>`` entries, the current key first)."""
    attachment_link_seconds: int = Field(default=120, ge=5, le=3600)
    """How long a download link lives."""
    attachment_store: Literal["local", "s3"] = "local"
    """Where sealed attachments live: a folder (``attachment_dir``) or an S3-compatible store."""
    attachment_dir: Path = Path(".slrt/attachments")
    attachment_s3_endpoint: str | None = None
    """The store's API as intake reaches it, e.g. ``http://minio.storage:9000``."""
    attachment_s3_public_endpoint: str | None = None
    """Where readers' browsers reach the store (presigned links), when not the endpoint above."""
    attachment_s3_bucket: str = "slrt-attachments"
    attachment_s3_region: str = "us-east-1"
    attachment_s3_credentials_ref: str = "attachment-s3-credentials"
    """The secret with the store's access key id and secret key, separated by white space."""
    clamd_address: str | None = None
    """``host:port`` of a clamd (ClamAV) that scans every upload; unset: no scanning."""
    clamd_timeout_seconds: float = Field(default=30.0, gt=0)


@dataclass
class AttachmentParts:
    """What a service holds for attachments while it runs (a runtime part)."""

    store: BlobStore
    sealer: Sealer | None
    link_keys: list[bytes]
    scanner: ClamdScanner | None
    settings: AttachmentSettings

    def require_sealer(self) -> Sealer:
        if self.sealer is None:
            raise Unavailable(
                "attachments are not configured (no attachment key ring)",
                kind="attachments-unavailable",
                title="Attachments unavailable",
            )
        return self.sealer

    async def accept(self, data: bytes) -> content.Cleaned:
        """Scan (when a scanner is configured), then judge and clean the file
        (:func:`slrt.attachments.content.clean`); raises the refusal."""
        self.require_sealer()
        if self.scanner is not None:
            await self.scanner.require_clean(data)
        return await asyncio.to_thread(content.clean, data, self.settings.attachment_max_pixels)

    async def keep(self, name: str, cleaned: content.Cleaned) -> str:
        """Seal and store the file under ``name``; the key id it was sealed with."""
        sealer = self.require_sealer()
        await self.store.put(name, sealer.seal(cleaned.data, name))
        return sealer.current_key_id

    async def opened(self, name: str) -> bytes:
        sealer = self.require_sealer()
        try:
            sealed = await self.store.get(name)
        except NotStored:
            raise NotFound("No such attachment") from None
        return sealer.open(sealed, name)

    async def link_url(
        self, name: str, attachment_id: object, content_type: str, filename: str, local_url: str
    ) -> str:
        """A presigned link to a delivery copy (S3), else ``local_url`` + a signed token."""
        if isinstance(self.store, S3Store):
            return await self.store.delivery_link(
                await self.opened(name),
                content_type=content_type,
                filename=filename,
                seconds=self.settings.attachment_link_seconds,
            )
        return local_url


def make_store(settings: AttachmentSettings) -> BlobStore:
    if settings.attachment_store == "s3":
        if not settings.attachment_s3_endpoint:
            raise ValueError("the attachment S3 endpoint is required for the s3 store")
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


def make_parts(settings: AttachmentSettings) -> AttachmentParts:
    """The store, the key ring (when configured: without it the attachment routes answer 503,
    the rest of the service works) and the scanner (when configured)."""
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
    return AttachmentParts(make_store(settings), sealer, keys, scanner, settings)


async def sweep(parts: AttachmentParts, stop: asyncio.Event) -> None:
    """Delete expired delivery copies (S3) every minute until ``stop``."""
    while not stop.is_set():
        try:
            await parts.store.sweep_deliveries()
        except Exception as exc:  # the store down: try again next round
            log.warning("delivery sweep skipped", extra={"error_type": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_SECONDS)


def may_add(count: int, limit: int) -> bool:
    """One more attachment may be added while there are fewer than ``limit``."""
    return count < limit


def download_name(attachment_id: object, content_type: str) -> str:
    """The file name a download carries: never the uploader's (it may name a person)."""
    return f"lampiran-{str(attachment_id)[:8]}.{Kind(content_type).extension}"
