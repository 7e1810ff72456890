"""The planning page: the dashboard (its own process) reads the registry's aggregates over
HTTP with the viewer's token, and ranks villages by gap next to their open complaints."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from services.dashboard.settings import DashboardSettings
from slrt.kafka import EventProducer
from tests.dashboard import registry_district as district
from tests.dashboard.htmltables import tables
from tests.support.dashboard import RunningDashboard, start_dashboard


@pytest.fixture
async def planning_dashboard(
    registry_url: str,
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
    tmp_path: Path,
) -> AsyncIterator[RunningDashboard]:
    env = {"SLRT_DASHBOARD_REGISTRY_URL": registry_url}
    async with start_dashboard(
        dashboard_settings, dashboard_pool, producer, tmp_path, env
    ) as running:
        yield running


async def test_villages_ranked_by_gap_with_their_open_complaints(
    planning_dashboard: RunningDashboard,
) -> None:
    headers = planning_dashboard.headers("3204")
    open_in_v3 = await planning_dashboard.pool.fetchval(
        "SELECT count(*) FROM complaint_facts WHERE open AND place_code = $1", district.V3
    )
    async with httpx.AsyncClient(base_url=planning_dashboard.url) as client:
        page = await client.get("/planning?area=3204&lang=en", headers=headers)
        assert page.status_code == 200, page.text
        shown = tables(page.text)[0]
        csv_text = (
            await client.get("/planning/scorecard.csv?area=3204&lang=en", headers=headers)
        ).text
        outside = await client.get("/planning?area=3273", headers=headers)
    scorecard = shown["scorecard"]
    assert scorecard[0] == [
        "Village",
        "Households",
        "Bottom 40 % (%)",
        "Program coverage of bottom 40 % (%)",
        "Bottom 40 % without a program",
        "Unmet needs",
        "Open complaints",
        "Gap",
    ]
    # Gap = bottom-40 households without a program + unmet needs: V1 1+2, V3 1+1, V2 0+0.
    assert scorecard[1:] == [
        ["Cileunyi Kulon (3204052001)", "5", "80.0", "75.0", "1", "2", "1", "3"],
        ["Padasuka (3204061001)", "2", "50.0", "0.0", "1", "1", str(open_in_v3), "2"],
        ["Cileunyi Wetan (3204052002)", "2", "50.0", "100.0", "0", "0", "1", "0"],
    ]
    assert list(csv.reader(io.StringIO(csv_text))) == scorecard
    assert [row[0] for row in shown["program_gaps"][1:]] == ["PIP", "BPNT", "PKH"]
    assert shown["combinations"][1] == ["-", "4"]
    assert outside.status_code == 404
