"""Program managers' answers: signed callbacks from their systems, a bearer-token API, and the
signed, expiring answer link's page for those with no system of their own."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.intake import casefile, casefile_store, store
from services.intake.answers import (
    AWAITING_ANSWER,
    BadSignature,
    Recorded,
    record,
    verify_callback,
)
from services.intake.api import pages
from services.intake.api.complaints import decode_cursor, encode_cursor
from services.intake.api.deps import CurrentPrincipal, IdempotencyKey, Pool, Settings
from services.intake.api.problems import BODY, problems
from services.intake.schemas import ReferralAnswerIn, ReferralAnswerOut, ReferralOut, ReferralPage
from slrt import answer_links, secrets
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.errors import Conflict
from slrt.places import directory
from slrt.problems import Problem

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["referrals"])


async def _referral(pool: asyncpg.Pool, referral_id: UUID) -> asyncpg.Record:
    async with pool.acquire() as conn:
        row = await store.status_by_referral(conn, referral_id)
    if row is None:
        raise Problem(404, "not-found", "No such referral")
    return row


def _out(recorded: Recorded) -> ReferralAnswerOut:
    return ReferralAnswerOut(
        answer_id=recorded.answer_id,
        referral_id=recorded.referral_id,
        decision=recorded.decision,
        replayed=recorded.replayed,
    )


@router.post(
    "/referrals/{referral_id}/callback",
    response_model=ReferralAnswerOut,
    summary="A program manager's system answers a referral (Standard Webhooks signature)",
    description="Signed per Standard Webhooks with the destination's secret: headers "
    "`webhook-id` (the idempotency key: a repeat returns the first answer), `webhook-timestamp` "
    "(Unix seconds, within 5 minutes of our clock) and `webhook-signature` (`v1,<base64 "
    "HMAC-SHA256 of id.timestamp.body>`).",
    responses=problems(
        *BODY,
        401,
        404,
        409,
        503,
        s401="Missing, stale or wrong signature",
        s404="No such referral, or its destination takes no callbacks",
        s409="The referral is not waiting for an answer",
    ),
)
async def callback(
    referral_id: UUID,
    body: ReferralAnswerIn,
    request: Request,
    pool: Pool,
    settings: Settings,
    webhook_id: Annotated[str, Header(alias="webhook-id", max_length=100)],
    webhook_timestamp: Annotated[str, Header(alias="webhook-timestamp", max_length=20)],
    webhook_signature: Annotated[str, Header(alias="webhook-signature", max_length=2000)],
) -> ReferralAnswerOut:
    referral = await _referral(pool, referral_id)
    async with pool.acquire() as conn:
        program = await store.program(conn, referral["referral_destination"] or "")
    if program is None or not program.webhook_secret_ref:
        raise Problem(404, "not-found", "No such referral", "its destination takes no callbacks")
    try:
        keys = secrets.webhook_keys(program.webhook_secret_ref)
    except secrets.SecretNotFound:
        log.error("callback secret missing", extra={"program": program.code})
        raise Problem(503, "misconfigured", "Callbacks are not available now") from None
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": webhook_timestamp,
        "webhook-signature": webhook_signature,
    }
    try:
        verify_callback(await request.body(), headers, keys, settings.callback_tolerance_seconds)
    except BadSignature as exc:
        raise Problem(
            401,
            "bad-signature",
            "The callback's signature is not valid",
            str(exc),
            headers={"WWW-Authenticate": 'Signature realm="slrt-callbacks"'},
        ) from None
    return _out(
        await record(pool, answer_id=webhook_id, referral=referral, answer=body, via="callback")
    )


@router.post(
    "/referrals/{referral_id}/answer",
    response_model=ReferralAnswerOut,
    summary="A program manager answers a referral to one of their programs (bearer token)",
    responses=problems(
        *BODY,
        401,
        403,
        404,
        409,
        s404="No such referral to your programs",
        s409="The referral is not waiting for an answer",
    ),
)
async def answer_with_token(
    referral_id: UUID,
    body: ReferralAnswerIn,
    principal: CurrentPrincipal,
    key: IdempotencyKey,
    pool: Pool,
) -> ReferralAnswerOut:
    referral = await _referral(pool, referral_id)
    authorize(
        principal,
        Action.REFERRAL_ANSWER,
        place_code=referral["place_code"],
        program=referral["referral_destination"],
        what="referral",
    )
    answer_id = f"api:{principal.subject}:{key}"
    return _out(await record(pool, answer_id=answer_id, referral=referral, answer=body, via="api"))


def referral_out(row: asyncpg.Record, description: str | None = None) -> ReferralOut:
    return ReferralOut(
        referral_id=row["referral_id"],
        complaint_id=row["complaint_id"],
        ticket_number=row["ticket_number"],
        program=row["referral_destination"],
        place_code=row["place_code"],
        category=row["category"],
        step=row["step"],
        answer_due=row["step_due"] if row["step"] in AWAITING_ANSWER else None,
        description=description,
    )


@router.get(
    "/referrals",
    response_model=ReferralPage,
    summary="Program managers: referrals to my programs (waiting for an answer by default)",
    responses=problems(401, 403, 422),
)
async def list_referrals(
    principal: CurrentPrincipal,
    pool: Pool,
    waiting: bool = True,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ReferralPage:
    if Role.PROGRAM_MANAGER not in principal.roles:
        raise Problem(403, "forbidden", "Not allowed", "referrals are read by program managers")
    steps = sorted(AWAITING_ANSWER) if waiting else [s.value for s in ComplaintStep]
    async with pool.acquire() as conn:
        rows = await store.list_referrals(
            conn,
            programs=sorted(principal.programs),
            steps=steps,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    page = rows[:limit]
    return ReferralPage(
        items=[referral_out(r) for r in page],
        next_cursor=encode_cursor(page[-1]) if len(rows) > limit else None,
    )


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralOut,
    summary="Program managers: one referral to my programs, with the complaint's text and the "
    "complainant as recorded (personal data: every read is audited)",
    responses=problems(401, 403, 404, 422),
)
async def read_referral(referral_id: UUID, principal: CurrentPrincipal, pool: Pool) -> ReferralOut:
    row = await _referral(pool, referral_id)
    authorize(
        principal,
        Action.REFERRAL_READ,
        place_code=row["place_code"],
        program=row["referral_destination"],
        what="referral",
    )
    async with pool.acquire() as conn, conn.transaction():
        read = await casefile_store.read_audited(
            conn,
            row["complaint_id"],
            actor=principal.subject,
            actor_role=Role.PROGRAM_MANAGER.value,
            action="referral_read",
            identity=True,
        )
    out = referral_out(row, read["description"] if read else None)
    out.complainant = casefile.complainant(read) if read else None
    return out


# --- The answer link (HTML) --------------------------------------------------------------------


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store"})


async def _link_referral(
    pool: asyncpg.Pool, token: str
) -> tuple[answer_links.AnswerLink, asyncpg.Record | None]:
    try:
        key = secrets.resolve(answer_links.SECRET_REF)
    except secrets.SecretNotFound:
        log.error("answer-link secret missing")
        raise answer_links.InvalidLink("answer links are not available now") from None
    link = answer_links.verify(key, token)
    async with pool.acquire() as conn:
        row = await store.status_by_referral(conn, link.referral_id)
    if (
        row is None
        or row["complaint_id"] != link.complaint_id
        or (row["referral_destination"] != link.program)
    ):
        return link, None
    return link, row


def _link_problem(exc: answer_links.InvalidLink) -> HTMLResponse:
    if "not available" in str(exc):
        return _html(pages.message("Belum tersedia", "Coba lagi beberapa saat lagi."), 503)
    if "expired" in str(exc):
        return _html(
            pages.message(
                "Tautan kedaluwarsa",
                "Tautan jawaban ini sudah kedaluwarsa. Hubungi sekretariat SLRT untuk tautan baru.",
            ),
            410,
        )
    return _html(pages.message("Tautan tidak sah", "Tautan jawaban ini tidak sah."), 404)


_GONE = pages.message("Rujukan tidak ditemukan", "Rujukan ini tidak ditemukan.")
_LINK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}}, "description": "The page"},
    404: {"content": {"text/html": {}}, "description": "Tampered link or no such referral"},
    410: {"content": {"text/html": {}}, "description": "The link has expired"},
    503: {"content": {"text/html": {}}, "description": "Answer links are not available now"},
}


@router.get(
    "/answer/{token}",
    response_class=HTMLResponse,
    summary="The answer link's page: the referral and a form to answer it (Bahasa Indonesia)",
    responses=_LINK_RESPONSES,
)
async def answer_page(token: str, pool: Pool) -> HTMLResponse:
    try:
        link, row = await _link_referral(pool, token)
    except answer_links.InvalidLink as exc:
        return _link_problem(exc)
    if row is None:
        return _html(_GONE, 404)
    async with pool.acquire() as conn, conn.transaction():
        program = await store.program(conn, link.program)
        read = await casefile_store.read_audited(
            conn,
            row["complaint_id"],
            actor=f"program:{link.program}",
            actor_role=Role.PROGRAM_MANAGER.value,
            action="answer_page",
            identity=False,
        )
        description = read["description"] if read else None
    places = directory()
    place = " — ".join(p.name for p in places.lineage(row["place_code"])[1:]) or row["place_code"]
    return _html(
        pages.answer_form(
            ticket=row["ticket_number"],
            program=program.name if program else link.program,
            place=place,
            category=row["category"],
            description=description or "",
            due=row["step_due"].isoformat() if row["step_due"] else "—",
        )
    )


@router.post(
    "/answer/{token}",
    response_class=HTMLResponse,
    summary="Submit the answer link's form (application/x-www-form-urlencoded)",
    responses={
        **_LINK_RESPONSES,
        409: {"content": {"text/html": {}}, "description": "Closed"},
        422: {"content": {"text/html": {}}, "description": "Form incomplete"},
        **problems(413),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["decision"],
                        "properties": {
                            "decision": {
                                "type": "string",
                                "enum": list(pages.DECISION_LABELS),
                            },
                            "note": {"type": "string", "maxLength": 2000},
                            "expected_date": {"type": "string", "format": "date"},
                            "suggested_destination": {"type": "string", "maxLength": 40},
                        },
                    }
                }
            },
        }
    },
)
async def answer_submit(token: str, request: Request, pool: Pool) -> HTMLResponse:
    try:
        link, row = await _link_referral(pool, token)
    except answer_links.InvalidLink as exc:
        return _link_problem(exc)
    if row is None:
        return _html(_GONE, 404)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    try:
        answer = ReferralAnswerIn(
            decision=form.get("decision", ""),
            note=form.get("note") or None,
            expected_date=date.fromisoformat(form["expected_date"])
            if form.get("expected_date")
            else None,
            suggested_destination=form.get("suggested_destination") or None,
        )
    except (ValidationError, ValueError):
        return _html(
            pages.message("Jawaban belum lengkap", "Pilih keputusan dan periksa isian."), 422
        )
    try:
        recorded = await record(
            pool, answer_id=link.nonce, referral=row, answer=answer, via="answer_link"
        )
    except Conflict as refused:
        return _html(
            pages.message("Rujukan sudah ditutup", refused.detail or refused.title), refused.status
        )
    return _html(pages.answer_done(recorded.decision, recorded.replayed))
