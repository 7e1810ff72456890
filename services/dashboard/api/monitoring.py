"""The monitoring cycle over HTTP: the questionnaire (instrument API, rounds, the form page),
the quarterly summary with drill-down, and monthly reports travelling district → province →
national (submit, return with a comment, accept; the province's view of its districts).

Who does what (``report.write``, the managers of the SLRT secretariat at each level): an area's
own managers (token area = the round's or report's area) fill in and submit, and keep their
level's own questions; a manager of a level above returns or accepts. Everyone who may read
the area's aggregates (``aggregates.read``) may look.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

import httpx
from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.dashboard import monitoring as store
from services.dashboard.api.deps import dashboard_settings
from services.dashboard.api.pages import TEXT, templates
from services.dashboard.api.session import ApiViewer, PageViewer, token_of
from services.dashboard.domain import monitoring as rules
from services.dashboard.domain.periods import Period, last_completed, period_of
from services.dashboard.domain.planning import registry_tables
from services.dashboard.domain.scope import breadcrumbs, place_name, suppresses_small_cells
from services.dashboard.figures import JAKARTA
from services.dashboard.registry_client import RegistryClient
from services.dashboard.reports import _content
from slrt import deps
from slrt.auth.api import authorize
from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal
from slrt.db import Connection
from slrt.errors import DomainError, Invalid, NotFound, field_error

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])
Lang = Annotated[str, Query(pattern="^(id|en)$")]
AreaQuery = Annotated[str | None, Query(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{10})?$")]
ACTIONS: tuple[rules.Action, ...] = ("save", "submit", "return", "accept")
M = {
    "monitoring": "Pemantauan SLRT",
    "questionnaire": "Kuesioner pemantauan",
    "quarter": "Triwulan",
    "open_rounds": "Buka putaran kuesioner",
    "area": "Wilayah",
    "status": "Status",
    "due": "Batas waktu",
    "late": "Terlambat",
    "submitted": "Dikirim",
    "answered": "Kuesioner terisi",
    "rounds": "Putaran dibuka",
    "small_areas": "Jumlah wilayah 1-4 per jawaban disembunyikan (<5) bagi tingkat di atas "
    "kabupaten/kota, dan satu sel lagi bila hanya satu yang tersembunyi.",
    "save": "Simpan draf",
    "submit": "Kirim",
    "return": "Kembalikan",
    "accept": "Terima",
    "comment": "Catatan",
    "required": "wajib",
    "prefilled": "diisi dari sistem",
    "monthly": "Laporan bulanan berjenjang",
    "month": "Bulan",
    "below": "Laporan wilayah di bawahnya",
    "own_report": "Laporan wilayah ini",
    "make_report": "Buat laporan",
    "summary": "Ringkasan jawaban",
    "yes": "ya",
    "no": "tidak",
    "versions": "Riwayat versi",
    "not_prefilled": "Tidak dapat diisi dari sistem",
}


def _today() -> date:
    """Today where the cycle runs (Asia/Jakarta): due days and lateness are local dates."""
    return datetime.now(JAKARTA).date()


def _pool(request: Request) -> Any:
    return deps.runtime(request).pool


def _who(principal: Principal, area: str) -> rules.Relation | None:
    """The caller's place in the way up of ``area``'s submission (None: may only look)."""
    if decide(principal, Action.REPORT_WRITE, place_code=area) is not Decision.ALLOW:
        return None
    return rules.relation(principal.area, area)


def _quarter(text: str | None) -> Period:
    if text:
        return rules.parse_quarter(text)
    return last_completed("quarterly", _today())


def _month(text: str | None) -> Period:
    if not text:
        return last_completed("monthly", _today())
    try:
        return period_of("monthly", date.fromisoformat(f"{text}-01"))
    except ValueError:
        raise Invalid(errors=[field_error("month", "format", "YYYY-MM")]) from None


async def _registry_overview(request: Request, area: str) -> dict[str, Any] | None:
    """The registry's aggregates of ``area`` read with the caller's token; None when the
    registry cannot answer (the report says so)."""
    settings = dashboard_settings(request)
    transport = deps.runtime(request).part(httpx.AsyncBaseTransport)
    client = RegistryClient(settings.registry_url, transport)
    try:
        overview: dict[str, Any] = await client.get("/v1/aggregates", area, token_of(request) or "")
        return overview
    except DomainError:
        return None
    finally:
        await client.close()


# --- instruments (JSON) ----------------------------------------------------------------------


@api.get("/instrument")
async def instrument(request: Request, principal: ApiViewer, area: AreaQuery = None) -> Any:
    """The questionnaire an area's round would carry now (national + its levels' questions)."""
    chosen = principal.area if area is None else area
    authorize(principal, Action.AGGREGATES_READ, place_code=chosen, what="area")
    async with _pool(request).acquire() as conn:
        return rules.assemble(await store.latest_instruments(conn, chosen))


@api.put("/instrument")
async def put_instrument(
    request: Request,
    principal: ApiViewer,
    area: AreaQuery = None,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    """A new version of the caller's level's instrument: Setnas's questionnaire (national
    managers), or a province's or district's own questions."""
    chosen = principal.area if area is None else area
    authorize(principal, Action.REPORT_WRITE, place_code=chosen, what="area")
    if chosen != principal.area or len(chosen) > 4:
        raise Invalid(errors=[field_error("area", "own_level", "your own province or district")])
    async with _pool(request).acquire() as conn, conn.transaction():
        version = await store.save_instrument(
            conn, chosen, (body or {}).get("sections"), principal.subject
        )
    return {"area": chosen, "version": version}


# --- rounds ----------------------------------------------------------------------------------


async def _open(request: Request, principal: Principal, quarter: str | None) -> list[uuid.UUID]:
    authorize(principal, Action.REPORT_WRITE, place_code=principal.area, what="area")
    period = _quarter(quarter)
    areas = [
        a for a in dashboard_settings(request).monitoring_areas if a.startswith(principal.area)
    ]
    return await store.open_due_rounds(_pool(request), areas, _today(), principal.subject, period)


@api.post("/rounds/open")
async def open_rounds(
    request: Request, principal: ApiViewer, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Open the quarter's rounds of the configured monitoring areas within the caller's area
    (those not open yet; running it twice opens nothing)."""
    opened = await _open(request, principal, str(body.get("quarter") or "") or None)
    return {"opened": [str(i) for i in opened]}


