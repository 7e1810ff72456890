"""The M&E report pages: list, generate, complete (manager), download as PDF or XLSX."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.dashboard.api.pages import TEXT, templates
from services.dashboard.api.session import PageViewer
from services.dashboard.domain.monitoring import STATUS_NAMES, relation
from services.dashboard.domain.periods import KINDS, ReportKind, period_of
from services.dashboard.domain.scope import is_place_prefix, place_name
from services.dashboard.reports import complete, generate, list_reports
from services.dashboard.settings import DashboardSettings
from slrt import deps
from slrt.auth.api import authorize
from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal
from slrt.errors import Conflict
from slrt.problems import Problem, field_error
from slrt.service import Runtime

router = APIRouter(include_in_schema=False)
Lang = Annotated[str, Query(pattern="^(id|en)$")]
MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
REPORT_TEXT = {
    "id": {
        "reports": "Laporan monitoring dan evaluasi",
        "kind": "Jenis",
        "monthly": "Bulanan",
        "quarterly": "Triwulan",
        "area": "Wilayah",
        "month": "Bulan (awal periode)",
        "generate": "Buat laporan",
        "period": "Periode",
        "completed": "Sudah dilengkapi",
        "achievements": "Capaian",
        "problems": "Permasalahan",
        "recommendations": "Rekomendasi",
        "save": "Simpan",
        "back": "Kembali ke dasbor",
    },
    "en": {
        "reports": "Monitoring and evaluation reports",
        "kind": "Kind",
        "monthly": "Monthly",
        "quarterly": "Quarterly",
        "area": "Area",
        "month": "Month (start of period)",
        "generate": "Generate report",
        "period": "Period",
        "completed": "Completed",
        "achievements": "Achievements",
        "problems": "Problems",
        "recommendations": "Recommendations",
        "save": "Save",
        "back": "Back to the dashboard",
    },
}


def _runtime(request: Request) -> Runtime[DashboardSettings]:
    runtime: Runtime[DashboardSettings] = deps.runtime(request)
    return runtime


def _may_write(principal: Principal, area: str) -> bool:
    return decide(principal, Action.REPORT_WRITE, place_code=area) is Decision.ALLOW


async def _form(request: Request) -> dict[str, str]:
    parsed = parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


@router.get("/reports", response_class=HTMLResponse)
async def reports(request: Request, principal: PageViewer, lang: Lang = "id") -> HTMLResponse:
    async with _runtime(request).pool.acquire() as conn:
        found = await list_reports(conn, principal.area)
    return templates.TemplateResponse(
        request,
        "reports.html",
        {
            "lang": lang,
            "t": TEXT[lang],
            "r": REPORT_TEXT[lang],
            "reports": [{**row, "area_name": place_name(row["area"])} for row in found],
            "may_write": _may_write(principal, principal.area),
            "own_area": principal.area,
            "status_names": {k: v[0 if lang == "id" else 1] for k, v in STATUS_NAMES.items()},
        },
    )


@router.post("/reports", response_model=None)
async def create_report(request: Request, principal: PageViewer, lang: Lang = "id") -> Response:
    form = await _form(request)
    kind, area, month = form.get("kind", ""), form.get("area", ""), form.get("month", "")
    errors = []
    if kind not in KINDS:
        errors.append(field_error("kind", "enum", "monthly or quarterly"))
    if not is_place_prefix(area):
        errors.append(field_error("area", "pattern", "a place-code prefix"))
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        errors.append(field_error("month", "format", "YYYY-MM"))
    if errors:
        raise Problem(422, "invalid", "Invalid report request", errors=errors)
    authorize(principal, Action.REPORT_WRITE, place_code=area, what="area")
    checked: ReportKind = "monthly" if kind == "monthly" else "quarterly"
    period = period_of(checked, first)
    async with _runtime(request).pool.acquire() as conn:
        report_id = await generate(conn, checked, area, period, principal.subject)
        if report_id is None:  # already there: show it
            report_id = await conn.fetchval(
                "SELECT report_id FROM reports WHERE kind = $1 AND area = $2 AND period_start = $3",
                checked,
                area,
                period.start,
            )
    return RedirectResponse(f"/reports/{report_id}?lang={lang}", status_code=303)


async def _report(
    request: Request, principal: Principal, report_id: uuid.UUID
) -> dict[str, object]:
    async with _runtime(request).pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM reports WHERE report_id = $1", report_id)
    if row is None:
        raise Problem(404, "not-found", "No such report")
    authorize(principal, Action.AGGREGATES_READ, place_code=row["area"], what="report")
    return dict(row)


@router.get("/reports/{report_id}.pdf")
async def report_pdf(request: Request, principal: PageViewer, report_id: uuid.UUID) -> Response:
    return _file(await _report(request, principal, report_id), "pdf")


@router.get("/reports/{report_id}.xlsx")
async def report_xlsx(request: Request, principal: PageViewer, report_id: uuid.UUID) -> Response:
    return _file(await _report(request, principal, report_id), "xlsx")


def _file(row: dict[str, object], fmt: str) -> Response:
    name = f"slrt-{row['kind']}-{row['area'] or 'nasional'}-{row['period_start']}.{fmt}"
    content = row[fmt]
    assert isinstance(content, bytes)
    return Response(
        content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/reports/{report_id}", response_class=HTMLResponse)
async def report_page(
    request: Request, principal: PageViewer, report_id: uuid.UUID, lang: Lang = "id"
) -> HTMLResponse:
    row = await _report(request, principal, report_id)
    area = str(row["area"])
    return templates.TemplateResponse(
        request,
        "report.html",
        {
            "lang": lang,
            "t": TEXT[lang],
            "r": REPORT_TEXT[lang],
            "report": row,
            "area_name": place_name(area),
            "figures": row["figures"],
            "may_write": _may_write(principal, area) and row["status"] in ("draft", "returned"),
            "who": relation(principal.area, area) if _may_write(principal, area) else None,
            "status_name": STATUS_NAMES[str(row["status"])][0 if lang == "id" else 1],
        },
    )


@router.post("/reports/{report_id}", response_model=None)
async def complete_report(
    request: Request, principal: PageViewer, report_id: uuid.UUID, lang: Lang = "id"
) -> Response:
    row = await _report(request, principal, report_id)
    authorize(principal, Action.REPORT_WRITE, place_code=str(row["area"]), what="report")
    if row["status"] not in ("draft", "returned"):
        raise Conflict(f"the report is {row['status']}: its words are kept", kind="wrong-status")
    form = await _form(request)
    narrative = {
        key: form.get(key, "")[:5000] for key in ("achievements", "problems", "recommendations")
    }
    async with _runtime(request).pool.acquire() as conn, conn.transaction():
        await complete(conn, report_id, narrative, principal.subject)
    return RedirectResponse(f"/reports/{report_id}?lang={lang}", status_code=303)
