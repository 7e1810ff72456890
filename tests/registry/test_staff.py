"""The staff directory (``/v1/staff``): administrators of each level, assignments with history,
a person leaving with a successor, every change audited and published on the compacted
``slrt.staff.directory`` (read back from the real Kafka)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from slrt.auth.principal import Role
from slrt.contracts.envelope import from_kafka
from slrt.contracts.topics import Topic
from slrt.staff_directory import (
    DirectorySnapshot,
    apply,
    parse_record,
    person_for_subject,
    separation_of_duties,
    supervisor_of,
    village_facilitator,
)
from tests.support.kafka_tools import read_topic
from tests.support.registry import Registry

V1 = "3208012001"  # Sindangjawa, Kecamatan Kadugede
V2 = "3208022001"  # a village of another sub-district of Kabupaten Kuningan


def _person(name: str, roles: list[str], areas: list[str], **more: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "display_name": name,
        "email": f"{name.split()[0].lower()}@dinsos.bandungkab.example",
        "phone": "+6281234567890",
        "roles": roles,
        "areas": areas,
        "subject": f"kc-{uuid.uuid4().hex[:10]}",
    }
    body.update(more)
    return body


def _admin(registry: Registry, area: str = "3208") -> dict[str, str]:
    return registry.auth(Role.ADMINISTRATOR, area, subject=f"admin-{area or 'national'}")


async def _create(registry: Registry, body: dict[str, Any], area: str = "3208") -> dict[str, Any]:
    response = await registry.client.post(
        "/v1/staff/persons", json=body, headers=_admin(registry, area)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _published(registry: Registry, bootstrap: str) -> DirectorySnapshot:
    """This registry's directory records as they reached the topic (by the outbox's event
    ids: the topic also holds other tests' records), folded into a snapshot."""
    wanted = {
        r["event_id"]
        for r in await registry.pool.fetch(
            "SELECT event_id FROM outbox WHERE topic = $1", Topic.STAFF_DIRECTORY.value
        )
    }
    for _ in range(60):
        snapshot, found = DirectorySnapshot(), set()
        records = await read_topic(bootstrap, Topic.STAFF_DIRECTORY.value, expect=0, timeout=1)
        for record in records:
            envelope = from_kafka(record.key, record.headers, record.value)
            if envelope.id in wanted:
                assert record.key == envelope.subject.encode()
                parsed = parse_record(envelope)
                assert parsed is not None
                apply(snapshot, parsed)
                found.add(envelope.id)
        if found == wanted:
            return snapshot
        await asyncio.sleep(0.2)
    raise AssertionError("directory records never reached the topic")


