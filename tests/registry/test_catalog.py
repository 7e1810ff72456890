"""The program catalog: seeded and published at first start, edits scoped by area, versioned,
every version published to the compacted catalog topic through the outbox."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from slrt.auth.principal import Role
from slrt.contracts.envelope import from_kafka
from slrt.contracts.events import ProgramCatalogEntry
from slrt.contracts.topics import Topic
from slrt.deps import runtime_of
from tests.support.kafka_tools import read_topic
from tests.support.registry import Registry


def _district_program(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Bantuan Sosial Lansia Kabupaten Bandung",
        "level": "district",
        "owner_agency": "Dinas Sosial Kabupaten Bandung",
        "area": "3204",
        "channel": "direct",
        "categories": ["program_need", "implementation"],
        "sla_working_days": 10,
        "reminder_working_days": 5,
        "callback_url": "https://dinsos.bandungkab.example/slrt/referrals",
        "webhook_secret_ref": "dinsos-3204",
        "eligibility_notes": "Lansia 60+ di desil 1-4",
    }
    body.update(overrides)
    return body


async def _published(registry: Registry, kafka_bootstrap: str) -> dict[str, ProgramCatalogEntry]:
    """This registry's catalog events as they reached the topic, by event id (the outbox
    names them; the topic also holds other tests' registries)."""
    wanted = {
        r["event_id"]
        for r in await registry.pool.fetch(
            "SELECT event_id FROM outbox WHERE topic = $1", Topic.PROGRAM_CATALOG.value
        )
    }
    found: dict[str, ProgramCatalogEntry] = {}
    for _ in range(60):
        records = await read_topic(
            kafka_bootstrap, Topic.PROGRAM_CATALOG.value, expect=0, timeout=1
        )
        for record in records:
            envelope = from_kafka(record.key, record.headers, record.value)
            if envelope.id in wanted:
                assert record.key == envelope.subject.encode()
                found[envelope.id] = envelope.parse(ProgramCatalogEntry)
        if set(found) == wanted:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{len(wanted - set(found))} catalog events never reached the topic")


async def test_the_national_seed_is_published_at_first_start(
    registry: Registry, kafka_bootstrap: str
) -> None:
    published = await _published(registry, kafka_bootstrap)
    by_code = {e.code: e for e in published.values()}
    assert set(by_code) == {
        "MEMBERSHIP_DTKS",
        "PKH",
        "PIP_KEMENAG",
        "PIP_KEMENDIKBUD",
        "BPNT",
        "PIS_PBI",
    }
    assert by_code["MEMBERSHIP_DTKS"].channel == "siks_ng"
    assert by_code["MEMBERSHIP_DTKS"].needs_nik
    assert by_code["PIP_KEMENAG"].sub_types == ["madrasah"]
    assert all(e.version == 1 for e in by_code.values())
    listed = await registry.client.get("/v1/programs", headers=registry.auth(Role.FACILITATOR))
    assert [p["code"] for p in listed.json()] == sorted(by_code)


async def test_a_district_manager_keeps_the_districts_programs_versioned(
    registry: Registry, kafka_bootstrap: str
) -> None:
    manager = registry.auth(Role.MANAGER, "3204", subject="manager-3204")
    created = await registry.client.put(
        "/v1/programs/LANSIA_3204", json=_district_program(), headers=manager
    )
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1

    same = await registry.client.put(
        "/v1/programs/LANSIA_3204", json=_district_program(), headers=manager
    )
    assert same.status_code == 200
    assert same.json()["version"] == 1  # nothing changed: no new version

    edited = await registry.client.put(
        "/v1/programs/LANSIA_3204",
        json=_district_program(sla_working_days=7, reminder_working_days=3),
        headers=registry.auth(Role.ADMINISTRATOR, "3204", subject="admin-3204"),
    )
    assert edited.status_code == 200
    assert (edited.json()["version"], edited.json()["updated_by"]) == (2, "admin-3204")

    versions = (
        await registry.client.get("/v1/programs/LANSIA_3204/versions", headers=manager)
    ).json()
    assert [(v["version"], v["changed_by"]) for v in versions] == [
        (1, "manager-3204"),
        (2, "admin-3204"),
    ]
    assert versions[1]["changed"] == ["sla_working_days", "reminder_working_days"]
    assert versions[0]["entry"]["sla_working_days"] == 10

    entries = [
        e for e in (await _published(registry, kafka_bootstrap)).values() if e.code == "LANSIA_3204"
    ]
    assert sorted(e.version for e in entries) == [1, 2]
    assert max(entries, key=lambda e: e.version).sla_working_days == 7

    serving = await registry.client.get(
        "/v1/programs", params={"place_code": "3204052001"}, headers=manager
    )
    assert "LANSIA_3204" in [p["code"] for p in serving.json()]
    elsewhere = await registry.client.get(
        "/v1/programs", params={"place_code": "3273010001"}, headers=manager
    )
    assert "LANSIA_3204" not in [p["code"] for p in elsewhere.json()]


