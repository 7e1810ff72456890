"""Attachments of complaints: upload (the file as the request body), list, a short-lived
download link (audited), and the download behind a link intake serves itself (local store).

Why the file is the whole request body (``Content-Type`` of the file, one request) and not a
multipart form or a resumable upload: files are small (``attachment_max_bytes``, 10 MiB by
default: a phone photo of a card or a letter); a tablet on a poor connection resends the whole
request with the same ``Idempotency-Key`` (its client id), which answers the first upload, so
a resumable protocol's server-side state (tus, S3 multipart) buys nothing; and the body is read
into memory once, never spooled to a temporary file in plaintext as a multipart parser does.
The declared ``Content-Type`` is not trusted: the content decides.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Header, Request, Response

from services.intake import attachments
from services.intake.api.deps import Clock, CurrentPrincipal, Pool, Settings
from services.intake.api.problems import BODY, problems
from services.intake.schemas import AttachmentLinkOut, AttachmentOut, AttachmentPage
from slrt.attachments.api import Parts, download, read_file

router = APIRouter(prefix="/v1", tags=["attachments"])

UPLOAD_PATH = r"^/v1/complaints/[^/]+/attachments$"
"""The route whose body is a binary file (``slrt.edge.RequestGuard``: its own size limit, no
text checks)."""


def attachment_out(row: asyncpg.Record) -> AttachmentOut:
    return AttachmentOut(
        attachment_id=row["id"],
        complaint_id=row["complaint_id"],
        content_type=row["content_type"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        width=row["width"],
        height=row["height"],
        uploaded_at=row["uploaded_at"],
        uploaded_role=row["uploaded_role"],
        link=f"/v1/complaints/{row['complaint_id']}/attachments/{row['id']}/link",
    )


@router.post(
    "/complaints/{complaint_id}/attachments",
    status_code=201,
    response_model=AttachmentOut,
    operation_id="uploadAttachment",
    summary="Attach a photo (JPEG, PNG) or a PDF to a complaint: the file is the body",
    description="The request body is the file itself (any `Content-Type`: the content is "
    "judged, not the name or the declared type). Images are re-encoded without their metadata "
    "(EXIF, GPS); PDFs with active content (JavaScript, open actions, launch actions, embedded "
    "files…) are refused; with a virus scanner configured, a flagged file is refused. "
    "`Idempotency-Key` (the tablet's client id of the file) makes a resend answer the first "
    "upload (200, `Idempotent-Replayed: true`). Front office, facilitator and back office, in "
    "their area.",
    responses={
        200: {"description": "The same client id was uploaded before: that upload"},
        **problems(*BODY, 401, 403, 404, 409, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/jpeg", "image/png", "application/pdf")
            },
        }
    },
)
async def upload_attachment(
    complaint_id: UUID,
    request: Request,
    principal: CurrentPrincipal,
    pool: Pool,
    settings: Settings,
    parts: Parts,
    client_id: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=r"^[\x21-\x7e]{1,100}$",
            description="Your id of this file (1–100 visible ASCII characters)",
        ),
    ] = None,
) -> Response:
    data = await read_file(request, settings.attachment_max_bytes)
    done = await attachments.upload(pool, parts, settings, principal, complaint_id, data, client_id)
    out = attachment_out(done.row)
    headers = {"Location": f"/v1/complaints/{complaint_id}/attachments/{out.attachment_id}"}
    if done.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        out.model_dump_json(),
        status_code=200 if done.replayed else 201,
        media_type="application/json",
        headers=headers,
    )


@router.get(
    "/complaints/{complaint_id}/attachments",
    response_model=AttachmentPage,
    operation_id="listAttachments",
    summary="A complaint's attachments (what they are; read one through its link)",
    description="Those who may read the complaint's case file, in their area "
    "(`complaint.read_personal`).",
    responses=problems(401, 403, 404, 422),
)
async def list_attachments(
    complaint_id: UUID, principal: CurrentPrincipal, pool: Pool
) -> AttachmentPage:
    rows = await attachments.listed(pool, principal, complaint_id)
    return AttachmentPage(items=[attachment_out(r) for r in rows])


@router.get(
    "/complaints/{complaint_id}/attachments/{attachment_id}/link",
    response_model=AttachmentLinkOut,
    operation_id="attachmentLink",
    summary="A short-lived download link for one attachment (personal data: audited)",
    description="Each call writes an audit row (`attachment_read`: who, role, the complaint, "
    "its step, the attachment) and answers a link that lives "
    "`SLRT_INTAKE_ATTACHMENT_LINK_SECONDS` (120 s by default): a presigned link to the object "
    "store (S3) or a signed link served by intake (local folder). The link needs no bearer "
    "token; keep it to yourself.",
    responses=problems(401, 403, 404, 422, 503),
)
async def attachment_link(
    complaint_id: UUID,
    attachment_id: UUID,
    principal: CurrentPrincipal,
    pool: Pool,
    settings: Settings,
    parts: Parts,
    clock: Clock,
) -> Response:
    made = await attachments.link(
        pool, parts, settings, principal, complaint_id, attachment_id, clock()
    )
    out = AttachmentLinkOut(url=made.url, expires_at=made.expires_at)
    return Response(
        out.model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/attachment-downloads/{token}",
    operation_id="downloadAttachment",
    summary="The file behind a download link intake signed (local store)",
    description="No bearer token: the link is the permission, and it expires. An expired, "
    "altered or unknown link is 404.",
    responses={
        200: {"description": "The file", "content": {"application/octet-stream": {}}},
        **problems(404, 422, 503),
    },
)
async def download_attachment(token: str, pool: Pool, parts: Parts, clock: Clock) -> Response:
    row, data = await attachments.download(pool, parts, token, clock())
    return download(data, row["content_type"], attachments.download_name(row))
