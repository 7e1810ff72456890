"""The console's screens. Each page calls the public APIs with the person's own token and shows
what they answer; each form posts back here, is checked by the plain rules
(``services.console.domain``), forwarded, and on a refusal shown again with the API's
problem+json errors beside the fields they name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote
from uuid import UUID
from zoneinfo import ZoneInfo

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from services.console import domain
from services.console.clients import Answer
from services.console.oidc import LoginFailed
from services.console.parts import ConsoleParts
from services.console.people import DirectoryUnavailable
from services.console.session import COOKIE, LANG_COOKIE, LOGIN_COOKIE, LOGIN_SECONDS, set_cookie
from services.console.text import TEXT
from slrt import deps
from slrt.auth.directory import NotInDirectory
from slrt.auth.principal import Principal, Role
from slrt.auth.tokens import InvalidToken
from slrt.places import Level, directory

HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
)
templates.env.filters["highlight"] = lambda text: highlight(str(text or ""))
router = APIRouter(include_in_schema=False)
WIB = ZoneInfo("Asia/Jakarta")


def highlight(excerpt: str) -> Markup:
    """A search excerpt (PostgreSQL's ``ts_headline`` marks hits with ``<b>``) as safe HTML:
    everything escaped, then only the hit marks turned into ``<mark>``."""
    escaped = str(escape(excerpt))
    return Markup(escaped.replace("&lt;b&gt;", "<mark>").replace("&lt;/b&gt;", "</mark>"))  # noqa: S704


class LoginRequired(Exception):
    """No session, or its token is no longer valid: the browser goes to the login page."""


@dataclass(frozen=True)
class Viewer:
    principal: Principal
    token: str
    lang: str

    @property
    def t(self) -> dict[str, str]:
        return TEXT[self.lang]

    def has(self, role: Role) -> bool:
        return role in self.principal.roles


def parts(request: Request) -> ConsoleParts:
    found = deps.runtime(request).part(ConsoleParts)
    assert found is not None, "the console has not started"
    return found


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE, "id")
    return "en" if asked == "en" else "id"


async def caller(request: Request, token: str) -> Principal:
    """The person ``token`` names: its own claims, verified as the APIs verify them; a token
    with only ``sub`` is the staff directory's person, asked of the registry
    (``services.console.people``: the console keeps no copy of the directory). Raises
    ``InvalidToken``, ``NotInDirectory`` (→ the login page, 403) and ``DirectoryUnavailable``
    (→ 503)."""
    principal, by_directory = await deps.token_verifier(request).verify_claims(token)
    if not by_directory:
        return principal
    return await parts(request).people.principal(token, principal.subject)


async def viewer(request: Request) -> Viewer:
    p = parts(request)
    session = p.codec.open(request.cookies.get(COOKIE), p.settings.session_hours * 3600)
    token = session.get("token") if session else None
    if not isinstance(token, str):
        raise LoginRequired
    try:
        principal = await caller(request, token)
    except InvalidToken:
        raise LoginRequired from None
    return Viewer(principal, token, lang_of(request))


def today() -> date:
    return datetime.now(WIB).date()


def render(
    request: Request,
    template: str,
    v: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = v.lang if v else lang_of(request)
    base = {
        "lang": lang,
        "t": TEXT[lang],
        "viewer": v,
        "screens": domain.screens(v.principal.roles) if v else [],
        "path": request.url.path,
        "place_name": place_name,
    }
    return templates.TemplateResponse(
        request, template, {**base, **context}, status_code=status_code
    )


def place_name(code: str | None) -> str:
    if not code:
        return ""
    place = directory().get(code)
    return f"{place.name} ({code})" if place else code


async def form_of(request: Request) -> dict[str, str]:
    parsed = parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- Login -------------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request) -> Response:
    p = parts(request)
    return render(request, "login.html", None, mode=p.settings.login, error=None)


@router.post("/login", response_class=HTMLResponse, response_model=None)
async def login_with_token(request: Request) -> Response:
    """Local login (``SLRT_CONSOLE_LOGIN=token``): a token of the dev issuer, pasted."""
    p = parts(request)
    if p.settings.login != "token":
        return see("/login/start")
    token = (await form_of(request)).get("token", "").strip()
    try:
        await caller(request, token)
    except InvalidToken:
        lang = lang_of(request)
        return render(request, "login.html", None, 401, mode="token", error=TEXT[lang]["bad_token"])
    return _start_session(request, p, token)


def _start_session(request: Request, p: ConsoleParts, token: str) -> Response:
    response = see("/")
    set_cookie(
        request, response, COOKIE, p.codec.seal({"token": token}), p.settings.session_hours * 3600
    )
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.get("/login/start")
async def login_start(request: Request) -> Response:
    """Production login: off to the OIDC provider with a PKCE challenge; the verifier, state and
    nonce wait in a sealed cookie for the way back."""
    p = parts(request)
    if p.oidc is None:
        return see("/login")
    try:
        started = await p.oidc.start(lang_of(request))
    except Exception:  # the provider is down or its discovery document is wrong
        return render(
            request,
            "login.html",
            None,
            502,
            mode="oidc",
            error=TEXT[lang_of(request)]["login_failed"],
        )
    response = RedirectResponse(started.url, status_code=303)
    set_cookie(request, response, LOGIN_COOKIE, p.codec.seal(started.state), LOGIN_SECONDS)
    return response


@router.get("/callback")
async def login_callback(
    request: Request,
    code: Annotated[str, Query(max_length=2000)] = "",
    state: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    p = parts(request)
    lang = lang_of(request)
    kept = p.codec.open(request.cookies.get(LOGIN_COOKIE), LOGIN_SECONDS)
    if p.oidc is None or kept is None or not code:
        return render(
            request,
            "login.html",
            None,
            400,
            mode=p.settings.login,
            error=TEXT[lang]["login_failed"],
        )
    try:
        token = await p.oidc.finish(kept, code, state)
        await caller(request, token)
    except (LoginFailed, InvalidToken) as failed:
        return render(
            request,
            "login.html",
            None,
            401,
            mode="oidc",
            error=f"{TEXT[lang]['login_failed']}: {failed}",
        )
    return _start_session(request, p, token)


@router.post("/logout")
async def logout() -> Response:
    response = see("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{to}")
async def switch_language(to: str, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = see(target)
    response.set_cookie(
        LANG_COOKIE, "en" if to == "en" else "id", max_age=365 * 86400, samesite="lax", path="/"
    )
    return response


@router.get("/static/console.css")
async def stylesheet() -> FileResponse:
    return FileResponse(HERE / "static" / "console.css", media_type="text/css")


# --- Home --------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    v = await viewer(request)
    return render(request, "home.html", v)


# --- Front office ------------------------------------------------------------------------------


def village_groups(area: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The villages a person may register in, grouped by sub-district (their area: a village,
    a sub-district or a district; wider areas type the code)."""
    places = directory()
    if len(area) == 10:
        place = places.get(area)
        return [("", [(area, place.name if place else area)])]
    if len(area) == 6:
        subs = [p for p in [places.get(area)] if p is not None]
    elif len(area) == 4:
        subs = sorted(places.children(area), key=lambda p: p.name)
    else:
        return []
    return [
        (
            f"{s.name} ({s.code})",
            sorted(((v.code, v.name) for v in places.children(s.code)), key=lambda x: x[1]),
        )
        for s in subs
        if s.level is Level.SUB_DISTRICT
    ]


async def catalog_of(p: ConsoleParts, v: Viewer) -> dict[str, dict[str, Any]]:
    answer = await p.apis.call("registry", "GET", "/v1/programs", v.token)
    return {str(x["code"]): x for x in answer.body or []} if answer.ok else {}


async def _register_page(
    request: Request,
    v: Viewer,
    form: dict[str, str],
    errors: dict[str, str],
    person: dict[str, Any] | None = None,
    looked_up: bool = False,
    status_code: int = 200,
) -> Response:
    p = parts(request)
    catalog = await catalog_of(p, v)
    hint = domain.route_hint(form.get("category", ""), form.get("program_code") or None, catalog)
    return render(
        request,
        "register.html",
        v,
        status_code,
        form=form,
        errors=errors,
        person=person,
        looked_up=looked_up,
        groups=village_groups(v.principal.area),
        catalog=catalog,
        hint=hint,
        hint_text=TEXT[v.lang][hint.key].format(
            program=hint.program or "", agency=hint.agency or "", channel=hint.channel or ""
        ),
        categories=domain.CATEGORIES,
        key=form.get("idempotency_key") or str(uuid.uuid4()),
    )


@router.get("/front/register", response_class=HTMLResponse)
async def register_form(request: Request) -> Response:
    v = await viewer(request)
    return await _register_page(request, v, {}, {})


@router.post("/front/register", response_class=HTMLResponse, response_model=None)
async def register(request: Request) -> Response:
    v = await viewer(request)
    p = parts(request)
    form = await form_of(request)
    if form.get("do") == "lookup":
        nik = form.get("nik", "").strip()
        if not domain.NIK.match(nik):
            return await _register_page(
                request, v, form, {"complainant.nik": "nik_format"}, status_code=422
            )
        found = await p.apis.call(
            "registry", "POST", "/v1/persons/lookup", v.token, json={"nik": nik}
        )
        person = found.body[0] if found.ok and found.body else None
        if person and not form.get("name"):
            form["name"] = person.get("name", "")
        if found.status not in (200, 404):
            return await _register_page(
                request, v, form, domain.field_errors(found.problem), status_code=found.status
            )
        return await _register_page(request, v, form, {}, person=person, looked_up=True)
    if form.get("do") == "route":
        return await _register_page(request, v, form, {})
    body, problems = domain.submission(form)
    if problems:
        return await _register_page(
            request,
            v,
            form,
            {e.field: TEXT[v.lang].get(e.rule, e.rule) for e in problems},
            status_code=422,
        )
    answer = await p.apis.call(
        "intake",
        "POST",
        "/v1/complaints",
        v.token,
        json=body,
        idempotency_key=form.get("idempotency_key") or None,
    )
    if not answer.ok:
        form["idempotency_key"] = "" if answer.status != 503 else form.get("idempotency_key", "")
        return await _register_page(
            request, v, form, domain.field_errors(answer.problem), status_code=answer.status
        )
    got = answer.body
    return see(ticket_path(got, sms=bool(body.get("complainant", {}).get("phone"))))


def ticket_path(accepted: dict[str, Any], sms: bool) -> str:
    return (
        f"/complaints/{accepted['complaint_id']}/ticket?ticket={quote(accepted['ticket_number'])}"
        f"&code={quote(accepted.get('tracking_code') or '')}&sms={'1' if sms else '0'}"
    )


@router.get("/complaints/{complaint_id}/ticket", response_class=HTMLResponse)
async def ticket(
    request: Request,
    complaint_id: UUID,
    ticket: Annotated[str, Query(max_length=20)] = "",
    code: Annotated[str, Query(max_length=20)] = "",
    sms: str = "0",
) -> Response:
    v = await viewer(request)
    p = parts(request)
    status = await p.apis.call("intake", "GET", f"/v1/complaints/{complaint_id}", v.token)
    return render(
        request,
        "ticket.html",
        v,
        complaint=status.body if status.ok else None,
        complaint_id=complaint_id,
        ticket=ticket,
        code=code,
        sms=sms == "1",
    )


@router.get("/front/information", response_class=HTMLResponse)
async def information_page(
    request: Request, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    v = await viewer(request)
    return await _information(request, v, q, {}, {})


async def _information(
    request: Request,
    v: Viewer,
    q: str,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    p = parts(request)
    hits: list[dict[str, Any]] = []
    if q.strip():
        found = await p.apis.call(
            "registry", "GET", "/v1/program-info/search", v.token, params={"q": q, "limit": 10}
        )
        hits = found.body.get("items", []) if found.ok and isinstance(found.body, dict) else []
        if not found.ok:
            errors = {**errors, "q": domain.field_errors(found.problem).get("", "")}
    return render(
        request,
        "information.html",
        v,
        status_code,
        q=q,
        hits=hits,
        form=form,
        errors=errors,
        groups=village_groups(v.principal.area),
        key=str(uuid.uuid4()),
    )


@router.post("/front/information", response_class=HTMLResponse, response_model=None)
async def answer_information(request: Request) -> Response:
    v = await viewer(request)
    p = parts(request)
    form = await form_of(request)
    body, problems = domain.submission({**form, "category": "information"})
    answer_text = form.get("answer", "").strip()
    if form.get("entry_id"):
        body["answer"] = {
            "entry_id": form["entry_id"],
            "entry_version": int(form.get("entry_version") or 1),
            "answer": answer_text,
        }
    if problems:
        return await _information(
            request,
            v,
            form.get("q", ""),
            form,
            {e.field: TEXT[v.lang].get(e.rule, e.rule) for e in problems},
            422,
        )
    answer = await p.apis.call(
        "intake",
        "POST",
        "/v1/complaints",
        v.token,
        json=body,
        idempotency_key=form.get("idempotency_key") or None,
    )
    if not answer.ok:
        return await _information(
            request, v, form.get("q", ""), form, domain.field_errors(answer.problem), answer.status
        )
    got = answer.body
    return see(ticket_path(got, sms=False))


# --- Queues and the complaint ------------------------------------------------------------------


@router.get("/queues/{name}", response_class=HTMLResponse)
async def queue(request: Request, name: str) -> Response:
    v = await viewer(request)
    p = parts(request)
    if name not in domain.QUEUES:
        return render(request, "message.html", v, 404, message=TEXT[v.lang]["empty"])
    step, _role = domain.QUEUES[name]
    found = await p.apis.call(
        "intake",
        "GET",
        "/v1/complaints",
        v.token,
        params={"step": step, "status": "open", "limit": 100},
    )
    items = domain.queue_order(found.body["items"], today()) if found.ok else []
    return render(
        request,
        "queue.html",
        v,
        name=name,
        items=items,
        error=None if found.ok else domain.field_errors(found.problem).get(""),
        overdue={i["complaint_id"] for i in items if domain.is_overdue(i, today())},
    )


async def _complaint_page(
    request: Request,
    v: Viewer,
    complaint_id: UUID,
    errors: dict[str, dict[str, str]] | None = None,
    forms: dict[str, dict[str, str]] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    p = parts(request)
    found = await p.apis.call("intake", "GET", f"/v1/complaints/{complaint_id}/detail", v.token)
    if not found.ok:
        return render(
            request,
            "message.html",
            v,
            found.status,
            message=domain.field_errors(found.problem).get("", ""),
        )
    complaint = found.body
    catalog = await catalog_of(p, v) if v.has(Role.BACK_OFFICE) else {}
    return render(
        request,
        "complaint.html",
        v,
        status_code,
        c=complaint,
        actions=domain.action_forms(complaint["step"], complaint["status"], v.principal.roles),
        errors=errors or {},
        forms=forms or {},
        done=done,
        catalog=catalog,
        key=str(uuid.uuid4()),
        today=today().isoformat(),
    )


@router.get("/complaints/{complaint_id}", response_class=HTMLResponse)
async def complaint_detail(
    request: Request, complaint_id: UUID, done: str | None = None
) -> Response:
    v = await viewer(request)
    return await _complaint_page(request, v, complaint_id, done=done)


ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "supervisor-review": ("decision", "note"),
    "correction": ("description", "category", "program_code", "sub_type"),
    "back-office-action": (
        "kind",
        "answer",
        "decision_code",
        "destination_program",
        "override_reason",
        "duplicate_of",
        "question",
    ),
    "information": ("information",),
    "manager-decision": ("decision", "note"),
    "feedback": ("household_told", "visited_on", "household_response", "note"),
    "withdraw": ("reason",),
}


def action_body(action: str, form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name in ACTION_FIELDS[action]:
        value = form.get(name, "").strip()
        if name == "household_told":
            body[name] = value in ("on", "true", "1")
        elif value:
            body[name] = value
    return body


@router.post(
    "/complaints/{complaint_id}/{action}", response_class=HTMLResponse, response_model=None
)
async def act(request: Request, complaint_id: UUID, action: str) -> Response:
    v = await viewer(request)
    p = parts(request)
    if action not in ACTION_FIELDS:
        return render(request, "message.html", v, 404, message=TEXT[v.lang]["empty"])
    form = await form_of(request)
    answer = await p.apis.call(
        "intake",
        "POST",
        f"/v1/complaints/{complaint_id}/{action}",
        v.token,
        json=action_body(action, form),
        idempotency_key=form.get("idempotency_key") or None,
    )
    if answer.ok:
        return see(f"/complaints/{complaint_id}?done={quote(action)}")
    return await _complaint_page(
        request,
        v,
        complaint_id,
        errors={action: domain.field_errors(answer.problem)},
        forms={action: form},
        status_code=answer.status,
    )


# --- Facilitator -------------------------------------------------------------------------------


@router.get("/tasks", response_class=HTMLResponse)
async def tasks(request: Request) -> Response:
    v = await viewer(request)
    p = parts(request)
    found = await p.apis.call("intake", "GET", "/v1/tasks", v.token, params={"limit": 100})
    items = found.body["items"] if found.ok else []
    items.sort(key=lambda i: (not i["overdue"], i.get("step_due") or "9999-12-31"))
    return render(
        request,
        "tasks.html",
        v,
        items=items,
        error=None if found.ok else domain.field_errors(found.problem).get(""),
    )


@router.get("/villages", response_class=HTMLResponse)
async def villages(request: Request) -> Response:
    v = await viewer(request)
    return render(request, "villages.html", v, groups=village_groups(v.principal.area))


# --- Program manager ---------------------------------------------------------------------------


@router.get("/referrals", response_class=HTMLResponse)
async def referrals(request: Request) -> Response:
    v = await viewer(request)
    p = parts(request)
    found = await p.apis.call("intake", "GET", "/v1/referrals", v.token, params={"limit": 100})
    items = found.body["items"] if found.ok else []
    return render(
        request,
        "referrals.html",
        v,
        items=items,
        error=None if found.ok else domain.field_errors(found.problem).get(""),
    )


async def _referral_page(
    request: Request,
    v: Viewer,
    referral_id: UUID,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    done: bool = False,
    status_code: int = 200,
) -> Response:
    p = parts(request)
    found = await p.apis.call("intake", "GET", f"/v1/referrals/{referral_id}", v.token)
    if not found.ok:
        return render(
            request,
            "message.html",
            v,
            found.status,
            message=domain.field_errors(found.problem).get("", ""),
        )
    return render(
        request,
        "referral.html",
        v,
        status_code,
        r=found.body,
        errors=errors or {},
        form=form or {},
        done=done,
        key=str(uuid.uuid4()),
    )


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
async def referral(request: Request, referral_id: UUID, done: bool = False) -> Response:
    v = await viewer(request)
    return await _referral_page(request, v, referral_id, done=done)


@router.post("/referrals/{referral_id}/answer", response_class=HTMLResponse, response_model=None)
async def answer_referral(request: Request, referral_id: UUID) -> Response:
    v = await viewer(request)
    p = parts(request)
    form = await form_of(request)
    body = {
        k: form[k].strip()
        for k in ("decision", "note", "expected_date", "suggested_destination")
        if form.get(k, "").strip()
    }
    answer: Answer = await p.apis.call(
        "intake",
        "POST",
        f"/v1/referrals/{referral_id}/answer",
        v.token,
        json=body,
        idempotency_key=form.get("idempotency_key") or None,
    )
    if answer.ok:
        return see(f"/referrals/{referral_id}?done=true")
    return await _referral_page(
        request,
        v,
        referral_id,
        domain.field_errors(answer.problem),
        form,
        status_code=answer.status,
    )


# --- Administrator -----------------------------------------------------------------------------


@router.get("/admin/programs", response_class=HTMLResponse)
async def programs(request: Request) -> Response:
    v = await viewer(request)
    p = parts(request)
    catalog = await catalog_of(p, v)
    return render(
        request, "programs.html", v, programs=sorted(catalog.values(), key=lambda x: str(x["code"]))
    )


@router.get("/admin/staff", response_class=HTMLResponse)
async def staff(request: Request) -> Response:
    """The staff directory of the administrator's area (the registry's
    ``GET /v1/staff/persons``: names, roles, areas, programs, villages; no contacts shown)."""
    v = await viewer(request)
    p = parts(request)
    found = await p.apis.call(
        "registry", "GET", "/v1/staff/persons", v.token, params={"area": v.principal.area or None}
    )
    items = found.body if found.ok and isinstance(found.body, list) else []
    error = None if found.ok else domain.field_errors(found.problem).get("") or str(found.status)
    status = found.status if error else 200
    return render(request, "staff.html", v, status, items=items, error=error)


async def login_redirect(request: Request, exc: Exception) -> RedirectResponse:
    return see("/login")


async def not_in_directory(request: Request, exc: Exception) -> Response:
    """A genuine token whose subject is no active person of the staff directory (unknown, or
    left): the login page says so, and the session ends."""
    lang = lang_of(request)
    response = render(
        request,
        "login.html",
        None,
        403,
        mode=parts(request).settings.login,
        error=TEXT[lang]["not_in_directory"],
    )
    response.delete_cookie(COOKIE, path="/")
    return response


async def directory_unavailable(request: Request, exc: Exception) -> Response:
    """The registry did not say who a directory person is: try again shortly (503)."""
    response = render(
        request, "message.html", None, 503, message=TEXT[lang_of(request)]["directory_unavailable"]
    )
    response.headers["Retry-After"] = "5"
    return response


def install(app: Any) -> None:
    app.add_exception_handler(LoginRequired, login_redirect)
    app.add_exception_handler(NotInDirectory, not_in_directory)
    app.add_exception_handler(DirectoryUnavailable, directory_unavailable)
