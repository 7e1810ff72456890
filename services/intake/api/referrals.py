"""Program managers' answers: signed callbacks from their systems, a bearer-token API, and the
signed, expiring answer link's page for those with no system of their own."""

from __future__ import annotations

import base64
import logging
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.intake import casefile, casefile_store, referral_store, store
from services.intake.answers import (
    BadSignature,
    Recorded,
    record,
    recorded_answer,
    verify_callback,
)
from services.intake.api import pages
from services.intake.api.complaints import decode_cursor
from services.intake.api.deps import CurrentPrincipal, IdempotencyKey, Pool, Settings
from services.intake.api.problems import BODY, PROBLEM_SCHEMA, problems
from services.intake.domain import acting_role
from services.intake.referral_history import WAITING
from services.intake.schemas import (
    ReferralAnswerIn,
    ReferralAnswerOut,
    ReferralAnswerView,
    ReferralOut,
    ReferralPage,
)
from slrt import answer_links, secrets
from slrt.auth.api import authorize
from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal, Role
from slrt.errors import Conflict
from slrt.places import directory
from slrt.problems import Problem

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["referrals"])


async def _referral(pool: asyncpg.Pool, referral_id: UUID) -> asyncpg.Record:
    """The referral's own record (it stays after the answer)."""
    async with pool.acquire() as conn:
        row = await referral_store.referral(conn, referral_id)
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
        s409="The referral is not waiting for an answer (answered or closed); the problem's "
        "`recorded_answer` names the answer on record and `referral_status` its status",
    ),
)
async def callback(
    referral_id: UUID,
    body: ReferralAnswerIn,
    request: Request,
    pool: Pool,
    settings: Settings,
    webhook_id: Annotated[str | None, Header(alias="webhook-id", max_length=100)] = None,
    webhook_timestamp: Annotated[
        str | None, Header(alias="webhook-timestamp", max_length=20)
    ] = None,
    webhook_signature: Annotated[
        str | None, Header(alias="webhook-signature", max_length=2000)
    ] = None,
) -> ReferralAnswerOut:
    referral = await _referral(pool, referral_id)
    async with pool.acquire() as conn:
        program = await store.program(conn, referral["destination"])
    if program is None or not program.webhook_secret_ref:
        raise Problem(404, "not-found", "No such referral", "its destination takes no callbacks")
    try:
        keys = secrets.webhook_keys(program.webhook_secret_ref)
    except secrets.SecretNotFound:
        log.error("callback secret missing", extra={"program": program.code})
        raise Problem(503, "misconfigured", "Callbacks are not available now") from None
    headers = {
        "webhook-id": webhook_id or "",
        "webhook-timestamp": webhook_timestamp or "",
        "webhook-signature": webhook_signature or "",
    }
    try:
        verified_id = verify_callback(
            await request.body(), headers, keys, settings.callback_tolerance_seconds
        )
    except BadSignature as exc:
        raise Problem(
            401,
            "bad-signature",
            "The callback's signature is not valid",
            str(exc),
            headers={"WWW-Authenticate": 'Signature realm="slrt-callbacks"'},
        ) from None
    return _out(
        await record(pool, answer_id=verified_id, referral=referral, answer=body, via="callback")
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
        s409="The referral is not waiting for an answer (answered or closed); the problem's "
        "`recorded_answer` names the answer on record",
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
        program=referral["destination"],
        what="referral",
    )
    answer_id = f"api:{principal.subject}:{key}"
    return _out(await record(pool, answer_id=answer_id, referral=referral, answer=body, via="api"))


def referral_out(row: asyncpg.Record, description: str | None = None) -> ReferralOut:
    """A ``referrals`` row (with the complaint's ``step`` when joined) as the API shows it."""
    waiting = row["status"] in _WAITING
    answer = recorded_answer(row)
    return ReferralOut(
        referral_id=row["referral_id"],
        complaint_id=row["complaint_id"],
        ticket_number=row["ticket_number"],
        program=row["destination"],
        place_code=row["place_code"],
        category=row["category"],
        status=row["status"],
        step=row.get("step"),
        channel=row["channel"],
        approved_at=row["approved_at"],
        approval_note=row["approval_note"],
        separation_of_duties=row["separation_of_duties"],
        delivered_at=row["delivered_at"],
        answer_due=row["answer_due"] if waiting else None,
        answer=ReferralAnswerView.model_validate(answer) if answer else None,
        closed_at=row["closed_at"],
        description=description,
    )


_WAITING = frozenset(s.value for s in WAITING)


