"""The monitoring cycle on the real stack: the dashboard as its own process (its read model fed
through the real broker), the registry's aggregates over HTTP. A quarterly round opened
nationally, answered by two districts of province 32 (one returned and corrected), the
province's own round, the national summary; monthly reports travelling district → province →
national, every version kept, the PDF and XLSX read back; reminders on the notification topic."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from services.dashboard.domain import monitoring as rules
from services.dashboard.settings import DashboardSettings
from slrt.auth.principal import Role
from slrt.contracts.envelope import from_kafka
from slrt.contracts.events import NotificationRequested
from slrt.contracts.topics import Topic
from slrt.kafka import EventProducer
from tests.dashboard.stories import district_stories, spread_stories
from tests.support.dashboard import RunningDashboard, start_dashboard
from tests.support.harness import RealStack
from tests.support.kafka_tools import read_topic_to_end
from tests.support.polling import poll

JAKARTA = ZoneInfo("Asia/Jakarta")
AREAS = ["3204", "3273", "32"]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PROVINCE_QUESTIONS = [
    {
        "id": "dukungan_apbd",
        "title": "Pertanyaan Provinsi Jawa Barat",
        "questions": [
            {"id": "apbd", "text": "Apakah ada dukungan APBD untuk SLRT?", "type": "yes_no"}
        ],
    }
]
DISTRICT_QUESTIONS = [
    {
        "id": "puskesos",
        "title": "Pertanyaan Kabupaten Bandung",
        "questions": [
            {"id": "puskesos_aktif", "text": "Jumlah Puskesos yang aktif", "type": "number"},
        ],
    }
]


@pytest.fixture
async def monitoring_dashboard(
    registry_url: str,
    real_stack: RealStack,
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    tmp_path: Path,
) -> AsyncIterator[RunningDashboard]:
    await real_stack.create_topics(Topic.NOTIFICATION_REQUESTS)
    env = {
        "SLRT_DASHBOARD_REGISTRY_URL": registry_url,
        "SLRT_DASHBOARD_MONITORING_AREAS": '["3204", "3273", "32"]',
        "SLRT_DASHBOARD_REPORT_CHECK_SECONDS": "1",
        # This test opens 2026-Q4 by hand; once that is the last completed quarter the
        # schedule would open it first (tests/e2e/test_monitoring_reminders.py shows it does).
        "SLRT_DASHBOARD_MONITORING_OPEN_ON_SCHEDULE": "false",
    }
    async with start_dashboard(
        dashboard_settings, dashboard_pool, producer, tmp_path, env
    ) as running:
        yield running


def _h(running: RunningDashboard, subject: str, area: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {running.issuer.token(subject, [Role.MANAGER], area)}"}


def _in_quarter(at: datetime, start: date, end: date) -> bool:
    day = at.astimezone(JAKARTA).date()
    return start <= day <= end


def _expected_prefill(area: str) -> dict[str, int]:
    """Counted by hand from the stories fed to the read model (quarter 4 of 2026)."""
    start, end = date(2026, 10, 1), date(2026, 12, 31)
    stories = [s for s in district_stories() + spread_stories() if s.place_code.startswith(area)]
    visits = sum(
        1
        for s in stories
        for e in s.events
        if e.actor_role == "facilitator" and _in_quarter(e.at, start, end)
    )
    captured = sum(
        1
        for s in stories
        if s.channel.value == "facilitator_visit" and _in_quarter(s.events[0].at, start, end)
    )
    return {"kunjungan_rumah": visits, "keluhan_dari_kunjungan": captured}


def _answers(round_view: dict[str, Any]) -> dict[str, Any]:
    """A complete, valid answer to every question of the round's form."""
    answers: dict[str, Any] = {}
    for section in round_view["form"]["sections"]:
        for q in section["questions"]:
            if q["key"] in round_view["answers"]:
                continue
            answers[q["key"]] = {
                "yes_no": "ya",
                "choice": (q.get("options") or [""])[0],
                "number": 2,
                "text": "Koordinasi dengan desa perlu diperkuat",
                "scale": 4,
            }[q["type"]]
    return answers


