"""The dashboard pages (server-rendered, Bahasa Indonesia with English) and their CSV files.

Charts are drawn in the browser by plotly.js, served from the installed ``plotly`` wheel at
``/static/plotly.min.js`` (no CDN); the page embeds the very table rows it shows as the chart's
data, so chart, table and CSV cannot disagree.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from services.dashboard.api.deps import dashboard_settings
from services.dashboard.api.session import (
    COOKIE,
    ApiViewer,
    LoginRequired,
    PageViewer,
    may_list_complaints,
    verify,
)
from services.dashboard.domain.scope import (
    LEVEL_NAMES,
    breadcrumbs,
    is_place_prefix,
    place_name,
    suppresses_small_cells,
)
from services.dashboard.domain.view import Table, label, summary_cards, tables
from services.dashboard.figures import Filters, collect
from slrt import deps
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.auth.principal import Principal
from slrt.auth.tokens import InvalidToken
from slrt.contracts.vocabulary import Category
from slrt.problems import Problem, field_error

HERE = Path(__file__).parent
PLOTLY_JS = Path(str(importlib.resources.files("plotly"))) / "package_data" / "plotly.min.js"
"""plotly.js as the pinned ``plotly`` wheel ships it: installed with the service, served locally."""
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

AreaQuery = Annotated[str | None, Query(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{10})?$")]
Lang = Annotated[str, Query(pattern="^(id|en)$")]
Program = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_.-]*$")]
# The filter form sends empty fields for "all": they are accepted and mean no filter.
Day = Annotated[str | None, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
CategoryQuery = Annotated[str | None, Query(pattern="^(" + "|".join(Category) + ")?$")]


def _day(field: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(
            422, "invalid", "Invalid date", errors=[field_error(field, "date", "not a date")]
        ) from None


def _filters(
    principal: Principal,
    area: str | None,
    start_text: str | None,
    end_text: str | None,
    program: str | None,
    category: str | None,
) -> Filters:
    chosen = principal.area if area is None else area
    if not is_place_prefix(chosen):
        raise Problem(
            422, "invalid", "Invalid area", errors=[field_error("area", "pattern", "place code")]
        )
    authorize(principal, Action.AGGREGATES_READ, place_code=chosen, what="area")
    start, end = _day("start", start_text), _day("end", end_text)
    if start and end and start > end:
        raise Problem(
            422, "invalid", "Invalid period", errors=[field_error("end", "order", "end < start")]
        )
    return Filters(
        area=chosen,
        start=start,
        end=end,
        program=program or None,
        category=category or None,
    )


def _link_maker(request: Request, principal: Principal, filters: Filters) -> Any:
    settings = dashboard_settings(request)

    def link_for(place: str, extra: dict[str, str]) -> str | None:
        if not place or not may_list_complaints(principal, place):
            return None
        query = {"area": place}
        if filters.category:
            query["category"] = filters.category
        if filters.program:
            query["program"] = filters.program
        if filters.start:
            query["submitted_from"] = filters.start.isoformat()
        if filters.end:
            query["submitted_to"] = filters.end.isoformat()
        query.update(extra)
        return f"{settings.intake_public_url}/v1/complaints?{urlencode(query)}"

    return link_for


async def _tables(
    request: Request, principal: Principal, filters: Filters, lang: str
) -> tuple[dict[str, Any], list[Table]]:
    runtime = deps.runtime(request)
    settings = dashboard_settings(request)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    figures = await collect(runtime.pool, filters, today)
    suppress = suppresses_small_cells(principal.area)
    link_for = _link_maker(request, principal, filters)
    return figures, tables(figures, filters.area, lang, suppress, link_for)


def _query(filters: Filters, lang: str, changes: dict[str, str]) -> str:
    """The page's query string with ``changes`` applied (drill-down, language)."""
    query = {
        "area": filters.area,
        "start": filters.start.isoformat() if filters.start else "",
        "end": filters.end.isoformat() if filters.end else "",
        "program": filters.program or "",
        "category": filters.category or "",
        "lang": lang,
        **changes,
    }
    return urlencode({k: v for k, v in query.items() if v})


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    principal: PageViewer,
    area: AreaQuery = None,
    start: Day = None,
    end: Day = None,
    program: Program = None,
    category: CategoryQuery = None,
    lang: Lang = "id",
) -> HTMLResponse:
    filters = _filters(principal, area, start, end, program, category)
    figures, shown = await _tables(request, principal, filters, lang)
    suppress = suppresses_small_cells(principal.area)
    level = LEVEL_NAMES[len(filters.area)][0 if lang == "id" else 1]
    charts = {
        t.name: {
            "x": [r.name for r in t.rows],
            "y": [
                r.cells[t.chart_column].value
                if isinstance(r.cells[t.chart_column].value, int | float)
                else None
                for r in t.rows
            ],
            "label": t.column_labels[t.chart_column],
        }
        for t in shown
    }
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "lang": lang,
            "t": TEXT[lang],
            "area": filters.area,
            "area_name": place_name(filters.area),
            "level": level,
            "crumbs": breadcrumbs(principal, filters.area),
            "filters": filters,
            "categories": [(c.value, label(c.value, lang)) for c in Category],
            "programs": sorted({r["key"] for r in figures["program"] if r["key"] != "-"}),
            "cards": summary_cards(figures["summary"], lang, suppress),
            "tables": shown,
            "charts_json": json.dumps(charts).replace("<", "\\u003c"),
            "suppressed": suppress,
            "query": lambda **changes: _query(filters, lang, changes),
        },
    )