def _cursor(row: asyncpg.Record) -> str:
    """Keyset cursor on (approved_at, referral_id), in the format ``decode_cursor`` reads."""
    raw = f"{row['approved_at'].isoformat()}|{row['referral_id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@router.get(
    "/referrals",
    response_model=ReferralPage,
    summary="Program managers: referrals to my programs (waiting for an answer by default)",
    description="Newest approval first. `waiting=false` lists answered and closed referrals "
    "too, each with its status and the answer on record.",
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
    async with pool.acquire() as conn:
        rows = await referral_store.to_programs(
            conn,
            programs=sorted(principal.programs),
            waiting_only=waiting,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
    page = rows[:limit]
    return ReferralPage(
        items=[referral_out(r) for r in page],
        next_cursor=_cursor(page[-1]) if len(rows) > limit else None,
    )


def _authorize_read(principal: Principal, row: asyncpg.Record) -> bool:
    """Its destination's program manager (True), or staff whose area covers the complaint's
    place (False)."""
    program = row["destination"]
    if decide(principal, Action.REFERRAL_READ, program=program) is Decision.ALLOW:
        return True
    authorize(
        principal,
        Action.COMPLAINT_READ,
        place_code=row["place_code"],
        program=program,
        what="referral",
    )
    return False


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralOut,
    summary="One referral, also after its answer: status, destination, approval note, answer",
    description="For the destination's program managers, who also see the complainant as "
    "recorded, and the staff whose area covers the complaint's place (`complaint.read`; the "
    "complainant is in the case file). Every read of the complaint's text is audited.",
    responses=problems(401, 403, 404, 422),
)
async def read_referral(referral_id: UUID, principal: CurrentPrincipal, pool: Pool) -> ReferralOut:
    row = await _referral(pool, referral_id)
    as_program = _authorize_read(principal, row)
    role = Role.PROGRAM_MANAGER if as_program else acting_role(principal, Action.COMPLAINT_READ)
    async with pool.acquire() as conn, conn.transaction():
        read = await casefile_store.read_audited(
            conn,
            row["complaint_id"],
            actor=principal.subject,
            actor_role=role.value,
            action="referral_read",
            identity=as_program,
        )
    out = referral_out(row, read["description"] if read else None)
    if as_program and read is not None:
        out.complainant = casefile.complainant(read)
    return out


# --- The answer link (HTML) --------------------------------------------------------------------


def _html(text: str, status: int = 200) -> HTMLResponse:
    # The link's token is in the URL: no Referer may carry it to another site.
    return HTMLResponse(
        text,
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


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
        row = await referral_store.referral(conn, link.referral_id)
    if (
        row is None
        or row["complaint_id"] != link.complaint_id
        or row["destination"] != link.program
    ):
        return link, None
    return link, row


def _closed_page(refused: Conflict) -> str:
    """The page a late answer-link submission gets: the answer on record, in Indonesian."""
    recorded = refused.extensions.get("recorded_answer")
    if isinstance(recorded, dict):
        label = pages.DECISION_LABELS.get(str(recorded["decision"]), str(recorded["decision"]))
        note = f" Catatan: {recorded['note']}" if recorded.get("note") else ""
        text = f"Rujukan ini sudah dijawab: {label} ({recorded['answered_at']}).{note}"
    else:
        text = refused.detail or refused.title
    return pages.message("Rujukan sudah ditutup", text)


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
    422: {
        "content": {"text/html": {}, "application/problem+json": {"schema": PROBLEM_SCHEMA}},
        "description": "The form is incomplete (a page), or the request holds text that cannot "
        "be stored (a problem document naming the field)",
    },
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
            due=row["answer_due"].isoformat() if row["answer_due"] else "—",
            approval_note=row["approval_note"],
            answered=_answered_text(row),
        )
    )


def _answered_text(row: asyncpg.Record) -> str | None:
    """What the page says instead of the form once the referral no longer waits."""
    if row["status"] in _WAITING:
        return None
    answer = recorded_answer(row)
    if answer is None:
        return f"Rujukan ini sudah ditutup ({row['status']})."
    label = pages.DECISION_LABELS.get(answer["decision"], answer["decision"])
    note = f" Catatan: {answer['note']}" if answer["note"] else ""
    return f"Rujukan ini sudah dijawab: {label}.{note}"


@router.post(
    "/answer/{token}",
    response_class=HTMLResponse,
    summary="Submit the answer link's form (application/x-www-form-urlencoded)",
    responses={
        **_LINK_RESPONSES,
        409: {"content": {"text/html": {}}, "description": "Closed"},
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
        return _html(_closed_page(refused), refused.status)
    return _html(pages.answer_done(recorded.decision, recorded.replayed))
