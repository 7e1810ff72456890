"""The planning page: the registry's aggregates and the poverty scorecard per village, next to
the open complaints from the read model; every table also as CSV."""

from __future__ import annotations

import csv
import io
import json

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.dashboard.api.deps import dashboard_settings
from services.dashboard.api.pages import TEXT, AreaQuery, Lang, templates
from services.dashboard.api.session import ApiViewer, PageViewer, token_of
from services.dashboard.domain.planning import (
    program_gap_table,
    registry_tables,
    scorecard,
    scorecard_table,
)
from services.dashboard.domain.scope import (
    LEVEL_NAMES,
    breadcrumbs,
    place_name,
    suppresses_small_cells,
)
from services.dashboard.domain.view import Table
from services.dashboard.figures import open_by_village
from services.dashboard.registry_client import RegistryClient
from slrt import deps
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.auth.principal import Principal
from slrt.problems import Problem

router = APIRouter(include_in_schema=False)


async def _planning_tables(
    request: Request, principal: Principal, area: str, lang: str
) -> list[Table]:
    authorize(principal, Action.AGGREGATES_READ, place_code=area, what="area")
    runtime = deps.runtime(request)
    settings = dashboard_settings(request)
    transport = runtime.part(httpx.AsyncBaseTransport)  # tests put a stand-in registry here
    token = token_of(request) or ""
    client = RegistryClient(settings.registry_url, transport)
    try:
        places = await client.get("/v1/aggregates/places", area, token)
        overview = await client.get("/v1/aggregates", area, token)
    finally:
        await client.close()
    async with runtime.pool.acquire() as conn:
        open_complaints = await open_by_village(conn, area)
    # The registry reports places one level down (villages from the district down); the open
    # complaints are summed to the same level.
    codes = [p["code"] for p in places["places"]]
    by_place: dict[str, int] = {}
    for village, count in open_complaints.items():
        key = next((code for code in codes if village.startswith(code)), None)
        if key is not None:
            by_place[key] = by_place.get(key, 0) + count
    suppress = suppresses_small_cells(principal.area)
    return [
        scorecard_table(scorecard(places["places"], by_place), lang, suppress, places["depth"]),
        program_gap_table(overview["programs"], lang),
        *registry_tables(overview, lang),
    ]


@router.get("/planning", response_class=HTMLResponse)
async def planning(
    request: Request, principal: PageViewer, area: AreaQuery = None, lang: Lang = "id"
) -> HTMLResponse:
    chosen = principal.area if area is None else area
    shown = await _planning_tables(request, principal, chosen, lang)
    charts = {
        t.name: {
            "x": [r.name for r in t.rows],
            "y": [
                v if isinstance(v := r.cells[t.chart_column].value, int | float) else None
                for r in t.rows
            ],
            "label": t.column_labels[t.chart_column],
        }
        for t in shown
    }
    return templates.TemplateResponse(
        request,
        "planning.html",
        {
            "lang": lang,
            "t": TEXT[lang],
            "area": chosen,
            "area_name": place_name(chosen),
            "level": LEVEL_NAMES[len(chosen)][0 if lang == "id" else 1],
            "crumbs": breadcrumbs(principal, chosen),
            "tables": shown,
            "charts_json": json.dumps(charts).replace("<", "\\u003c"),
            "suppressed": suppresses_small_cells(principal.area),
        },
    )


@router.get("/planning/{table}.csv")
async def planning_csv(
    request: Request, principal: ApiViewer, table: str, area: AreaQuery = None, lang: Lang = "id"
) -> Response:
    chosen = principal.area if area is None else area
    shown = await _planning_tables(request, principal, chosen, lang)
    found = next((t for t in shown if t.name == table), None)
    if found is None:
        raise Problem(404, "not-found", "No such table")
    out = io.StringIO()
    csv.writer(out).writerows(found.csv_rows())
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="slrt-{table}-{chosen}.csv"'},
    )
