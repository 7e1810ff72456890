"""Attachments of pre-list entries and change proposals: upload (the file is the request body;
the same choice as intake's, docs/api.md "Attachments"), list, a short-lived download link
(audited), and the download behind a registry-signed link (local store)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from services.registry import attachments
from services.registry.api.deps import CurrentPrincipal, Pool, Settings
from slrt.attachments.api import Parts, download, read_file

router = APIRouter(prefix="/v1", tags=["attachments"])

UPLOAD_PATH = r"^/v1/(prelist|change-proposals)/[^/]+/attachments$"
"""The routes whose body is a binary file (``slrt.edge.RequestGuard``)."""

PATHS: dict[str, attachments.Owner] = {"prelist": "prelist", "change-proposals": "change"}
Collection = Literal["prelist", "change-proposals"]


class EvidenceOut(BaseModel):
    attachment_id: UUID
    owner: str = Field(description="prelist or change")
    owner_id: UUID
    content_type: str
    size_bytes: int
    sha256: str
    width: int | None = None
    height: int | None = None
    uploaded_at: datetime
    link: str


class EvidencePage(BaseModel):
    items: list[EvidenceOut]


class EvidenceLinkOut(BaseModel):
    url: str
    expires_at: datetime


def evidence_out(collection: str, row: asyncpg.Record) -> EvidenceOut:
    return EvidenceOut(
        attachment_id=row["id"],
        owner=row["owner_kind"],
        owner_id=row["owner_id"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        width=row["width"],
        height=row["height"],
        uploaded_at=row["uploaded_at"],
        link=f"/v1/{collection}/{row['owner_id']}/attachments/{row['id']}/link",
    )


def _json(model: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        model.model_dump_json(), status_code=status, media_type="application/json", headers=headers
    )


BINARY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("image/jpeg", "image/png", "application/pdf")
        },
    }
}


@router.post(
    "/{collection}/{owner_id}/attachments",
    status_code=201,
    response_model=EvidenceOut,
    summary="Attach evidence (JPEG, PNG, PDF) to a pre-list entry or change proposal",
    description="The body is the file; the content decides its type. Images lose their "
    "metadata (EXIF, GPS), PDFs with active content are refused, a configured virus scanner "
    "is asked first. `Idempotency-Key` (the tablet's client id of the file) makes a resend "
    "answer the first upload (200). Front office and facilitators, at the entry's village.",
    openapi_extra=BINARY,
)
async def upload_evidence(
    collection: Collection,
    owner_id: UUID,
    request: Request,
    principal: CurrentPrincipal,
    pool: Pool,
    settings: Settings,
    parts: Parts,
    client_id: Annotated[
        str | None, Header(alias="Idempotency-Key", pattern=r"^[\x21-\x7e]{1,100}$")
    ] = None,
) -> Response:
    data = await read_file(request, settings.attachment_max_bytes)
    done = await attachments.upload(
        pool, parts, settings, principal, PATHS[collection], owner_id, data, client_id
    )
    headers = {"Idempotent-Replayed": "true"} if done.replayed else None
    return _json(evidence_out(collection, done.row), 200 if done.replayed else 201, headers)


@router.get("/{collection}/{owner_id}/attachments", response_model=EvidencePage)
async def list_evidence(
    collection: Collection, owner_id: UUID, principal: CurrentPrincipal, pool: Pool
) -> EvidencePage:
    """Reviewers (supervisor, manager) and submitters (front office, facilitator), in their
    area."""
    rows = await attachments.listed(pool, principal, PATHS[collection], owner_id)
    return EvidencePage(items=[evidence_out(collection, r) for r in rows])


@router.get(
    "/{collection}/{owner_id}/attachments/{attachment_id}/link", response_model=EvidenceLinkOut
)
async def evidence_link(
    collection: Collection,
    owner_id: UUID,
    attachment_id: UUID,
    principal: CurrentPrincipal,
    pool: Pool,
    settings: Settings,
    parts: Parts,
) -> Response:
    """A short-lived download link (audited: ``attachment_read`` with the proposal)."""
    url, expires = await attachments.link(
        pool,
        parts,
        settings,
        settings.public_url,
        principal,
        PATHS[collection],
        owner_id,
        attachment_id,
        datetime.now(UTC),
    )
    return _json(
        EvidenceLinkOut(url=url, expires_at=expires), headers={"Cache-Control": "no-store"}
    )


@router.get("/attachment-downloads/{token}")
async def download_evidence(token: str, pool: Pool, parts: Parts) -> Response:
    """The file behind a registry-signed link (local store); expired or altered: 404."""
    row, data = await attachments.download(pool, parts, token, datetime.now(UTC))
    return download(data, row["content_type"], attachments.download_name(row))
