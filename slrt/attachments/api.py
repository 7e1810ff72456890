"""HTTP helpers of the attachment routes every owning service mounts: reading the file (the
request body, within the size limit), the runtime's :class:`AttachmentParts`, and answering a
download."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response

from slrt.attachments.service import AttachmentParts
from slrt.deps import runtime
from slrt.errors import Invalid, Unavailable, field_error
from slrt.service import Runtime


async def _parts(rt: Annotated[Runtime[Any], Depends(runtime)]) -> AttachmentParts:
    parts = rt.part(AttachmentParts)
    if parts is None:  # start-up not done; never expected while serving
        raise Unavailable("attachments are not ready", title="Attachments unavailable")
    return parts


Parts = Annotated[AttachmentParts, Depends(_parts)]


class TooLarge(Invalid):
    """413: the file is larger than the limit (``file``, ``max_bytes``)."""

    status = 413
    default_kind = "too-large"
    default_title = "File too large"


def too_large(limit: int) -> TooLarge:
    message = f"send at most {limit} bytes"
    return TooLarge(message, errors=[field_error("file", "max_bytes", message)])


async def read_file(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 (``file``, ``max_bytes``) past ``limit`` bytes —
    declared or as it streams in."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def download(data: bytes, content_type: str, filename: str) -> Response:
    """The file, never cached, never rendered inline, in a sandbox if a browser tried."""
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Referrer-Policy": "no-referrer",
        },
    )
