"""The monitoring pages in headless Chromium (Debian's ``chromium``, driven by Playwright): a
district manager fills in the quarterly questionnaire (pre-filled figures, a refused answer
named on the form, then submitted); the province's manager sees its districts' rounds and
monthly reports and returns one with a comment. Screenshots ``questionnaire-3204.png`` and
``province-32.png`` go to ``.slrt/test-artifacts/dashboard/``."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook
from playwright.async_api import Browser, Page

from services.dashboard.settings import DashboardSettings
from slrt.auth.principal import Role
from slrt.kafka import EventProducer
from slrt_dev.stack.process import free_port
from tests.dashboard.test_browser import ARTIFACTS
from tests.support.dashboard import RunningDashboard, start_dashboard

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def monitoring_dashboard(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    tmp_path: Path,
) -> AsyncIterator[RunningDashboard]:
    env = {
        "SLRT_DASHBOARD_MONITORING_AREAS": '["3204", "3273"]',
        "SLRT_DASHBOARD_MONITORING_OPEN_ON_SCHEDULE": "false",  # 2026-Q4 is opened by hand
        # No registry here: what it would pre-fill is named on the form as not pre-filled.
        "SLRT_DASHBOARD_REGISTRY_URL": f"http://127.0.0.1:{free_port()}",
    }
    async with start_dashboard(
        dashboard_settings, dashboard_pool, producer, tmp_path, env
    ) as running:
        yield running


def _h(running: RunningDashboard, subject: str, area: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {running.issuer.token(subject, [Role.MANAGER], area)}"}


async def _login(page: Page, base: str, token: str) -> None:
    await page.goto(f"{base}/monitoring")
    assert page.url.startswith(f"{base}/login")
    await page.fill("textarea[name=token]", token)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/dashboard*")


async def _cells(page: Page, table: str) -> dict[str, list[str]]:
    rows: list[list[str]] = await page.evaluate(
        f"Array.from(document.querySelectorAll('#{table} tbody tr')).map("
        "tr => [tr.dataset.area, ...Array.from(tr.children).map(td => td.innerText.trim())])"
    )
    return {row[0]: row[1:] for row in rows}


async def test_questionnaire_form_and_the_province_view(
    monitoring_dashboard: RunningDashboard,
    browser: Browser,
) -> None:
    running = monitoring_dashboard
    base = running.url
    await asyncio.to_thread(ARTIFACTS.mkdir, parents=True, exist_ok=True)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        opened = await client.post(
            "/v1/monitoring/rounds/open",
            json={"quarter": "2026-Q4"},
            headers=_h(running, "setnas", ""),
        )
        assert len(opened.json()["opened"]) == 2

    # The district's manager fills in the questionnaire.
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    await _login(page, base, running.issuer.token("manager-3204", [Role.MANAGER], "3204"))
    await page.goto(f"{base}/monitoring?quarter=2026-Q4")
    await page.click("#table-rounds a >> text=Kabupaten Bandung (3204)")
    await page.wait_for_selector("#questionnaire")
    assert "Draf" in await page.inner_text("#round-status")
    visits = await page.input_value("#q-kunjungan_rumah")
    assert int(visits) > 0  # pre-filled from the read model
    assert "registry_updates" in await page.inner_text("main")  # named: not pre-filled
    for select in await page.query_selector_all("#questionnaire select"):
        options = await select.eval_on_selector_all("option", "os => os.map(o => o.value)")
        await select.select_option(options[1])
    for field in await page.query_selector_all("#questionnaire input[type=number]"):
        await field.fill("4")
    for field in await page.query_selector_all("#questionnaire textarea"):
        await field.fill("Sinyal internet di desa terpencil lemah")
    for field in await page.query_selector_all("#questionnaire input[type=text]"):
        if not await field.input_value():
            await field.fill("3")
    await page.fill("#q-kunjungan_rumah", "banyak")
    await page.click("#submit")
    await page.wait_for_selector("#errors")
    error = await page.inner_text("[data-error=kunjungan_rumah]")
    assert error == "a whole number"
    assert "answers.kunjungan_rumah: integer" in await page.inner_text("#errors")
    assert (
        await page.input_value("#q-tantangan_uraian") == "Sinyal internet di desa terpencil lemah"
    )
    await page.fill("#q-kunjungan_rumah", visits)
    await page.click("#submit")
    await page.wait_for_selector("#round-status >> text=Dikirim")
    assert await page.query_selector("#submit") is None  # locked once submitted
    await page.screenshot(path=ARTIFACTS / "questionnaire-3204.png", full_page=True)
    await context.close()

    # Kota Bandung submits its round and nothing yet for November; Kabupaten Bandung does.
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        kota = _h(running, "manager-3273", "3273")
        rounds = (
            await client.get("/v1/monitoring/rounds", params={"quarter": "2026-Q4"}, headers=kota)
        ).json()["rounds"]
        view = (
            await client.get(f"/v1/monitoring/rounds/{rounds[0]['round_id']}", headers=kota)
        ).json()
        answers = {
            q["key"]: {
                "yes_no": "tidak",
                "choice": (q.get("options") or [""])[-1],
                "number": 1,
                "text": "-",
                "scale": 3,
            }[q["type"]]
            for s in view["form"]["sections"]
            for q in s["questions"]
        }
        sent = await client.post(
            f"/v1/monitoring/rounds/{view['round_id']}/submit",
            json={"answers": answers},
            headers=kota,
        )
        assert sent.json()["status"] == "submitted"
        bandung = _h(running, "manager-3204", "3204")
        made = await client.post(
            "/reports", content="kind=monthly&area=3204&month=2026-11", headers={**bandung, **FORM}
        )
        report_id = made.headers["location"].split("?")[0].rsplit("/", 1)[1]
        submitted = await client.post(f"/v1/monitoring/reports/{report_id}/submit", headers=bandung)
        assert submitted.json()["status"] == "submitted"
        # No registry answered: the report says so rather than leave the figures out silently.
        xlsx = await client.get(f"/reports/{report_id}.xlsx", headers=bandung)
        summary_sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True)["Ringkasan"]
        assert ("Data registri", "tidak tersedia") in [
            tuple(r[:2]) for r in summary_sheet.iter_rows(values_only=True)
        ]

    # The province's view: both rounds submitted, the monthly reports (one missing).
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await _login(page, base, running.issuer.token("pokja-32", [Role.MANAGER], "32"))
    await page.goto(f"{base}/monitoring?quarter=2026-Q4&month=2026-11")
    rounds_table = await _cells(page, "table-rounds")
    assert {area: cells[1] for area, cells in rounds_table.items()} == {
        "3204": "Dikirim",
        "3273": "Dikirim",
    }
    submissions = await _cells(page, "table-submissions")
    assert {area: cells[1] for area, cells in submissions.items()} == {
        "3204": "Dikirim",
        "3273": "Belum ada",
    }
    summary = await _cells(page, "table-children")
    assert {area: cells[1] for area, cells in summary.items()} == {"3204": "1", "3273": "1"}
    # Three districts or fewer answered: the counts of areas per answer are hidden (< 5).
    assert "<5" in await page.inner_text("table.closed[data-question=kegiatan_sesuai_rencana]")
    await page.screenshot(path=ARTIFACTS / "province-32.png", full_page=True)

    # The province returns Kabupaten Bandung's round with a comment.
    await page.click("#table-rounds a >> text=Kabupaten Bandung (3204)")
    await page.wait_for_selector("#review")
    await page.fill("#review textarea[name=comment]", "Periksa lagi jumlah kunjungan")
    await page.click("#return")
    await page.wait_for_selector("#round-status >> text=Dikembalikan")
    assert "Periksa lagi jumlah kunjungan" in await page.inner_text("#round-comment")
    await context.close()
    shot = await asyncio.to_thread((ARTIFACTS / "province-32.png").stat)
    assert shot.st_size > 10_000