async def test_quarterly_round_and_monthly_reports_travel_upward(
    monitoring_dashboard: RunningDashboard, registry_url: str, real_stack: RealStack
) -> None:
    running = monitoring_dashboard
    national = _h(running, "setnas-1", "")
    province = _h(running, "pokja-32", "32")
    bandung = _h(running, "manager-3204", "3204")
    kota = _h(running, "manager-3273", "3273")
    viewer = {"Authorization": f"Bearer {running.issuer.token('bappenas', [Role.VIEWER], '')}"}
    async with httpx.AsyncClient(base_url=running.url, timeout=60) as client:
        # The province and the district add their own questions; a bad one is refused.
        bad = await client.put(
            "/v1/monitoring/instrument",
            params={"area": "3204"},
            json={"sections": [{"id": "x", "title": "X", "questions": [{"id": "q"}]}]},
            headers=bandung,
        )
        assert bad.status_code == 422
        fields = {e["field"] for e in bad.json()["errors"]}
        assert {"sections[0].questions[0].text", "sections[0].questions[0].type"} <= fields
        refused = await client.put(
            "/v1/monitoring/instrument",
            params={"area": "3204"},
            json={"sections": DISTRICT_QUESTIONS},
            headers=province,
        )
        assert refused.status_code == 422  # a level keeps its own questions only
        for headers, area, sections in (
            (province, "32", PROVINCE_QUESTIONS),
            (bandung, "3204", DISTRICT_QUESTIONS),
        ):
            saved = await client.put(
                "/v1/monitoring/instrument",
                params={"area": area},
                json={"sections": sections},
                headers=headers,
            )
            assert saved.status_code == 200, saved.text
            assert saved.json() == {"area": area, "version": 1}

        # Setnas opens the fourth quarter's round nationally: one per monitoring area, once.
        opened = await client.post(
            "/v1/monitoring/rounds/open", json={"quarter": "2026-Q4"}, headers=national
        )
        assert opened.status_code == 200, opened.text
        assert len(opened.json()["opened"]) == 3
        again = await client.post(
            "/v1/monitoring/rounds/open", json={"quarter": "2026-Q4"}, headers=national
        )
        assert again.json()["opened"] == []
        listing = (
            await client.get(
                "/v1/monitoring/rounds", params={"quarter": "2026-Q4"}, headers=national
            )
        ).json()
        assert [r["area"] for r in listing["rounds"]] == ["32", "3204", "3273"]
        assert {(r["quarter"], r["status"], r["version"]) for r in listing["rounds"]} == {
            (listing["quarter"], "draft", 0)
        }
        ids = {r["area"]: r["round_id"] for r in listing["rounds"]}

        # The district's form: national questions, the province's and its own; pre-filled.
        form = (await client.get(f"/v1/monitoring/rounds/{ids['3204']}", headers=bandung)).json()
        keys = {q["key"] for s in form["form"]["sections"] for q in s["questions"]}
        assert {"kegiatan_sesuai_rencana", "32.apbd", "3204.puskesos_aktif"} <= keys
        assert form["form"]["versions"] == {"": 1, "32": 1, "3204": 1}
        assert "3204.puskesos_aktif" not in {
            q["key"]
            for s in (
                await client.get(f"/v1/monitoring/rounds/{ids['3273']}", headers=kota)
            ).json()["form"]["sections"]
            for q in s["questions"]
        }
        expected = _expected_prefill("3204")
        assert expected["kunjungan_rumah"] > 0
        for key, value in expected.items():
            assert form["answers"][key] == value, key
        assert isinstance(form["answers"]["tugas_terlambat"], int)
        assert form["status"] == "draft"
        assert form["may"] == ["save", "submit"]

        # A draft keeps partial answers; a submission must be complete and valid.
        draft = await client.post(
            f"/v1/monitoring/rounds/{ids['3204']}/save",
            json={"answers": {"kegiatan_sesuai_rencana": "ya"}},
            headers=bandung,
        )
        assert draft.status_code == 200
        assert draft.json()["status"] == "draft"
        # The registry's aggregates pre-filled the data updates entered (read with the
        # organiser's token): pre-list entries and change proposals recorded in the district.
        overview = (
            await client.get(
                f"{registry_url}/v1/aggregates", params={"area": "3204"}, headers=bandung
            )
        ).json()
        updates = sum(p["count"] for p in overview["proposals"])
        assert draft.json()["answers"]["update_data"] == updates
        assert draft.json()["prefill"]["registry_updates"] == updates
        invalid = await client.post(
            f"/v1/monitoring/rounds/{ids['3204']}/submit",
            json={"answers": {"kemampuan_tablet": 7}},
            headers=bandung,
        )
        assert invalid.status_code == 422
        problems = {e["field"]: e["rule"] for e in invalid.json()["errors"]}
        assert problems["answers.kemampuan_tablet"] == "range"
        assert problems["answers.3204.puskesos_aktif"] == "required"
        for area, headers in (("3204", bandung), ("3273", kota)):
            view = (await client.get(f"/v1/monitoring/rounds/{ids[area]}", headers=headers)).json()
            submitted = await client.post(
                f"/v1/monitoring/rounds/{ids[area]}/submit",
                json={"answers": _answers(view)},
                headers=headers,
            )
            assert submitted.status_code == 200, submitted.text
            assert submitted.json()["status"] == "submitted"

        # The province returns Kabupaten Bandung's round with a comment, accepts Kota Bandung's.
        assert (
            await client.post(f"/v1/monitoring/rounds/{ids['3273']}/accept", headers=kota)
        ).status_code == 403  # not one's own
        no_comment = await client.post(
            f"/v1/monitoring/rounds/{ids['3204']}/return", json={}, headers=province
        )
        assert no_comment.status_code == 422
        assert no_comment.json()["errors"][0]["field"] == "comment"
        returned = await client.post(
            f"/v1/monitoring/rounds/{ids['3204']}/return",
            json={"comment": "Jumlah Puskesos aktif tidak sesuai laporan bulanan"},
            headers=province,
        )
        assert returned.json()["status"] == "returned"
        accepted = await client.post(
            f"/v1/monitoring/rounds/{ids['3273']}/accept", headers=province
        )
        assert accepted.json()["status"] == "accepted"
        # Corrected and submitted again, then accepted.
        corrected = await client.post(
            f"/v1/monitoring/rounds/{ids['3204']}/submit",
            json={"answers": {"3204.puskesos_aktif": 31}},
            headers=bandung,
        )
        assert corrected.json()["status"] == "submitted"
        assert corrected.json()["answers"]["3204.puskesos_aktif"] == 31
        await client.post(f"/v1/monitoring/rounds/{ids['3204']}/accept", headers=province)
        versions = (
            await client.get(f"/v1/monitoring/rounds/{ids['3204']}/versions", headers=province)
        ).json()
        assert [v["status"] for v in versions] == ["submitted", "returned", "submitted", "accepted"]
        assert versions[1]["comment"].startswith("Jumlah Puskesos")
        assert versions[0]["answers"]["3204.puskesos_aktif"] == 2

        # The province answers its own round; Setnas accepts it.
        view = (await client.get(f"/v1/monitoring/rounds/{ids['32']}", headers=province)).json()
        await client.post(
            f"/v1/monitoring/rounds/{ids['32']}/submit",
            json={"answers": _answers(view)},
            headers=province,
        )
        final = await client.post(f"/v1/monitoring/rounds/{ids['32']}/accept", headers=national)
        assert final.json()["status"] == "accepted"

        # The national view shows the province with both districts; small cells hidden.
        summary = (
            await client.get(
                "/v1/monitoring/summary", params={"quarter": "2026-Q4"}, headers=viewer
            )
        ).json()
        assert summary["children"] == [
            {
                "area": "32",
                "area_name": summary["children"][0]["area_name"],
                "rounds": 3,
                "answered": 3,
                "numbers": summary["children"][0]["numbers"],
            }
        ]
        numbers = summary["children"][0]["numbers"]
        assert numbers["kunjungan_rumah"] == (
            _expected_prefill("3204")["kunjungan_rumah"]
            + _expected_prefill("3273")["kunjungan_rumah"]
            + _expected_prefill("32")["kunjungan_rumah"]
        )
        closed = {c["key"]: dict(c["counts"]) for c in summary["closed"]}
        assert closed["kegiatan_sesuai_rencana"] == {"ya": None, "tidak": 0}  # 3 areas: < 5
        assert all(
            isinstance(v, int | None) for r in summary["rounds"] for v in r["answers"].values()
        )
        drill = (
            await client.get(
                "/v1/monitoring/summary",
                params={"quarter": "2026-Q4", "area": "32"},
                headers=national,
            )
        ).json()
        assert [c["area"] for c in drill["children"]] == ["32", "3204", "3273"]
        assert {r["area"]: r["status"] for r in drill["rounds"]} == {
            "32": "accepted",
            "3204": "accepted",
            "3273": "accepted",
        }
        page = await client.get("/monitoring", params={"quarter": "2026-Q4"}, headers=national)
        assert page.status_code == 200
        assert 'data-area="32"' in page.text
        assert "Jawa Barat" in page.text

        # Monthly reports: each district makes, writes and submits November's.
        report_ids: dict[str, str] = {}
        for area, headers in (("3204", bandung), ("3273", kota)):
            made = await client.post(
                "/reports",
                content=f"kind=monthly&area={area}&month=2026-11",
                headers={**headers, **FORM},
            )
            assert made.status_code == 303
            report_ids[area] = made.headers["location"].split("?")[0].rsplit("/", 1)[1]
            await client.post(
                f"/reports/{report_ids[area]}",
                content=f"achievements=Rakor+rutin&problems=&recommendations=Rekomendasi+{area}",
                headers={**headers, **FORM},
            )
            sent = await client.post(
                f"/v1/monitoring/reports/{report_ids[area]}/submit", headers=headers
            )
            assert sent.status_code == 200, sent.text
            assert sent.json()["status"] == "submitted"
        # The province sees its districts' November reports, and which are late: October's are
        # missing, and their due day (10 November) has passed.
        travel = (
            await client.get(
                "/v1/monitoring/reports", params={"month": "2026-11"}, headers=province
            )
        ).json()
        assert {c["area"]: c["status"] for c in travel["children"]} == {
            "3204": "submitted",
            "3273": "submitted",
        }
        today = datetime.now(JAKARTA).date()
        assert {c["area"]: c["late"] for c in travel["children"]} == {
            a: rules.is_late("submitted", date(2026, 12, 10), today, today) for a in report_ids
        }
        october = (
            await client.get(
                "/v1/monitoring/reports", params={"month": "2026-10"}, headers=province
            )
        ).json()
        assert {(c["area"], c["status"], c["late"]) for c in october["children"]} == {
            ("3204", "missing", True),
            ("3273", "missing", True),
        }
        # Returned to Kabupaten Bandung with a comment; its words are locked while submitted.
        locked = await client.post(
            f"/reports/{report_ids['3204']}",
            content="achievements=x&problems=&recommendations=y",
            headers={**bandung, **FORM},
        )
        assert locked.status_code == 409
        back = await client.post(
            f"/v1/monitoring/reports/{report_ids['3204']}/return",
            json={"comment": "Lengkapi rekomendasi untuk BPNT"},
            headers=province,
        )
        assert back.json()["status"] == "returned"
        await client.post(
            f"/reports/{report_ids['3204']}",
            content="achievements=Rakor+rutin&problems=BPNT+lambat"
            "&recommendations=Percepat+penyaluran+BPNT",
            headers={**bandung, **FORM},
        )
        again_sent = await client.post(
            f"/v1/monitoring/reports/{report_ids['3204']}/submit", headers=bandung
        )
        assert again_sent.json()["version"] == 3
        for area in report_ids:
            ok = await client.post(
                f"/v1/monitoring/reports/{report_ids[area]}/accept", headers=province
            )
            assert ok.json()["status"] == "accepted"

        # The province writes its summary and submits it to Setnas, who accepts it.
        made = await client.post(
            "/reports",
            content="kind=monthly&area=32&month=2026-11",
            headers={**province, **FORM},
        )
        province_report = made.headers["location"].split("?")[0].rsplit("/", 1)[1]
        await client.post(
            f"/reports/{province_report}",
            content="achievements=Dua+kabupaten%2Fkota+melapor&problems="
            "&recommendations=Ringkasan+provinsi%3A+perkuat+BPNT",
            headers={**province, **FORM},
        )
        await client.post(f"/v1/monitoring/reports/{province_report}/submit", headers=province)
        setnas = (
            await client.get(
                "/v1/monitoring/reports", params={"month": "2026-11"}, headers=national
            )
        ).json()
        assert [(c["area"], c["status"]) for c in setnas["children"]] == [("32", "submitted")]
        done = await client.post(
            f"/v1/monitoring/reports/{province_report}/accept", headers=national
        )
        assert done.json()["status"] == "accepted"

        # Every version kept; the PDF read back, in Bahasa Indonesia.
        kept = (
            await client.get(
                f"/v1/monitoring/reports/{report_ids['3204']}/versions", headers=province
            )
        ).json()
        assert [v["status"] for v in kept] == ["submitted", "returned", "submitted", "accepted"]
        assert kept[0]["narrative"]["recommendations"] == "Rekomendasi 3204"
        assert kept[2]["narrative"]["recommendations"] == "Percepat penyaluran BPNT"
        first = await client.get(
            f"/v1/monitoring/reports/{report_ids['3204']}/versions/1.pdf", headers=province
        )
        assert "Rekomendasi 3204" in _pdf_text(first.content)
        pdf = await client.get(f"/reports/{province_report}.pdf", headers=viewer)
        text = _pdf_text(pdf.content)
        assert "Laporan Bulanan SLRT - Provinsi" in text
        assert "Ringkasan provinsi: perkuat BPNT" in text
        assert "Diterima (versi 2)" in text
        assert "Laporan wilayah di bawahnya" in text
        assert "Percepat penyaluran BPNT" in text  # the district's recommendation travelled up
        xlsx = await client.get(f"/reports/{province_report}.xlsx", headers=viewer)
        book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
        rows = [list(r) for r in book["submissions"].iter_rows(values_only=True)]
        assert [r[1] for r in rows[1:]] == ["Diterima", "Diterima"]
        district_pdf = _pdf_text(
            (await client.get(f"/reports/{report_ids['3204']}.pdf", headers=viewer)).content
        )
        # The registry's story travelled too: pre-list and change proposals, participation,
        # profiles by sex and disability.
        assert "Daftar awal dan usulan perubahan menurut status" in district_pdf
        assert "Profil menurut jenis kelamin dan disabilitas" in district_pdf

        # The province's quarterly report carries the questionnaire's summary.
        quarterly = await client.post(
            "/reports",
            content="kind=quarterly&area=32&month=2026-10",
            headers={**province, **FORM},
        )
        quarter_report = quarterly.headers["location"].split("?")[0].rsplit("/", 1)[1]
        await client.post(f"/v1/monitoring/reports/{quarter_report}/submit", headers=province)
        xlsx = await client.get(f"/reports/{quarter_report}.xlsx", headers=viewer)
        book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
        per_area = [list(r) for r in book["questionnaire_areas"].iter_rows(values_only=True)]
        assert [r[:3] for r in per_area[1:]] == [
            ["Jawa Barat (32)", 1, 1],
            ["Kabupaten Bandung (3204)", 1, 1],
            ["Kota Bandung (3273)", 1, 1],
        ]
        chosen = [list(r) for r in book["questionnaire_answers"].iter_rows(values_only=True)]
        assert [
            "Apakah kegiatan SLRT triwulan ini terlaksana sesuai rencana?",
            "ya",
            "<5",
        ] in chosen
        assert "Jawaban kuesioner pemantauan" in _pdf_text(
            (await client.get(f"/reports/{quarter_report}.pdf", headers=viewer)).content
        )

        # Reminders: a round of a past quarter left in draft is overdue; the schedule loop asks
        # the notifier to remind the area's managers, once, as a staff reminder (digest).
        old = await client.post(
            "/v1/monitoring/rounds/open", json={"quarter": "2026-Q1"}, headers=national
        )
        old_ids = {uuid.UUID(i) for i in old.json()["opened"]}
        assert len(old_ids) == 3
        areas = {
            r["round_id"]: r["area"]
            for r in (
                await client.get(
                    "/v1/monitoring/rounds", params={"quarter": "2026-Q1"}, headers=national
                )
            ).json()["rounds"]
        }
        wanted = {uuid.uuid5(i, f"overdue:manager:{areas[str(i)]}"): areas[str(i)] for i in old_ids}

        async def reminders() -> list[NotificationRequested]:
            records = await read_topic_to_end(
                real_stack.kafka_bootstrap, Topic.NOTIFICATION_REQUESTS
            )
            found = []
            for r in records:
                envelope = from_kafka(r.key, r.headers, r.value)
                if envelope.type == NotificationRequested.event_type:
                    request = envelope.parse(NotificationRequested)
                    if request.request_id in wanted:
                        found.append(request)
            return found

        found = await poll(reminders, lambda f: len(f) >= len(wanted), timeout=60)
        assert len(found) == 3  # once each, however often the loop runs
        assert {(n.destination, n.kind.value, n.breached) for n in found} == {
            ("manager:3204", "reminder", False),
            ("manager:3273", "reminder", False),
            ("manager:32", "reminder", False),
        }
        assert all("Kuesioner pemantauan 2026-Q1" in n.params["ticket"] for n in found)


def _pdf_text(content: bytes) -> str:
    """The PDF's text with every run of whitespace one space (table cells wrap lines)."""
    assert content.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())
