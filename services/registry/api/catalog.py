"""The program catalog API: read by every caller, edited by managers within their area."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from services.registry.api.deps import SOURCE, CurrentPrincipal, Pool, Settings
from services.registry.domain.catalog import ProgramSpec, may_edit, plain_http_refused
from services.registry.store import catalog
from services.registry.store.catalog import StoredProgram
from slrt.auth import Action
from slrt.auth.api import authorize
from slrt.problems import Problem, field_error

router = APIRouter(prefix="/v1/programs", tags=["catalog"])

CODE = Path(pattern=r"^[A-Z][A-Z0-9_]{1,39}$", description="program code, e.g. PKH")


class Program(ProgramSpec):
    code: str
    version: int
    updated_by: str
    updated_at: datetime


class ProgramVersion(BaseModel):
    version: int
    entry: dict[str, Any]
    changed: list[str]
    changed_by: str
    changed_at: datetime


def _out(stored: StoredProgram) -> Program:
    return Program(
        **stored.spec.model_dump(),
        code=stored.code,
        version=stored.version,
        updated_by=stored.updated_by,
        updated_at=stored.updated_at,
    )


@router.get("", response_model=list[Program])
async def list_programs(
    principal: CurrentPrincipal,
    pool: Pool,
    place_code: str | None = Query(
        default=None,
        pattern=r"^(\d{2}|\d{4}|\d{6}|\d{10})$",
        description="only programs serving this place",
    ),
) -> list[Program]:
    async with pool.acquire() as conn:
        return [_out(p) for p in await catalog.list_programs(conn, place_code)]


@router.get("/{code}", response_model=Program)
async def get_program(principal: CurrentPrincipal, pool: Pool, code: str = CODE) -> Program:
    async with pool.acquire() as conn:
        stored = await catalog.get(conn, code)
    if stored is None:
        raise Problem(404, "not-found", "No such program")
    return _out(stored)


@router.put("/{code}", response_model=Program)
async def put_program(
    spec: ProgramSpec,
    principal: CurrentPrincipal,
    pool: Pool,
    settings: Settings,
    response: Response,
    code: str = CODE,
) -> Program:
    """Create or replace a program. Every change is a new version, published to the catalog
    topic; an edit that changes nothing is not."""
    authorize(principal, Action.CATALOG_EDIT)
    if plain_http_refused(spec.callback_url, settings.plain_http_callback_hosts):
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            "One or more fields break a rule; see errors.",
            errors=[
                field_error(
                    "callback_url",
                    "https_required",
                    "a callback URL must use https: referrals carry personal data",
                )
            ],
        )
    async with pool.acquire() as conn, conn.transaction():
        current = await catalog.get(conn, code, for_update=True)
        for area in [spec.area] + ([current.spec.area] if current else []):
            if not may_edit(principal.area, area):
                raise Problem(
                    403,
                    "forbidden",
                    "Not allowed",
                    "this program's area is outside yours: national and province programs are "
                    "kept by the national secretariat and the provinces",
                )
        stored, _ = await catalog.save(
            conn, code, spec, changed_by=principal.subject, source=SOURCE
        )
    response.status_code = 201 if current is None else 200
    return _out(stored)


@router.get("/{code}/versions", response_model=list[ProgramVersion])
async def program_versions(
    principal: CurrentPrincipal, pool: Pool, code: str = CODE
) -> list[ProgramVersion]:
    """Who changed what, when."""
    async with pool.acquire() as conn:
        rows = await catalog.versions(conn, code)
    if not rows:
        raise Problem(404, "not-found", "No such program")
    return [ProgramVersion(**dict(r)) for r in rows]
