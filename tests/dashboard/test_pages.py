"""The dashboard service as its own process: login, area scoping, small-cell suppression,
links to the lists behind the numbers, and CSV files equal to the tables."""

from __future__ import annotations

import csv
import io

import httpx

from slrt.auth.principal import Role
from tests.dashboard.htmltables import tables
from tests.support.dashboard import RunningDashboard


def _places(html: str) -> dict[str, list[str]]:
    rows = tables(html)[0]["places"][1:]
    return {row[0].rsplit("(", 1)[1].rstrip(")"): row[1:] for row in rows}


async def test_pages_need_a_valid_token_and_the_login_form_keeps_it(
    running_dashboard: RunningDashboard,
) -> None:
    async with httpx.AsyncClient(base_url=running_dashboard.url) as client:
        page = await client.get("/dashboard")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")
        assert (await client.get("/dashboard/places.csv")).status_code == 401
        bad = await client.post("/login", content="token=not-a-jwt")
        assert bad.status_code == 401
        assert "not-a-jwt" not in bad.text
        token = running_dashboard.token("3204")
        login = await client.post(
            "/login",
            content=f"token={token}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert login.status_code == 303
        assert "httponly" in login.headers["set-cookie"].lower()
        assert "samesite=strict" in login.headers["set-cookie"].lower()
        page = await client.get("/dashboard")
        assert page.status_code == 200
        assert 'data-area="3204"' in page.text
        # A role without aggregates (program managers answer referrals only) is refused.
        manager_of_program = running_dashboard.headers("", Role.PROGRAM_MANAGER)
        refused = await client.get("/dashboard/places.csv", headers=manager_of_program)
        assert refused.status_code == 403


async def test_viewers_drill_down_only_inside_their_area(
    running_dashboard: RunningDashboard,
) -> None:
    district = running_dashboard.headers("3204")
    async with httpx.AsyncClient(base_url=running_dashboard.url) as client:
        for outside in ("32", "", "3273", "3301012001"):
            response = await client.get(f"/dashboard?area={outside}", headers=district)
            assert response.status_code == 404, outside
            assert "Kota Bandung" not in response.text
        inside = await client.get("/dashboard?area=320405", headers=district)
        assert inside.status_code == 200
        assert set(_places(inside.text)) == {"3204052001", "3204052002", "3204052003"}
        village = await client.get("/dashboard?area=3204052001", headers=district)
        assert village.status_code == 200
        assert "places" not in tables(village.text)[0]  # nothing below a village


async def test_small_cells_are_hidden_above_the_district_only(
    running_dashboard: RunningDashboard,
) -> None:
    async with httpx.AsyncClient(base_url=running_dashboard.url) as client:
        national = await client.get("/dashboard", headers=running_dashboard.headers(""))
        province = await client.get("/dashboard?area=3204", headers=running_dashboard.headers("32"))
        district = await client.get(
            "/dashboard?area=3204", headers=running_dashboard.headers("3204")
        )
    # Provinces: Jawa Barat 32 complaints; Jawa Tengah 3 (a small cell); Jawa Timur 7, hidden
    # too, or it would give Jawa Tengah away from the total.
    places = _places(national.text)
    assert [places[p][0] for p in ("32", "33", "35")] == ["32", "<5", "<5"]
    assert "Sel dengan kurang dari 5" in national.text
    # Sub-districts of 3204: 10, 7, 5 and 2 complaints.
    assert [_places(district.text)[s][0] for s in ("320405", "320406", "320407", "320408")] == [
        "10",
        "7",
        "5",
        "2",
    ]
    seen_from_province = _places(province.text)
    assert [seen_from_province[s][0] for s in ("320405", "320406", "320407", "320408")] == [
        "10",
        "7",
        "<5",
        "<5",
    ]


async def test_numbers_link_to_their_lists_for_staff_who_may_read_them(
    running_dashboard: RunningDashboard,
) -> None:
    async with httpx.AsyncClient(base_url=running_dashboard.url) as client:
        manager = await client.get(
            "/dashboard?area=320405&category=membership",
            headers=running_dashboard.headers("3204", Role.MANAGER),
        )
        viewer = await client.get(
            "/dashboard?area=320405&category=membership",
            headers=running_dashboard.headers("3204", Role.VIEWER),
        )
    links = tables(manager.text)[1]["places"]
    assert "http://intake.test/v1/complaints?area=3204052001&category=membership" in links
    assert all(link.startswith("/dashboard") for link in tables(viewer.text)[1]["places"])


async def test_every_csv_matches_its_table(running_dashboard: RunningDashboard) -> None:
    headers = running_dashboard.headers("")
    async with httpx.AsyncClient(base_url=running_dashboard.url) as client:
        page = await client.get("/dashboard?area=32&lang=en", headers=headers)
        shown = tables(page.text)[0]
        assert set(shown) == {
            "places",
            "category",
            "program",
            "channel",
            "funnel",
            "agencies",
            "topics",
        }
        for name, rows in shown.items():
            response = await client.get(f"/dashboard/{name}.csv?area=32&lang=en", headers=headers)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/csv")
            assert list(csv.reader(io.StringIO(response.text))) == rows, name