async def test_edits_outside_the_editors_area_are_refused(registry: Registry) -> None:
    district = registry.auth(Role.MANAGER, "3204")
    other = await registry.client.put(
        "/v1/programs/LANSIA_3273",
        json=_district_program(area="3273", owner_agency="Dinas Sosial Kota Bandung"),
        headers=district,
    )
    assert other.status_code == 403
    pkh = (await registry.client.get("/v1/programs/PKH", headers=district)).json()
    spec = {
        k: v for k, v in pkh.items() if k not in ("code", "version", "updated_by", "updated_at")
    }
    national = await registry.client.put(
        "/v1/programs/PKH", json={**spec, "sla_working_days": 12}, headers=district
    )
    assert national.status_code == 403
    moved = await registry.client.put(  # a district program may not be turned national
        "/v1/programs/PKH", json={**spec, "level": "district", "area": "3204"}, headers=district
    )
    assert moved.status_code == 403
    setnas = await registry.client.put(
        "/v1/programs/PKH",
        json={**spec, "sla_working_days": 8},
        headers=registry.auth(Role.MANAGER, ""),
    )
    assert setnas.status_code == 200
    assert setnas.json()["version"] == 2
    facilitator = await registry.client.put(
        "/v1/programs/LANSIA_3204",
        json=_district_program(),
        headers=registry.auth(Role.FACILITATOR, "3204"),
    )
    assert facilitator.status_code == 403
    invalid = await registry.client.put(
        "/v1/programs/LANSIA_3204", json=_district_program(area="320405"), headers=district
    )
    assert invalid.status_code == 422
    assert (
        await registry.pool.fetchval(
            "SELECT count(*) FROM programs WHERE code IN ('LANSIA_3273', 'LANSIA_3204')"
        )
        == 0
    )


async def test_a_callback_url_goes_over_plain_http_only_to_hosts_the_settings_name(
    registry: Registry,
) -> None:
    manager = registry.auth(Role.MANAGER, "3204")

    async def put(url: str) -> httpx.Response:
        return await registry.client.put(
            "/v1/programs/LANSIA_3204", json=_district_program(callback_url=url), headers=manager
        )

    stand_in = "http://127.0.0.1:8090/webhooks/referrals"
    https_required = [
        {
            "field": "callback_url",
            "rule": "https_required",
            "message": "a callback URL must use https: referrals carry personal data",
        }
    ]
    refused = await put(stand_in)  # the default names no host
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["errors"] == https_required
    runtime_of(registry.app).settings = registry.settings.model_copy(
        update={"plain_http_callback_hosts": ["127.0.0.1", "localhost"]}
    )
    elsewhere = await put("http://dinsos.bandungkab.example/slrt/referrals")
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"] == https_required
    assert (
        await registry.pool.fetchval("SELECT count(*) FROM programs WHERE code = $1", "LANSIA_3204")
        == 0
    )
    allowed = await put(stand_in)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["callback_url"] == stand_in
    secure = await put("https://dinsos.bandungkab.example/slrt/referrals")
    assert secure.status_code == 200, secure.text
    assert secure.json()["version"] == 2
