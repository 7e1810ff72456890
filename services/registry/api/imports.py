"""The import API for the district data manager: a DT-PPFM extract as a ``text/csv`` body."""

from __future__ import annotations

import tempfile
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from services.registry.api import aggregates
from services.registry.api.deps import CurrentPrincipal, Pool
from services.registry.importer import ExtractError, RowError, error_report_csv, import_extract
from slrt.auth import Action
from slrt.auth.api import authorize
from slrt.problems import Problem

router = APIRouter(prefix="/v1/imports", tags=["imports"])

MAX_BYTES = 2 * 1024**3


class ImportSummary(BaseModel):
    import_id: UUID
    rows_read: int
    rows_rejected: int
    households_changed: int
    individuals_changed: int
    participation_added: int
    participation_removed: int
    errors: list[dict[str, str | int]]
    """The first 1,000 row errors (line, field, rule); all of them at ``…/errors``."""
    repeat_of: UUID | None = None
    """The import whose result this one repeated (the file unchanged, nothing written since)."""


@router.post(
    "",
    response_model=ImportSummary,
    status_code=201,
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
async def import_file(request: Request, principal: CurrentPrincipal, pool: Pool) -> ImportSummary:
    """Import an extract (the CSV as the body). Rows outside your area are rejected by line."""
    authorize(principal, Action.REGISTRY_IMPORT)
    if not request.headers.get("content-type", "").startswith("text/csv"):
        raise Problem(415, "unsupported-media-type", "Send the extract as text/csv")
    # Spool to disk: a district extract can be hundreds of megabytes.
    with tempfile.SpooledTemporaryFile(max_size=16 * 1024**2) as spool:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BYTES:
                raise Problem(413, "too-large", "The extract is larger than 2 GiB")
            spool.write(chunk)
        spool.seek(0)
        async with pool.acquire() as conn:
            try:
                report = await import_extract(
                    conn,
                    spool,
                    file_name=request.headers.get("x-file-name", "upload.csv"),
                    started_by=principal.subject,
                    area=principal.area,
                )
            except ExtractError as exc:
                raise Problem(
                    422, "invalid-extract", "The file is not a DT-PPFM extract", str(exc)
                ) from None
    # The dashboards' views follow the registry: refresh them once the import committed.
    await aggregates.refresh(pool)
    return ImportSummary(
        import_id=report.import_id,
        rows_read=report.rows_read,
        rows_rejected=report.rows_rejected,
        households_changed=report.households_changed,
        individuals_changed=report.individuals_changed,
        participation_added=report.participation_added,
        participation_removed=report.participation_removed,
        errors=[{"line": e.line, "field": e.field, "rule": e.rule} for e in report.errors[:1000]],
        repeat_of=report.repeat_of,
    )


@router.get("/{import_id}/errors", response_class=PlainTextResponse)
async def import_errors(import_id: UUID, principal: CurrentPrincipal, pool: Pool) -> str:
    """The full row-level error report as CSV (line, field, rule)."""
    authorize(principal, Action.REGISTRY_IMPORT)
    async with pool.acquire() as conn:
        started = await conn.fetchval("SELECT started_by FROM imports WHERE id = $1", import_id)
        if started is None:
            raise Problem(404, "not-found", "No such import")
        rows = await conn.fetch(
            "SELECT line, field, rule FROM import_errors WHERE import_id = $1 "
            "ORDER BY line, field, rule",
            import_id,
        )
    return error_report_csv([RowError(r["line"], r["field"], r["rule"]) for r in rows])