def _round_view(row: dict[str, Any], principal: Principal, today: date) -> dict[str, Any]:
    submitted = row["submitted_at"].astimezone(JAKARTA).date() if row.get("submitted_at") else None
    return {
        "round_id": str(row["round_id"]),
        "area": row["area"],
        "area_name": place_name(row["area"]),
        "quarter": rules.quarter_label(
            Period("quarterly", row["quarter_start"], row["quarter_end"])
        )
        if "quarter_start" in row
        else None,
        "status": row["status"],
        "version": row.get("version"),
        "comment": row.get("comment", ""),
        "due_on": str(row["due_on"]),
        "late": rules.is_late(row["status"], row["due_on"], submitted, today),
        "answers": row["answers"],
        "prefill": row.get("prefill", {}),
        "form": row["form"],
        "may": _may(principal, row),
    }


def _may(principal: Principal, row: dict[str, Any]) -> list[str]:
    who = _who(principal, row["area"])
    allowed: list[str] = []
    for action in ACTIONS:
        try:
            rules.next_status(row["status"], action, who, "x")
        except DomainError:
            continue
        allowed.append(action)
    return allowed


async def _round(request: Request, principal: Principal, round_id: uuid.UUID) -> dict[str, Any]:
    async with _pool(request).acquire() as conn:
        row = await store.get_round(conn, round_id)
    authorize(principal, Action.AGGREGATES_READ, place_code=row["area"], what="monitoring round")
    return row


@api.get("/rounds")
async def rounds(
    request: Request, principal: ApiViewer, quarter: str | None = None, area: AreaQuery = None
) -> dict[str, Any]:
    chosen = principal.area if area is None else area
    authorize(principal, Action.AGGREGATES_READ, place_code=chosen, what="area")
    period = _quarter(quarter)
    async with _pool(request).acquire() as conn:
        found = await store.rounds_in(conn, chosen, period)
    today = _today()
    return {
        "quarter": rules.quarter_label(period),
        "area": chosen,
        "rounds": [
            {k: v for k, v in _round_view(r, principal, today).items() if k != "form"}
            for r in found
        ],
    }


@api.get("/rounds/{round_id}")
async def round_detail(request: Request, principal: ApiViewer, round_id: uuid.UUID) -> Any:
    row = await _round(request, principal, round_id)
    return _round_view(row, principal, _today())


