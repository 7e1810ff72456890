"""Program information at the registry (the service in-process on the real PostgreSQL and
Kafka): versions and who may edit what, bad criteria named by field and rule, the search's
district scope and filters, each version published through the outbox, and the eligibility
check of a registry household."""

from __future__ import annotations

import uuid
from typing import Any

from slrt.auth.principal import Role
from slrt.contracts.events import ProgramInfoPublished
from slrt.contracts.topics import Topic
from tests.support.registry import VILLAGE, Registry

DISTRICT = VILLAGE[:4]


def _program(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Bantuan Pangan Non Tunai (BPNT)",
        "what_it_gives": "Bantuan pangan bulanan melalui e-warong.",
        "who_qualifies": "Keluarga penerima manfaat dalam DTKS, desil 1 sampai 4.",
        "where_to_go": "E-warong terdekat atau Dinas Sosial.",
        "documents": ["KTP", "Kartu Keluarga Sejahtera (KKS)"],
        "criteria": [{"kind": "max_decile", "max_decile": 4}, {"kind": "not_participant"}],
    }
    body.update(overrides)
    return body


def _pm(registry: Registry, programs: list[str], area: str = DISTRICT) -> dict[str, str]:
    token = registry.issuer.token(f"pm-{area}", [Role.PROGRAM_MANAGER], area, programs)
    return {"Authorization": f"Bearer {token}"}


async def test_versions_editors_and_the_published_entries(registry: Registry) -> None:
    client = registry.client
    path = f"/v1/program-info/programs/{DISTRICT}/BPNT"
    created = await client.put(path, json=_program(), headers=_pm(registry, ["BPNT"]))
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["version"], entry["topic"], entry["program_code"]) == (1, "BPNT", "BPNT")
    # A program manager of the program but another district's, and the front office: no.
    elsewhere = await client.put(
        path, json=_program(base_version=1), headers=_pm(registry, ["BPNT"], "3273")
    )
    assert elsewhere.status_code == 404, elsewhere.text
    front = await client.put(
        path, json=_program(base_version=1), headers=registry.auth(Role.FRONT_OFFICE)
    )
    assert front.status_code == 403, front.text
    # Without base_version on an existing entry: the edit must name what it changed.
    blind = await client.put(path, json=_program(), headers=_pm(registry, ["BPNT"]))
    assert blind.status_code == 409, blind.text
    # The district manager edits it too (the catalog's and criteria's keeper).
    edited = await client.put(
        path,
        json=_program(where_to_go="Kantor Pos Soreang.", base_version=1),
        headers=registry.auth(Role.MANAGER, subject="mgr-3204"),
    )
    assert edited.status_code == 200, edited.text
    versions = await client.get(
        f"/v1/program-info/entries/{entry['id']}/versions",
        headers=registry.auth(Role.BACK_OFFICE, VILLAGE),
    )
    assert versions.status_code == 200, versions.text
    assert [(v["version"], v["changed_by"], v["body"]["where_to_go"]) for v in versions.json()] == [
        (1, f"pm-{DISTRICT}", "E-warong terdekat atau Dinas Sosial."),
        (2, "mgr-3204", "Kantor Pos Soreang."),
    ]
    missing = await client.get(
        f"/v1/program-info/entries/{entry['id']}/versions/3", headers=registry.auth(Role.MANAGER)
    )
    assert missing.status_code == 404
    # A program manager reads their own program's entry, not an FAQ.
    own = await client.get(
        f"/v1/program-info/entries/{entry['id']}", headers=_pm(registry, ["BPNT"])
    )
    assert own.status_code == 200, own.text
    # Each version went to the outbox as ProgramInfoPublished, keyed by the entry.
    rows = await registry.pool.fetch(
        "SELECT envelope FROM outbox WHERE topic = $1 ORDER BY event_id",
        Topic.PROGRAM_INFO.value,
    )
    published = sorted(
        (ProgramInfoPublished.model_validate(r["envelope"]["data"]) for r in rows),
        key=lambda e: e.version,
    )
    assert [(str(e.entry_id), e.version, e.info_topic, e.district) for e in published] == [
        (entry["id"], 1, "BPNT", DISTRICT),
        (entry["id"], 2, "BPNT", DISTRICT),
    ]


async def test_bad_criteria_are_named_by_field_and_rule(registry: Registry) -> None:
    response = await registry.client.put(
        f"/v1/program-info/programs/{DISTRICT}/PKH",
        json=_program(criteria=[{"kind": "max_decile", "max_decile": 11}]),
        headers=registry.auth(Role.MANAGER),
    )
    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f.startswith("criteria.0") and f.endswith("max_decile") for f in fields), fields
    unknown = await registry.client.put(
        f"/v1/program-info/programs/{DISTRICT}/PKH",
        json=_program(criteria=[{"kind": "has_a_car"}]),
        headers=registry.auth(Role.MANAGER),
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["errors"][0]["field"].startswith("criteria.0")


async def test_search_is_the_districts_and_filters_by_kind(registry: Registry) -> None:
    client = registry.client
    admin = registry.auth(Role.ADMINISTRATOR)
    faq = await client.post(
        "/v1/program-info/faq",
        json={
            "district": DISTRICT,
            "topic": "BPNT",
            "question": "Kapan bantuan pangan dibagikan?",
            "answer": "Setiap bulan melalui e-warong; bawa Kartu Keluarga Sejahtera.",
        },
        headers=admin,
    )
    assert faq.status_code == 201, faq.text
    program = await client.put(
        f"/v1/program-info/programs/{DISTRICT}/BPNT", json=_program(), headers=admin
    )
    assert program.status_code == 403  # the administrator keeps the FAQ, not programs
    program = await client.put(
        f"/v1/program-info/programs/{DISTRICT}/BPNT",
        json=_program(),
        headers=registry.auth(Role.MANAGER),
    )
    assert program.status_code == 201, program.text
    front = registry.auth(Role.FRONT_OFFICE, VILLAGE)
    both = await client.get("/v1/program-info/search", params={"q": "e-warong"}, headers=front)
    assert both.status_code == 200, both.text
    assert {h["id"] for h in both.json()["items"]} == {faq.json()["id"], program.json()["id"]}
    only_faq = await client.get(
        "/v1/program-info/search", params={"q": "e-warong", "kind": "faq"}, headers=front
    )
    assert [h["id"] for h in only_faq.json()["items"]] == [faq.json()["id"]]
    # A misspelt word still finds it (trigram word similarity).
    typo = await client.get("/v1/program-info/search", params={"q": "dibagikn"}, headers=front)
    assert [h["id"] for h in typo.json()["items"]] == [faq.json()["id"]]
    nothing = await client.get(
        "/v1/program-info/search", params={"q": "asuransi kesehatan"}, headers=front
    )
    assert nothing.json()["items"] == []
    # A province caller names the district; an unknown-to-them district is not found.
    province = await client.get(
        "/v1/program-info/search",
        params={"q": "e-warong"},
        headers=registry.auth(Role.SUPERVISOR, "32"),
    )
    assert province.status_code == 422, province.text
    assert province.json()["errors"][0]["field"] == "district"
    other = await client.get(
        "/v1/program-info/search",
        params={"q": "e-warong", "district": "3273"},
        headers=front,
    )
    assert other.status_code == 404


async def test_eligibility_of_an_unknown_household_is_not_found(registry: Registry) -> None:
    response = await registry.client.get(
        f"/v1/households/{uuid.uuid4()}/eligibility", headers=registry.auth(Role.BACK_OFFICE)
    )
    assert response.status_code == 404
