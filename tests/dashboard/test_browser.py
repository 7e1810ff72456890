"""The dashboard in headless Chromium (Debian's ``chromium`` package, driven by Playwright;
no browser is downloaded): log in, drill down, filter, download a CSV. Screenshots of the
national and a district view go to ``.slrt/test-artifacts/dashboard/`` (git-ignored)."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page

from tests.support.browser import artifacts
from tests.support.dashboard import RunningDashboard

ARTIFACTS = artifacts("dashboard")


async def _login(page: Page, base: str, token: str) -> None:
    await page.goto(f"{base}/dashboard")
    assert page.url.startswith(f"{base}/login")
    await page.fill("textarea[name=token]", token)
    await page.click("button[type=submit]")
    await _charts_ready(page)


async def _charts_ready(page: Page) -> None:
    await page.wait_for_selector("body[data-charts-ready=true]")
    await page.wait_for_function("document.querySelector('#chart-places .main-svg') !== null")


async def _chart(page: Page, name: str) -> dict[str, Any]:
    data: dict[str, Any] = await page.evaluate(
        f"(() => {{ const d = document.getElementById('chart-{name}').data[0];"
        " return {x: Array.from(d.x), y: Array.from(d.y)}; })()"
    )
    return data


async def _table(page: Page, name: str) -> list[list[str]]:
    rows: list[list[str]] = await page.evaluate(
        f"Array.from(document.querySelectorAll('#table-{name} tr')).map("
        "tr => Array.from(tr.children).map(td => td.innerText.trim()))"
    )
    return rows


async def test_national_to_district_drill_down_filters_and_csv(
    running_dashboard: RunningDashboard, browser: Browser
) -> None:
    await asyncio.to_thread(ARTIFACTS.mkdir, parents=True, exist_ok=True)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    base = running_dashboard.url
    await _login(page, base, running_dashboard.token(""))

    # National view: one bar per province, the small cells left out of the chart too.
    assert await page.get_attribute("#area-title", "data-area") == ""
    chart = await _chart(page, "places")
    assert chart["x"] == ["Jawa Barat (32)", "Jawa Tengah (33)", "Jawa Timur (35)"]
    assert chart["y"] == [32, None, None]
    await page.screenshot(path=ARTIFACTS / "national.png", full_page=True)

    # Drill down: province → regency; the breadcrumb leads back up.
    await page.click("#table-places a.drill >> text=Jawa Barat (32)")
    await _charts_ready(page)
    assert await page.get_attribute("#area-title", "data-area") == "32"
    await page.click("#table-places a.drill >> text=Kabupaten Bandung (3204)")
    await _charts_ready(page)
    assert await page.get_attribute("#area-title", "data-area") == "3204"
    all_categories = await _chart(page, "places")
    assert all_categories["x"][0] == "Cileunyi (320405)"
    assert all_categories["y"][:2] == [10, 7]

    # A filter changes the charts: membership complaints only.
    await page.select_option("select[name=category]", "membership")
    await page.click("form.filters button[type=submit]")
    await _charts_ready(page)
    assert "category=membership" in page.url
    membership = await _chart(page, "category")
    assert membership["x"] == ["Keluhan kepesertaan"]
    filtered = await _chart(page, "places")
    assert filtered != all_categories

    # The CSV behind a table is the table.
    async with page.expect_download() as download_info:
        await page.click("#block-places a.csv")
    download = await download_info.value
    saved = await download.path()
    content = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8")
    assert list(csv.reader(io.StringIO(content))) == await _table(page, "places")
    await context.close()

    # A district's own staff see their district in full (no suppression), on a small screen.
    context = await browser.new_context(viewport={"width": 800, "height": 1000})
    page = await context.new_page()
    await _login(page, base, running_dashboard.token("3204"))
    district = await _chart(page, "places")
    assert district["y"] == [10, 7, 5, 2]
    await page.screenshot(path=ARTIFACTS / "district-3204.png", full_page=True)
    await context.close()
    shot = await asyncio.to_thread((ARTIFACTS / "national.png").stat)
    assert shot.st_size > 10_000