async def _act_on_round(
    request: Request,
    principal: Principal,
    round_id: uuid.UUID,
    action: str,
    answers: dict[str, Any] | None,
    comment: str,
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise Invalid(errors=[field_error("action", "enum", " or ".join(ACTIONS))])
    row = await _round(request, principal, round_id)
    who = _who(principal, row["area"])
    if who == "own" and action in ("save", "submit") and "registry_updates" not in row["prefill"]:
        answers = await _registry_prefill(request, row, answers or {})
    async with _pool(request).acquire() as conn, conn.transaction():
        return await store.act_on_round(
            conn,
            round_id,
            who,
            action,
            answers,
            comment[:2000],
            principal.subject,
        )


async def _registry_prefill(
    request: Request, row: dict[str, Any], answers: dict[str, Any]
) -> dict[str, Any]:
    """Pre-fill the registry updates entered (pre-list entries and change proposals) from the
    registry's aggregates, read with the organiser's token, unless they answered it."""
    overview = await _registry_overview(request, row["area"])
    count = store.registry_updates(overview) if overview is not None else None
    if count is None:
        return answers
    async with _pool(request).acquire() as conn:
        await conn.execute(
            "UPDATE monitoring_rounds SET prefill = prefill || jsonb_build_object("
            "'registry_updates', $2::int) WHERE round_id = $1",
            row["round_id"],
            count,
        )
    out = dict(answers)
    for q in rules.questions(row["form"]).values():
        if q.get("prefill") == "registry_updates" and row["answers"].get(q["key"]) is None:
            out.setdefault(q["key"], count)
    return out


@api.post("/rounds/{round_id}/{action}")
async def round_action(
    request: Request,
    principal: ApiViewer,
    round_id: uuid.UUID,
    action: str,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> Any:
    """``save`` / ``submit`` (``{"answers": {key: value}}``, the area's own managers),
    ``return`` (``{"comment"}``) / ``accept`` (a level above)."""
    payload = body or {}
    answers = payload.get("answers")
    if answers is not None and not isinstance(answers, dict):
        raise Invalid(errors=[field_error("answers", "type", "an object of key: answer")])
    row = await _act_on_round(
        request, principal, round_id, action, answers, str(payload.get("comment") or "")
    )
    return _round_view(row, principal, _today())


@api.get("/rounds/{round_id}/versions")
async def round_versions(request: Request, principal: ApiViewer, round_id: uuid.UUID) -> Any:
    await _round(request, principal, round_id)
    async with _pool(request).acquire() as conn:
        rows = await conn.fetch(
            "SELECT version, status, answers, comment, at, by FROM monitoring_round_versions "
            "WHERE round_id = $1 ORDER BY version",
            round_id,
        )
    return [{**dict(r), "at": r["at"].isoformat()} for r in rows]


# --- the quarterly summary -------------------------------------------------------------------


async def _summary(
    request: Request, principal: Principal, area: str, period: Period
) -> dict[str, Any] | None:
    authorize(principal, Action.AGGREGATES_READ, place_code=area, what="area")
    async with _pool(request).acquire() as conn:
        found = await store.summary(conn, area, period, suppresses_small_cells(principal.area))
    if found is None:
        return None
    today = _today()
    found["rounds"] = [
        {k: v for k, v in _round_view(r, principal, today).items() if k not in ("form",)}
        for r in found["rounds"]
    ]
    found["children"] = [
        {"area": code, "area_name": place_name(code), **figures}
        for code, figures in sorted(found["children"].items())
    ]
    return found


@api.get("/summary")
async def summary(
    request: Request, principal: ApiViewer, quarter: str | None = None, area: AreaQuery = None
) -> Any:
    """The quarter's answers in the area, by the area one level down; counts of areas per
    answer small-cell suppressed for viewers above the district."""
    chosen = principal.area if area is None else area
    period = _quarter(quarter)
    found = await _summary(request, principal, chosen, period)
    if found is None:
        raise NotFound(title="No monitoring round in this area and quarter")
    if suppresses_small_cells(principal.area):
        for r in found["rounds"]:  # an organiser's own words stay with the areas that read them
            r["answers"] = {k: v for k, v in r["answers"].items() if not isinstance(v, str)}
    return {"quarter": rules.quarter_label(period), "area": chosen, **found}


# --- monthly reports on their way up --------------------------------------------------------


async def _report_row(conn: Connection, report_id: uuid.UUID) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM reports WHERE report_id = $1", report_id)
    if row is None:
        raise NotFound(title="No such report")
    return dict(row)


async def _fresh_figures(request: Request, conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
    """The report's figures as of its submission: complaint handling from the read model, the
    registry's aggregates (read with the submitter's token; small cells hidden: the report
    travels upward), and for a province or Setnas the submissions of the level below."""
    period = Period(row["kind"], row["period_start"], row["period_end"])
    figures = await _content(conn, row["kind"], row["area"], period)
    overview = await _registry_overview(request, row["area"])
    if overview is None:
        figures["cards"].append(["Data registri", "tidak tersedia"])
    else:
        for table in registry_tables(overview, "id"):
            figures["tables"].append(
                {
                    "name": f"registry_{table.name}",
                    "title": table.title,
                    "rows": store.suppressed_rows(table.csv_rows()),
                }
            )
    if row["kind"] == "quarterly":
        answered = await store.summary(conn, row["area"], period, suppress=True)
        if answered is not None:
            figures["tables"][:0] = store.questionnaire_tables(answered)
    if len(row["area"]) < 4:
        children = await store.children_reports(
            conn,
            row["area"],
            row["kind"],
            row["period_start"],
            dashboard_settings(request).monitoring_areas,
            _today(),
        )
        figures["tables"].insert(0, store.children_table(children))
    return figures


async def _act_on_report(
    request: Request, principal: Principal, report_id: uuid.UUID, action: str, comment: str
) -> dict[str, Any]:
    typed: rules.Action | None = {"submit": "submit", "return": "return", "accept": "accept"}.get(
        action
    )  # type: ignore[assignment]
    if typed is None:
        raise Invalid(errors=[field_error("action", "enum", "submit, return or accept")])
    async with _pool(request).acquire() as conn:
        row = await _report_row(conn, report_id)
    authorize(principal, Action.AGGREGATES_READ, place_code=row["area"], what="report")
    who = _who(principal, row["area"])
    async with _pool(request).acquire() as conn, conn.transaction():
        figures = None
        if action == "submit" and who == "own" and row["status"] in ("draft", "returned"):
            figures = await _fresh_figures(request, conn, row)
        return await store.act_on_report(
            conn,
            report_id,
            who,
            typed,
            comment[:2000],
            principal.subject,
            figures,
        )


@api.post("/reports/{report_id}/{action}")
async def report_action(
    request: Request,
    principal: ApiViewer,
    report_id: uuid.UUID,
    action: str,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    """``submit`` (the area's own managers; figures refreshed, PDF/XLSX re-rendered),
    ``return`` (``{"comment"}``) or ``accept`` (a level above). Every step is a version."""
    row = await _act_on_report(
        request, principal, report_id, action, str((body or {}).get("comment") or "")
    )
    return _report_view(row)


def _report_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "report_id": str(row["report_id"]),
        "kind": row["kind"],
        "area": row["area"],
        "period_start": str(row["period_start"]),
        "status": row["status"],
        "version": row["version"],
        "return_comment": row["return_comment"],
        "due_on": str(row["due_on"]),
    }


async def _travel(
    request: Request, principal: Principal, area: str, period: Period
) -> dict[str, Any]:
    authorize(principal, Action.AGGREGATES_READ, place_code=area, what="area")
    async with _pool(request).acquire() as conn:
        own = await conn.fetchrow(
            "SELECT * FROM reports WHERE kind = 'monthly' AND area = $1 AND period_start = $2",
            area,
            period.start,
        )
        children = await store.children_reports(
            conn,
            area,
            "monthly",
            period.start,
            dashboard_settings(request).monitoring_areas,
            _today(),
        )
    return {
        "month": f"{period.start:%Y-%m}",
        "area": area,
        "own": _report_view(dict(own)) if own else None,
        "children": [
            {
                **c,
                "report_id": str(c["report_id"]) if c["report_id"] else None,
                "submitted_on": str(c["submitted_on"]) if c["submitted_on"] else None,
                "due_on": str(c["due_on"]),
            }
            for c in children
        ],
    }


@api.get("/reports")
async def travelling_reports(
    request: Request, principal: ApiViewer, month: str | None = None, area: AreaQuery = None
) -> dict[str, Any]:
    """An area's monthly report and those of the level below for the month, which are late."""
    chosen = principal.area if area is None else area
    return await _travel(request, principal, chosen, _month(month))


@api.get("/reports/{report_id}/versions")
async def report_versions(request: Request, principal: ApiViewer, report_id: uuid.UUID) -> Any:
    async with _pool(request).acquire() as conn:
        row = await _report_row(conn, report_id)
        authorize(principal, Action.AGGREGATES_READ, place_code=row["area"], what="report")
        rows = await conn.fetch(
            "SELECT version, status, comment, narrative, at, by FROM report_versions "
            "WHERE report_id = $1 ORDER BY version",
            report_id,
        )
    return [{**dict(r), "at": r["at"].isoformat()} for r in rows]


@api.get("/reports/{report_id}/versions/{version}.pdf")
async def report_version_pdf(
    request: Request, principal: ApiViewer, report_id: uuid.UUID, version: int
) -> Response:
    async with _pool(request).acquire() as conn:
        row = await _report_row(conn, report_id)
        authorize(principal, Action.AGGREGATES_READ, place_code=row["area"], what="report")
        pdf = await conn.fetchval(
            "SELECT pdf FROM report_versions WHERE report_id = $1 AND version = $2",
            report_id,
            version,
        )
    if pdf is None:
        raise NotFound(title="No such version")
    return Response(pdf, media_type="application/pdf")


# --- pages -----------------------------------------------------------------------------------


async def _form(request: Request) -> dict[str, list[str]]:
    return parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)


@router.get("/monitoring", response_class=HTMLResponse)
async def monitoring_page(
    request: Request,
    principal: PageViewer,
    quarter: str | None = None,
    area: AreaQuery = None,
    month: str | None = None,
) -> HTMLResponse:
    chosen = principal.area if area is None else area
    period = _quarter(quarter)
    found = await _summary(request, principal, chosen, period)
    travel = await _travel(request, principal, chosen, _month(month))
    return templates.TemplateResponse(
        request,
        "monitoring.html",
        {
            "lang": "id",
            "t": TEXT["id"],
            "m": M,
            "area": chosen,
            "area_name": place_name(chosen),
            "crumbs": breadcrumbs(principal, chosen),
            "quarter": rules.quarter_label(period),
            "summary": found,
            "travel": travel,
            "status_names": {k: v[0] for k, v in rules.STATUS_NAMES.items()},
            "may_open": _who(principal, principal.area) == "own" and chosen == principal.area,
            "may_make_report": _who(principal, chosen) == "own" and travel["own"] is None,
        },
    )


@router.post("/monitoring/rounds", response_model=None)
async def open_rounds_page(request: Request, principal: PageViewer) -> Response:
    quarter = (await _form(request)).get("quarter", [""])[0]
    await _open(request, principal, quarter or None)
    return RedirectResponse(f"/monitoring?quarter={quarter}", status_code=303)


@router.get("/monitoring/rounds/{round_id}", response_class=HTMLResponse)
async def round_page(request: Request, principal: PageViewer, round_id: uuid.UUID) -> HTMLResponse:
    row = await _round(request, principal, round_id)
    return _render_round(request, principal, row, [], {})


def _render_round(
    request: Request,
    principal: Principal,
    row: dict[str, Any],
    errors: list[Any],
    typed: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    view = _round_view(row, principal, _today())
    return templates.TemplateResponse(
        request,
        "questionnaire.html",
        {
            "lang": "id",
            "t": TEXT["id"],
            "m": M,
            "round": view,
            "answers": {**view["answers"], **typed},
            "errors": {e["field"].removeprefix("answers."): e for e in errors},
            "error_list": errors,
            "status_names": {k: v[0] for k, v in rules.STATUS_NAMES.items()},
            "editable": "save" in view["may"],
            "not_prefilled": [key for key in rules.PREFILLS if key not in view["prefill"]],
        },
        status_code=status_code,
    )


@router.post("/monitoring/rounds/{round_id}", response_model=None)
async def round_post(request: Request, principal: PageViewer, round_id: uuid.UUID) -> Response:
    form = await _form(request)
    action = form.get("action", [""])[0]
    answers = {k[2:]: v[0] for k, v in form.items() if k.startswith("a.")}
    comment = form.get("comment", [""])[0]
    try:
        await _act_on_round(
            request, principal, round_id, action, answers if answers else None, comment
        )
    except Invalid as error:
        row = await _round(request, principal, round_id)
        return _render_round(request, principal, row, error.errors, answers, 422)
    return RedirectResponse(f"/monitoring/rounds/{round_id}", status_code=303)


@router.post("/reports/{report_id}/{action}", response_model=None)
async def report_action_page(
    request: Request, principal: PageViewer, report_id: uuid.UUID, action: str
) -> Response:
    comment = (await _form(request)).get("comment", [""])[0]
    await _act_on_report(request, principal, report_id, action, comment)
    return RedirectResponse(f"/reports/{report_id}", status_code=303)
