"""Public tracking by ticket number and verifier (no login, no personal data), the household's
rating or appeal, and the HTML tracking page. Rate-limited per client."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import parse_qs
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from services.intake import ratelimit, store
from services.intake.actions import action_fingerprint, claim_key, forward, keep_original_texts
from services.intake.api import pages
from services.intake.api.deps import IdempotencyKey, Pool, Settings, Temporal
from services.intake.api.problems import BODY, problems
from services.intake.domain import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    language,
    status_of,
    step_label,
    verifier_matches,
)
from services.intake.schemas import (
    ActionOut,
    HouseholdResponseIn,
    TrackingIn,
    TrackingInformation,
    TrackingOut,
    TrackingStep,
)
from services.intake.settings import IntakeSettings
from slrt import deps
from slrt.auth.principal import Role
from slrt.contracts import complaints as c
from slrt.contracts.transitions import Reason
from slrt.errors import RateLimited
from slrt.problems import Problem

router = APIRouter(tags=["tracking"])

Lang = Annotated[Literal["id", "en"] | None, Query(description="id (default) or en")]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language", max_length=200)]
NOT_FOUND = Problem(
    404, "not-found", "No such ticket", "no ticket matches this number and verifier"
)
RESPONSES = problems(*BODY, 404, 429, s404="No ticket matches this number and verifier")


def _client(request: Request, settings: IntakeSettings) -> str:
    return ratelimit.client_address(
        request.client.host if request.client else None,
        request.headers.getlist("x-forwarded-for"),
        settings.trusted_proxies,
    )


async def _limit(
    request: Request, pool: asyncpg.Pool, settings: IntakeSettings, ticket: str | None
) -> None:
    """Count the lookup for its client and, once the ticket is known, for the ticket."""
    now = deps.clock(request)()
    if ticket is None:
        await ratelimit.limit(
            pool, "tracking", _client(request, settings), settings.tracking_limit_per_minute, now
        )
        return
    await ratelimit.limit(
        pool,
        "tracking-ticket",
        ticket.strip().upper(),
        settings.tracking_limit_per_ticket_per_minute,
        now,
    )


async def _find(pool: asyncpg.Pool, ticket: str, verifier: str) -> asyncpg.Record:
    async with pool.acquire() as conn:
        row = await store.status_by_ticket(conn, ticket.strip())
    # Unknown ticket and wrong verifier answer alike: the number alone reveals nothing.
    if row is None or not verifier_matches(verifier, row["tracking_code"], row["phone_last4"]):
        raise NOT_FOUND
    return row


async def _view(pool: asyncpg.Pool, row: asyncpg.Record, lang: str) -> TrackingOut:
    async with pool.acquire() as conn:
        timeline = await store.timeline(conn, row["complaint_id"])
    steps = [
        TrackingStep(step="received", label=step_label("received", lang), at=row["submitted_at"])
    ]
    for entry in timeline:
        if entry["to_step"] != steps[-1].step:
            steps.append(
                TrackingStep(
                    step=entry["to_step"], label=step_label(entry["to_step"], lang), at=entry["at"]
                )
            )
    status = status_of(row["step"])
    outcome = row["outcome"]
    information = await _information(pool, timeline)
    return TrackingOut(
        ticket_number=row["ticket_number"],
        status=status,
        status_label=STATUS_LABELS[lang][status],
        current_step=row["step"],
        current_step_label=step_label(row["step"], lang),
        next_step_due=row["step_due"] if status == "open" else None,
        steps=steps,
        outcome=outcome,
        outcome_label=OUTCOME_LABELS[lang].get(outcome) if outcome else None,
        can_respond=status == "closed",
        language=lang,
        information=information,
    )


async def _information(
    pool: asyncpg.Pool, timeline: list[asyncpg.Record]
) -> TrackingInformation | None:
    """The program-information entry an information request was answered from (its title as
    intake's copy holds it now), from the closing transition's details."""
    answered = next(
        (
            t["details"]
            for t in reversed(timeline)
            if t["reason"] == Reason.ANSWERED_AT_REGISTRATION and t["details"]
        ),
        None,
    )
    if not answered or "entry_id" not in answered:
        return None
    try:
        entry_id = UUID(str(answered["entry_id"]))
    except ValueError:
        return None
    async with pool.acquire() as conn:
        entry = await store.program_info(conn, entry_id)
    if entry is None:
        return None
    return TrackingInformation(
        title=entry["title"],
        topic=entry["topic"],
        entry_version=int(answered.get("entry_version") or entry["version"]),
    )


@router.post(
    "/v1/tracking",
    response_model=TrackingOut,
    summary="Track a complaint: status, steps with dates, next due date, outcome",
    description="Bahasa Indonesia by default; English with `lang=en` or Accept-Language. "
    "The verifier is the tracking code or the last 4 digits of the complainant's phone.",
    responses=RESPONSES,
)
async def track(
    body: TrackingIn,
    request: Request,
    pool: Pool,
    settings: Settings,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> TrackingOut:
    await _limit(request, pool, settings, None)
    await _limit(request, pool, settings, body.ticket_number)
    row = await _find(pool, body.ticket_number, body.verifier)
    return await _view(pool, row, language(lang, accept_language))


@router.post(
    "/v1/tracking/response",
    response_model=ActionOut,
    summary="The household rates the outcome and, within the window, appeals once",
    responses={**RESPONSES, **problems(409, 503)},
)
async def household_response(
    body: HouseholdResponseIn,
    request: Request,
    key: IdempotencyKey,
    pool: Pool,
    temporal: Temporal,
    settings: Settings,
) -> ActionOut:
    await _limit(request, pool, settings, None)
    await _limit(request, pool, settings, body.ticket_number)
    row = await _find(pool, body.ticket_number, body.verifier)
    # The household never logs in: it acts as itself, identified by its ticket only.
    actor = c.Actor(
        user_id=f"household:{row['ticket_number']}", role=Role.VIEWER, area=row["place_code"]
    )
    action = c.HouseholdResponse(
        actor=actor, request_id=key, response=body.response, appeal=body.appeal, note=body.note
    )
    fingerprint = action_fingerprint(
        c.UPDATE_HOUSEHOLD_RESPONSE,
        actor.user_id,
        body.model_dump(mode="json", exclude={"verifier"}),
    )
    async with pool.acquire() as conn:
        await claim_key(conn, row["complaint_id"], key, c.UPDATE_HOUSEHOLD_RESPONSE, fingerprint)
    result = await forward(
        temporal,
        row["complaint_id"],
        c.UPDATE_HOUSEHOLD_RESPONSE,
        action,
        current_step=row["step"],
        timeout=settings.update_timeout_seconds,
    )
    await keep_original_texts(
        pool, row["complaint_id"], key, c.UPDATE_HOUSEHOLD_RESPONSE, actor.user_id, action
    )
    return ActionOut(
        complaint_id=row["complaint_id"],
        action=c.UPDATE_HOUSEHOLD_RESPONSE,
        request_id=key,
        result=result,
    )


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store"})


@router.get(
    "/track",
    response_class=HTMLResponse,
    summary="The public tracking page",
    responses={200: {"content": {"text/html": {}}, "description": "The form"}, **problems(422)},
)
async def tracking_page(lang: Lang = None, accept_language: AcceptLanguage = None) -> HTMLResponse:
    return _html(pages.tracking_form(language(lang, accept_language)))


@router.post(
    "/track",
    response_class=HTMLResponse,
    summary="The public tracking page's result",
    responses={
        200: {"content": {"text/html": {}}, "description": "The status"},
        404: {"content": {"text/html": {}}, "description": "No match"},
        429: {"content": {"text/html": {}}, "description": "Too many lookups"},
        **problems(400, 413, 422),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["ticket_number", "verifier"],
                        "properties": {
                            "ticket_number": {"type": "string", "maxLength": 20},
                            "verifier": {"type": "string", "minLength": 4, "maxLength": 32},
                        },
                    }
                }
            },
        }
    },
)
async def tracking_page_result(
    request: Request,
    pool: Pool,
    settings: Settings,
    lang: Lang = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    chosen = language(lang, accept_language)
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    try:
        await _limit(request, pool, settings, None)
        if form.get("ticket_number"):
            await _limit(request, pool, settings, form["ticket_number"][:20])
    except RateLimited as limited:
        return HTMLResponse(
            pages.tracking_form(chosen, pages.TRACK_TEXT[chosen]["too_many"]),
            status_code=429,
            headers=limited.headers(),
        )
    try:
        asked = TrackingIn(
            ticket_number=form.get("ticket_number", ""), verifier=form.get("verifier", "")
        )
        row = await _find(pool, asked.ticket_number, asked.verifier)
    except (ValidationError, Problem):
        return _html(pages.tracking_form(chosen, pages.TRACK_TEXT[chosen]["not_found"]), 404)
    return _html(pages.tracking_result(await _view(pool, row, chosen)))