async def test_a_facilitator_leaves_and_the_successor_holds_both_villages(
    registry: Registry, kafka_bootstrap: str
) -> None:
    client = registry.client
    admin = _admin(registry)
    ani = await _create(registry, _person("Ani Lestari", ["facilitator"], [V1, V2]))
    budi = await _create(registry, _person("Budi Santoso", ["facilitator"], ["320801", "320802"]))
    sari = await _create(registry, _person("Sari Wulandari", ["supervisor"], ["320801", "320802"]))
    for village in (V1, V2):
        assigned = await client.put(
            f"/v1/staff/villages/{village}/facilitator",
            json={"person_id": ani["person_id"]},
            headers=admin,
        )
        assert assigned.status_code == 200, assigned.text
    supervised = await client.put(
        f"/v1/staff/facilitators/{ani['person_id']}/supervisor",
        json={"person_id": sari["person_id"]},
        headers=admin,
    )
    assert supervised.status_code == 200, supervised.text
    assert (await client.get(f"/v1/staff/persons/{ani['person_id']}", headers=admin)).json()[
        "villages"
    ] == [V1, V2]

    # Ani leaves; Budi takes her villages over. Her own supervision ends.
    ended = await client.post(
        f"/v1/staff/persons/{ani['person_id']}/end",
        json={"successor_id": budi["person_id"]},
        headers=admin,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["active_until"] is not None
    assert ended.json()["villages"] == []
    history = await client.get(f"/v1/staff/villages/{V1}", headers=admin)
    assert history.status_code == 200, history.text
    spells = history.json()["spells"]
    assert [(s["person_id"], s["end_reason"]) for s in spells] == [
        (ani["person_id"], "reassigned"),
        (budi["person_id"], None),
    ]
    assert spells[0]["until"] == spells[1]["since"]
    supervision = await client.get(
        f"/v1/staff/facilitators/{ani['person_id']}/supervision", headers=admin
    )
    assert supervision.json()["spells"][0]["end_reason"] == "person_ended"

    # Every change audited: who, what, which record (its key, never a name).
    audit = await client.get(
        "/v1/staff/audit", params={"person_id": ani["person_id"]}, headers=admin
    )
    assert [a["action"] for a in audit.json()] == ["person.ended", "person.created"]
    village_audit = await client.get("/v1/staff/audit", params={"village_code": V1}, headers=admin)
    assert [(a["action"], a["actor"]) for a in village_audit.json()] == [
        ("village.person_ended", "admin-3208"),
        ("village.assigned", "admin-3208"),
    ]
    everything = await registry.pool.fetch("SELECT action, record_key FROM staff_audit")
    assert len(everything) == 3 + 2 + 1 + 2 + 1 + 1
    assert all("Ani" not in r["record_key"] for r in everything)

    # The records reached the compacted topic: a copy of it answers who holds what.
    snapshot = await _published(registry, kafka_bootstrap)
    now = datetime.now(UTC)
    assert village_facilitator(snapshot, V1, now).person_id == uuid.UUID(budi["person_id"])  # type: ignore[union-attr]
    assert village_facilitator(snapshot, V2, now).person_id == uuid.UUID(budi["person_id"])  # type: ignore[union-attr]
    assert supervisor_of(snapshot, uuid.UUID(ani["person_id"]), now) is None
    assert person_for_subject(snapshot, ani["subject"], now) is None
    assert person_for_subject(snapshot, sari["subject"], now) is not None


async def test_administrators_manage_their_own_level(
    registry: Registry, kafka_bootstrap: str
) -> None:
    client = registry.client
    body = _person("Dewi Anggraini", ["back_office"], ["3208"])
    # Another district's administrator, and a manager: no.
    other = await client.post("/v1/staff/persons", json=body, headers=_admin(registry, "3207"))
    assert other.status_code == 403, other.text
    manager = await client.post(
        "/v1/staff/persons", json=body, headers=registry.auth(Role.MANAGER, "3208")
    )
    assert manager.status_code == 403, manager.text
    # A province administrator keeps the province's staff and appoints district administrators,
    # not the district's secretariat.
    province_staff = await client.post(
        "/v1/staff/persons", json=body, headers=_admin(registry, "32")
    )
    assert province_staff.status_code == 403, province_staff.text
    viewer = await _create(registry, _person("Rina Bappeda", ["viewer"], ["32"]), area="32")
    district_admin = await _create(
        registry, _person("Agus Admin", ["administrator"], ["3208"]), area="32"
    )
    national = await _create(registry, _person("Tono Kemensos", ["viewer"], [""]), area="")
    assert {viewer["areas"][0], district_admin["areas"][0], national["areas"][0]} == {
        "32",
        "3208",
        "",
    }
    # The district administrator manages the district's people, and its settings only.
    mine = await _create(registry, body)
    theirs = await client.get(
        f"/v1/staff/persons/{mine['person_id']}", headers=_admin(registry, "3207")
    )
    assert theirs.status_code == 404
    settings = await client.put(
        "/v1/staff/districts/3207/settings",
        json={"separation_of_duties": False},
        headers=_admin(registry),
    )
    assert settings.status_code == 403, settings.text
    # (Sumedang's: no other test's complaints live there; the topic is the session's.)
    own = await client.put(
        "/v1/staff/districts/3211/settings",
        json={"separation_of_duties": False},
        headers=_admin(registry, "3211"),
    )
    assert own.status_code == 200, own.text
    assert (own.json()["separation_of_duties"], own.json()["version"]) == (False, 1)
    published = await _published(registry, kafka_bootstrap)
    assert separation_of_duties(published, "3211", default=True) is False
    # Changing a person: a new version, audited with the changed fields' names only.
    changed = await client.put(
        f"/v1/staff/persons/{mine['person_id']}",
        json={**body, "phone": "+6281399990000"},
        headers=_admin(registry),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    audit = await client.get(
        "/v1/staff/audit", params={"person_id": mine["person_id"]}, headers=_admin(registry)
    )
    latest = audit.json()[0]
    assert (latest["action"], latest["changed"]) == ("person.changed", ["phone"])
    assert (
        await client.get("/v1/staff/audit", headers=registry.auth(Role.MANAGER, "3208"))
    ).status_code == 403


async def test_bad_input_is_named_by_field_and_rule_without_echoing_it(registry: Registry) -> None:
    client = registry.client
    admin = _admin(registry)
    bad = await client.post(
        "/v1/staff/persons",
        json=_person("Joko Widodo", ["program_manager"], ["3299", "320"], phone="0812-xx"),
        headers=admin,
    )
    assert bad.status_code == 422, bad.text
    assert "Joko" not in bad.text
    assert "0812-xx" not in bad.text
    fields = {(e["field"], e["rule"]) for e in bad.json()["errors"]}
    assert ("phone", "string_pattern_mismatch") in fields, fields
    rules = await client.post(
        "/v1/staff/persons",
        json=_person("Joko Widodo", ["program_manager"], ["3299", "320"]),
        headers=admin,
    )
    assert rules.status_code == 422, rules.text
    assert {(e["field"], e["rule"]) for e in rules.json()["errors"]} == {
        ("areas.0", "unknown_place"),
        ("areas.1", "place_code"),
        ("programs", "required_for_program_manager"),
    }
    officer = await _create(registry, _person("Wati Front", ["front_office"], [V1]))
    not_facilitator = await client.put(
        f"/v1/staff/villages/{V1}/facilitator",
        json={"person_id": officer["person_id"]},
        headers=admin,
    )
    assert not_facilitator.status_code == 422
    assert [e["rule"] for e in not_facilitator.json()["errors"]] == ["not_a_facilitator"]
    far = await _create(registry, _person("Eko Prasetyo", ["facilitator"], [V1]))
    outside = await client.put(
        f"/v1/staff/villages/{V2}/facilitator", json={"person_id": far["person_id"]}, headers=admin
    )
    assert [e["rule"] for e in outside.json()["errors"]] == ["outside_person_areas"]
    taken = await client.post(
        "/v1/staff/persons",
        json=_person("Eko Lain", ["facilitator"], [V1], subject=far["subject"]),
        headers=admin,
    )
    assert taken.status_code == 409, taken.text
    unassigned = await client.post(
        f"/v1/staff/villages/{V2}/facilitator/end", json={}, headers=admin
    )
    assert unassigned.status_code == 409
    # An assignment cannot start before the village's latest spell.
    held = await client.put(
        f"/v1/staff/villages/{V1}/facilitator", json={"person_id": far["person_id"]}, headers=admin
    )
    assert held.status_code == 200, held.text
    other = await _create(registry, _person("Eka Putri", ["facilitator"], [V1]))
    backdated = await client.put(
        f"/v1/staff/villages/{V1}/facilitator",
        json={"person_id": other["person_id"], "since": "2020-01-01T00:00:00Z"},
        headers=admin,
    )
    assert backdated.status_code == 422, backdated.text
    assert [(e["field"], e["rule"]) for e in backdated.json()["errors"]] == [
        ("person_id", "not_active"),
        ("since", "before_current_spell"),
    ]
