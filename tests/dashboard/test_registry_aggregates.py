"""The registry's aggregates (services/registry/aggregates.py) on a hand-built district in a
real PostgreSQL: every figure checked by hand, area scoping, small cells, refresh."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.registry.api import aggregates
from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings
from slrt.db import create_pool
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from tests.dashboard import registry_district as district
from tests.support.registry import migrate_registry, registry_app


@pytest.fixture
async def registry_pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate_registry(fresh_db)
    pool = await create_pool(ConnectionSettings(postgres_dsn=fresh_db), "registry")
    async with pool.acquire() as conn, conn.transaction():
        await district.load(conn)
    await aggregates.refresh(pool)
    yield pool
    await pool.close()


@pytest.fixture
def issuer(tmp_path: Path) -> DevIssuer:
    settings = AuthSettings()
    found = DevIssuer(tmp_path / "issuer", settings.issuer, settings.audience)
    found.ensure_keys()
    return found


@pytest.fixture
async def client(
    registry_pool: asyncpg.Pool, issuer: DevIssuer
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=registry_app(registry_pool, issuer))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as c:
        yield c


def _auth(issuer: DevIssuer, area: str, role: Role = Role.VIEWER) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token('u', [role], area)}"}


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Any:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_district_aggregates_match_the_hand_count(
    client: httpx.AsyncClient, issuer: DevIssuer
) -> None:
    found = await _get(client, "/v1/aggregates?area=3204", _auth(issuer, "3204"))
    assert found["suppressed"] is False
    # 9 households; bottom 40 %: H1 H2 H3 H4 H6 H8; with a program: H1 H2 H3 H6 H7.
    assert found["households"] == {
        "households": 9,
        "bottom40": 6,
        "with_program": 5,
        "bottom40_no_program": 2,
    }
    assert found["programs"] == [
        {"program": "BPNT", "households": 3, "individuals": 0, "needs": 1, "needs_uncovered": 0},
        {"program": "PKH", "households": 3, "individuals": 0, "needs": 0, "needs_uncovered": 0},
        {"program": "PIP", "households": 1, "individuals": 1, "needs": 1, "needs_uncovered": 1},
    ]
    assert found["needs"] == [
        {"need": "elderly_care", "count": 1, "uncovered": 1, "unmet": 1},
        {"need": "food", "count": 1, "uncovered": 0, "unmet": 0},
        {"need": "health_insurance", "count": 1, "uncovered": 1, "unmet": 1},
        {"need": "school_assistance", "count": 1, "uncovered": 0, "unmet": 1},
    ]
    assert found["combinations"] == [
        {"programs": [], "households": 4},
        {"programs": ["BPNT", "PKH"], "households": 2},
        {"programs": ["BPNT"], "households": 1},
        {"programs": ["PIP"], "households": 1},
        {"programs": ["PKH"], "households": 1},
    ]
    assert found["profiles"] == [
        {"sex": "female", "disability": False, "individuals": 3, "bottom40": 3},
        {"sex": "female", "disability": True, "individuals": 2, "bottom40": 2},
        {"sex": "male", "disability": False, "individuals": 5, "bottom40": 2},
    ]
    assert found["proposals"] == [
        {"kind": "change", "status": "accepted", "count": 1},
        {"kind": "change", "status": "proposed", "count": 1},
        {"kind": "prelist", "status": "accepted", "count": 1},
        {"kind": "prelist", "status": "exported", "count": 1},
        {"kind": "prelist", "status": "proposed", "count": 2},
        {"kind": "prelist", "status": "rejected", "count": 1},
    ]
    assert found["verification"] == [
        {"kind": "change", "result": "accepted", "reason": None, "count": 1},
        {"kind": "prelist", "result": "accepted", "reason": None, "count": 1},
        {"kind": "prelist", "result": "rejected", "reason": "not_poor", "count": 1},
    ]


async def test_places_give_the_village_scorecard_inputs(
    client: httpx.AsyncClient, issuer: DevIssuer
) -> None:
    found = await _get(client, "/v1/aggregates/places?area=3204", _auth(issuer, "3204"))
    assert found["depth"] == 10
    assert found["places"] == [
        {
            "code": district.V1,
            "households": 5,
            "bottom40": 4,
            "with_program": 3,
            "bottom40_no_program": 1,
            "unmet_needs": 2,
        },
        {
            "code": district.V2,
            "households": 2,
            "bottom40": 1,
            "with_program": 2,
            "bottom40_no_program": 0,
            "unmet_needs": 0,
        },
        {
            "code": district.V3,
            "households": 2,
            "bottom40": 1,
            "with_program": 0,
            "bottom40_no_program": 1,
            "unmet_needs": 1,
        },
    ]
    subdistricts = await _get(
        client, "/v1/aggregates/places?area=3204&depth=6", _auth(issuer, "3204")
    )
    assert [(p["code"], p["households"]) for p in subdistricts["places"]] == [
        ("320405", 7),
        ("320406", 2),
    ]
    bad = await client.get("/v1/aggregates/places?area=3204&depth=4", headers=_auth(issuer, ""))
    assert bad.status_code == 422


async def test_scoping_and_small_cells(client: httpx.AsyncClient, issuer: DevIssuer) -> None:
    other_district = _auth(issuer, "3273")
    for path in ("/v1/aggregates?area=3204", "/v1/aggregates/places?area=320405"):
        assert (await client.get(path, headers=other_district)).status_code == 404
    assert (await client.get("/v1/aggregates")).status_code == 401
    program_manager = _auth(issuer, "", Role.PROGRAM_MANAGER)
    assert (await client.get("/v1/aggregates?area=", headers=program_manager)).status_code == 403

    seen_from_province = await _get(client, "/v1/aggregates?area=3204", _auth(issuer, "32"))
    assert seen_from_province["suppressed"] is True
    assert seen_from_province["households"] == {
        "households": 9,
        "bottom40": 6,
        "with_program": 5,
        "bottom40_no_program": None,
    }
    # Profiles 3, 2, 5 people: both small cells hidden, the 5 shown.
    assert [p["individuals"] for p in seen_from_province["profiles"]] == [None, None, 5]
    # The province's districts: Kota Bandung's single household is a small cell, and Kabupaten
    # Bandung's 9 would give it away from the total.
    provinces = await _get(client, "/v1/aggregates/places?area=32", _auth(issuer, ""))
    assert [(p["code"], p["households"]) for p in provinces["places"]] == [
        ("3204", None),
        ("3273", None),
    ]
    whole = await _get(client, "/v1/aggregates?area=", _auth(issuer, ""))
    assert whole["households"]["households"] == 10


async def test_figures_change_only_on_refresh(
    client: httpx.AsyncClient, issuer: DevIssuer, registry_pool: asyncpg.Pool
) -> None:
    headers = _auth(issuer, "3204")
    async with registry_pool.acquire() as conn:
        await district.add_household(
            conn, "H11", district.V3, 3, [("female", None)], ["PKH"], serial=900
        )
    before = await _get(client, "/v1/aggregates?area=3204", headers)
    assert before["households"]["households"] == 9
    data_manager = _auth(issuer, "3204", Role.DATA_MANAGER)
    assert (await client.post("/v1/aggregates/refresh", headers=headers)).status_code == 403
    assert (await client.post("/v1/aggregates/refresh", headers=data_manager)).status_code == 204
    after = await _get(client, "/v1/aggregates?area=3204", headers)
    assert after["households"]["households"] == 10
    assert {"programs": ["PKH"], "households": 2} in after["combinations"]
    assert uuid.UUID(str(district.household_id("H11")))
