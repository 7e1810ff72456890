"""M&E reports: generated from the read model for an area and a period, stored with their PDF
and XLSX, completed by the manager, and announced through the notifier on a schedule."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from services.dashboard.documents import ReportContent, to_pdf, to_xlsx
from services.dashboard.domain.monitoring import due_on
from services.dashboard.domain.periods import KINDS, Period, ReportKind, last_completed
from services.dashboard.domain.scope import place_name
from services.dashboard.domain.view import summary_cards, tables
from services.dashboard.figures import Filters, collect
from services.dashboard.settings import DashboardSettings
from slrt import outbox
from slrt.contracts.events import NotificationRequested
from slrt.contracts.vocabulary import NotificationKind
from slrt.db import Connection
from slrt.stopping import every

log = logging.getLogger(__name__)

SOURCE = "/slrt/dashboard"
TITLES = {"monthly": "Laporan Bulanan SLRT", "quarterly": "Laporan Triwulan SLRT"}
TEMPLATE = "me_report_ready"


async def _content(conn: Connection, kind: ReportKind, area: str, period: Period) -> dict[str, Any]:
    """The figures of ``period`` in ``area``; SLA clocks judged the day after it ended."""
    filters = Filters(area=area, start=period.start, end=period.end)
    figures = await collect(conn, filters, period.end + timedelta(days=1))
    shown = tables(figures, area, "id", True, lambda _place, _extra: None)
    return {
        "cards": summary_cards(figures["summary"], "id", True),
        "tables": [{"name": t.name, "title": t.title, "rows": t.csv_rows()} for t in shown],
    }


def _document(row: dict[str, Any]) -> ReportContent:
    from services.dashboard.monitoring import report_document

    return report_document(row)


async def generate(
    conn: Connection, kind: ReportKind, area: str, period: Period, by: str
) -> uuid.UUID | None:
    """Store the report of ``area`` for ``period``; None if it exists already."""
    row: dict[str, Any] = {
        "report_id": uuid.uuid4(),
        "kind": kind,
        "area": area,
        "period_start": period.start,
        "period_end": period.end,
        "figures": await _content(conn, kind, area, period),
        "achievements": "",
        "problems": "",
        "recommendations": "",
    }
    document = _document(row)
    created: uuid.UUID | None = await conn.fetchval(
        """
        INSERT INTO reports (report_id, kind, area, period_start, period_end, figures,
                             pdf, xlsx, updated_by, due_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (kind, area, period_start) DO NOTHING RETURNING report_id
        """,
        row["report_id"],
        kind,
        area,
        period.start,
        period.end,
        row["figures"],
        to_pdf(document),
        to_xlsx(document),
        by,
        due_on(area, period.end),
    )
    return created


async def complete(
    conn: Connection, report_id: uuid.UUID, narrative: dict[str, str], by: str
) -> bool:
    """Write the manager's achievements, problems and recommendations; re-render the files."""
    row = await conn.fetchrow("SELECT * FROM reports WHERE report_id = $1 FOR UPDATE", report_id)
    if row is None:
        return False
    updated = {**dict(row), **narrative}
    document = _document(updated)
    await conn.execute(
        """
        UPDATE reports SET achievements = $2, problems = $3, recommendations = $4, pdf = $5,
            xlsx = $6, updated_at = now(), updated_by = $7 WHERE report_id = $1
        """,
        report_id,
        updated["achievements"],
        updated["problems"],
        updated["recommendations"],
        to_pdf(document),
        to_xlsx(document),
        by,
    )
    return True


async def list_reports(conn: Connection, area_prefix: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT report_id, kind, area, period_start, period_end, updated_at, "
        "achievements <> '' AS completed, status, version FROM reports WHERE area LIKE $1 "
        "ORDER BY period_start DESC, kind, area",
        area_prefix + "%",
    )
    return [dict(r) for r in rows]


async def run_schedule_once(
    pool: asyncpg.Pool, settings: DashboardSettings, today: date
) -> list[uuid.UUID]:
    """Generate every configured area's report for the last completed month and quarter that
    is not there yet, and ask the notifier to tell each recipient (same transaction)."""
    created: list[uuid.UUID] = []
    for kind in KINDS:
        period = last_completed(kind, today)
        for area in settings.report_areas:
            async with pool.acquire() as conn, conn.transaction():
                report_id = await generate(conn, kind, area, period, "system")
                if report_id is None:
                    continue
                for recipient in settings.report_recipients:
                    await outbox.write(
                        conn,
                        _announcement(settings, report_id, kind, area, period, recipient),
                        source=SOURCE,
                        subject=str(report_id),
                    )
                created.append(report_id)
    if created:
        log.info("reports generated", extra={"count": len(created)})
    return created


def _announcement(
    settings: DashboardSettings,
    report_id: uuid.UUID,
    kind: ReportKind,
    area: str,
    period: Period,
    recipient: str,
) -> NotificationRequested:
    link = f"{settings.public_url}/reports/{report_id}"
    return NotificationRequested(
        request_id=uuid.uuid5(report_id, recipient),
        complaint_id=None,
        kind=NotificationKind.REPORT,
        destination=recipient,
        template=TEMPLATE,
        params={
            "report_id": str(report_id),
            "kind": kind,
            "area": area,
            "area_name": place_name(area),
            "period": period.label,
            "pdf_url": f"{link}.pdf",
            "xlsx_url": f"{link}.xlsx",
            "page_url": link,
        },
        place_code=area if len(area) >= 2 else None,
    )


async def schedule_loop(
    pool: asyncpg.Pool, settings: DashboardSettings, stop: asyncio.Event
) -> None:
    """Check now and then whether a period has ended whose reports are not there yet."""
    zone = ZoneInfo(settings.timezone)

    async def one_pass() -> None:
        await run_schedule_once(pool, settings, datetime.now(zone).date())

    await every(
        stop, settings.report_check_seconds, one_pass, log=log, failed="report schedule pass failed"
    )
