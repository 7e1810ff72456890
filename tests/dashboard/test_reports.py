"""M&E reports: generated on schedule from the read model (fed through the real broker),
stored once per area and period, announced to the notifier, completed by the manager, and
served as PDF and XLSX only to those who may see the area."""

from __future__ import annotations

import io
import uuid
from datetime import date

import asyncpg
import httpx
from openpyxl import load_workbook

from services.dashboard.reports import complete, run_schedule_once
from services.dashboard.settings import DashboardSettings
from slrt.auth.principal import Role
from slrt.contracts.envelope import from_kafka
from slrt.contracts.events import NotificationRequested
from slrt.contracts.topics import Topic
from slrt.kafka import EventProducer
from slrt.outbox import OutboxRelay
from tests.dashboard.stories import district_stories, spread_stories
from tests.support.dashboard import RunningDashboard, consume, publish
from tests.support.harness import RealStack
from tests.support.kafka_tools import read_topic_to_end


def _sheet_rows(xlsx: bytes, sheet: str) -> list[list[object]]:
    book = load_workbook(io.BytesIO(xlsx), read_only=True)
    return [list(row) for row in book[sheet].iter_rows(values_only=True)]


async def test_scheduled_reports_are_made_once_and_announced(
    real_stack: RealStack,
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    await real_stack.create_topics(Topic.NOTIFICATION_REQUESTS)
    sent = 0
    for story in district_stories() + spread_stories():
        for event in story.events:
            await publish(
                producer, dashboard_settings.lifecycle_topic, event, str(story.complaint_id)
            )
            sent += 1
    await consume(dashboard_settings, dashboard_pool, producer, expect=sent)
    settings = dashboard_settings.model_copy(
        update={"report_areas": ["3204", "32"], "report_recipients": ["manager-3204"]}
    )

    created = await run_schedule_once(dashboard_pool, settings, date(2026, 12, 3))
    assert len(created) == 4  # November and the third quarter, for the district and province
    assert await run_schedule_once(dashboard_pool, settings, date(2026, 12, 20)) == []

    rows = await dashboard_pool.fetch("SELECT * FROM reports ORDER BY kind, area")
    assert [(r["kind"], r["area"], str(r["period_start"])) for r in rows] == [
        ("monthly", "32", "2026-11-01"),
        ("monthly", "3204", "2026-11-01"),
        ("quarterly", "32", "2026-07-01"),
        ("quarterly", "3204", "2026-07-01"),
    ]
    district = next(r for r in rows if r["kind"] == "monthly" and r["area"] == "3204")
    summary = _sheet_rows(district["xlsx"], "Ringkasan")
    assert summary[0] == ["Laporan Bulanan SLRT - Kabupaten/Kota Kabupaten Bandung", None]
    assert ["Pengaduan", 24] in summary
    # Sub-districts of 3204 in November: 10, 7, 5, 2; reports go upward, so small cells hide.
    places = {row[0]: row[1] for row in _sheet_rows(district["xlsx"], "places")[1:]}
    assert places == {
        "Cileunyi (320405)": 10,
        "Cimenyan (320406)": 7,
        "Cilengkrang (320407)": "<5",
        "Bojongsoang (320408)": "<5",
    }
    quarter = next(r for r in rows if r["kind"] == "quarterly" and r["area"] == "3204")
    assert ["Pengaduan", 0] in _sheet_rows(quarter["xlsx"], "Ringkasan")
    assert district["pdf"].startswith(b"%PDF-")

    # Announced through the outbox: one notification per report and recipient.
    relay = OutboxRelay(dashboard_pool, producer, schema="dashboard")
    assert await relay.relay_once() == 4
    ours = {uuid.uuid5(report_id, "manager-3204") for report_id in created}
    # The session's topic: other tests' requests come first; read it to its end (the relay
    # had each of ours acknowledged), then pick ours.
    records = await read_topic_to_end(real_stack.kafka_bootstrap, Topic.NOTIFICATION_REQUESTS)
    found = [
        from_kafka(r.key, r.headers, r.value).parse(NotificationRequested)
        for r in records
        if from_kafka(r.key, r.headers, r.value).type == NotificationRequested.event_type
    ]
    announced = [n for n in found if n.request_id in ours]
    assert len(announced) == 4
    assert {n.kind.value for n in announced} == {"report"}
    assert {n.destination for n in announced} == {"manager-3204"}
    assert all(n.params["pdf_url"].endswith(".pdf") for n in announced)

    # The manager completes the report: the files carry the words.
    async with dashboard_pool.acquire() as conn, conn.transaction():
        done = await complete(
            conn,
            district["report_id"],
            {
                "achievements": "Semua desa melapor",
                "problems": "BPNT lambat",
                "recommendations": "",
            },
            "manager-3204",
        )
    assert done
    after = await dashboard_pool.fetchrow(
        "SELECT * FROM reports WHERE report_id = $1", district["report_id"]
    )
    assert after is not None
    rows_after = _sheet_rows(after["xlsx"], "Ringkasan")
    assert ["Capaian / Achievements", "Semua desa melapor"] in rows_after
    assert ["Permasalahan / Problems", "BPNT lambat"] in rows_after
    assert after["pdf"] != district["pdf"]


async def test_report_pages_for_managers_and_viewers(running_dashboard: RunningDashboard) -> None:
    manager = running_dashboard.headers("3204", Role.MANAGER)
    viewer = running_dashboard.headers("3204", Role.VIEWER)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with httpx.AsyncClient(base_url=running_dashboard.url) as client:
        refused = await client.post(
            "/reports", content="kind=monthly&area=3204&month=2026-11", headers={**viewer, **form}
        )
        assert refused.status_code == 403
        outside = await client.post(
            "/reports", content="kind=monthly&area=3273&month=2026-11", headers={**manager, **form}
        )
        assert outside.status_code == 404
        made = await client.post(
            "/reports", content="kind=monthly&area=3204&month=2026-11", headers={**manager, **form}
        )
        assert made.status_code == 303
        page_url = made.headers["location"].split("?")[0]
        saved = await client.post(
            page_url,
            content="achievements=Capaian+baik&problems=&recommendations=Tambah+fasilitator",
            headers={**manager, **form},
        )
        assert saved.status_code == 303
        listing = await client.get("/reports", headers=viewer)
        assert page_url in listing.text
        xlsx = await client.get(f"{page_url}.xlsx", headers=viewer)
        assert xlsx.status_code == 200
        rows = _sheet_rows(xlsx.content, "Ringkasan")
        assert ["Pengaduan", 24] in rows
        assert ["Rekomendasi / Recommendations", "Tambah fasilitator"] in rows
        pdf = await client.get(f"{page_url}.pdf", headers=viewer)
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        other_district = running_dashboard.headers("3273", Role.VIEWER)
        assert (await client.get(f"{page_url}.pdf", headers=other_district)).status_code == 404
        again = await client.post(
            "/reports", content="kind=monthly&area=3204&month=2026-11", headers={**manager, **form}
        )
        assert again.headers["location"].split("?")[0] == page_url  # one report per period