@router.get("/dashboard/{table}.csv")
async def table_csv(
    request: Request,
    principal: ApiViewer,
    table: str,
    area: AreaQuery = None,
    start: Day = None,
    end: Day = None,
    program: Program = None,
    category: CategoryQuery = None,
    lang: Lang = "id",
) -> Response:
    filters = _filters(principal, area, start, end, program, category)
    _, shown = await _tables(request, principal, filters, lang)
    found = next((t for t in shown if t.name == table), None)
    if found is None:
        raise Problem(404, "not-found", "No such table")
    out = io.StringIO()
    csv.writer(out).writerows(found.csv_rows())
    name = f"slrt-{table}-{filters.area or 'nasional'}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/dashboard/{table}.json")
async def table_json(
    request: Request,
    principal: ApiViewer,
    table: str,
    area: AreaQuery = None,
    start: Day = None,
    end: Day = None,
    program: Program = None,
    category: CategoryQuery = None,
    lang: Lang = "id",
) -> dict[str, Any]:
    """One table as JSON (the same rows as the page and the CSV; a suppressed cell is null)."""
    filters = _filters(principal, area, start, end, program, category)
    _, shown = await _tables(request, principal, filters, lang)
    found = next((t for t in shown if t.name == table), None)
    if found is None:
        raise Problem(404, "not-found", "No such table")
    return {
        "table": found.name,
        "title": found.title,
        "area": filters.area,
        "key_label": found.key_label,
        "columns": found.columns,
        "column_labels": found.column_labels,
        "rows": [
            {
                "key": r.key,
                "name": r.name,
                "values": {c: cell.value for c, cell in zip(found.columns, r.cells, strict=True)},
            }
            for r in found.rows
        ],
    }


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, lang: Lang = "id") -> HTMLResponse:
    return templates.TemplateResponse(
        request, "login.html", {"lang": lang, "t": TEXT[lang], "error": None}
    )


@router.post("/login", response_class=HTMLResponse, response_model=None)
async def login(request: Request, lang: Lang = "id") -> Response:
    form = parse_qs((await request.body()).decode(errors="replace"))
    token = (form.get("token") or [""])[0].strip()
    try:
        await verify(request, token)
    except InvalidToken:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"lang": lang, "t": TEXT[lang], "error": TEXT[lang]["bad_token"]},
            status_code=401,
        )
    response = RedirectResponse(f"/dashboard?lang={lang}", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=8 * 3600,
    )
    return response


@router.get("/logout")
async def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/static/plotly.min.js")
async def plotly_js() -> FileResponse:
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=_CACHE)


@router.get("/static/dashboard.js")
async def dashboard_js() -> FileResponse:
    return FileResponse(HERE / "static" / "dashboard.js", media_type="text/javascript")


_CACHE = {"Cache-Control": "public, max-age=86400"}


async def login_redirect(request: Request, exc: Exception) -> RedirectResponse:
    lang = request.query_params.get("lang", "id")
    return RedirectResponse(f"/login?lang={'en' if lang == 'en' else 'id'}", status_code=303)


def install(app: Any) -> None:
    app.add_exception_handler(LoginRequired, login_redirect)


TEXT: dict[str, dict[str, str]] = {
    "id": {
        "title": "Dasbor SLRT",
        "login": "Masuk",
        "token": "Token akses (OIDC)",
        "bad_token": "Token tidak valid atau kedaluwarsa.",
        "logout": "Keluar",
        "period": "Periode",
        "from": "Dari",
        "to": "Sampai",
        "program": "Program",
        "category": "Kategori",
        "all": "Semua",
        "apply": "Terapkan",
        "download": "Unduh CSV",
        "suppressed": "Sel dengan kurang dari 5 rumah tangga disembunyikan (<5).",
        "other_lang": "English",
        "other": "en",
        "reports": "Laporan M&E",
        "monitoring": "Pemantauan",
        "planning": "Perencanaan",
        "summary": "Ringkasan",
    },
    "en": {
        "title": "SLRT Dashboard",
        "login": "Log in",
        "token": "Access token (OIDC)",
        "bad_token": "The token is not valid or has expired.",
        "logout": "Log out",
        "period": "Period",
        "from": "From",
        "to": "To",
        "program": "Program",
        "category": "Category",
        "all": "All",
        "apply": "Apply",
        "download": "Download CSV",
        "suppressed": "Cells of fewer than 5 households are hidden (<5).",
        "other_lang": "Bahasa Indonesia",
        "other": "id",
        "reports": "M&E reports",
        "monitoring": "Monitoring",
        "planning": "Planning",
        "summary": "Summary",
    },
}
