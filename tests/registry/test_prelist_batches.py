"""One person, one pending pre-list entry (a second request joins the first and says so), and
tablet batches of pre-list entries, change proposals and needs, safe to resend."""

from __future__ import annotations

import csv
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.registry.domain.proposals import same_person
from services.registry.extract import COLUMNS
from slrt.auth.principal import Role
from slrt.contracts.events import Complainant, PrelistEntryRequested
from slrt.kafka import EventProducer
from tests.support.polling import until
from tests.support.registry import (
    KNOWN,
    VILLAGE,
    Registry,
    fresh_nik,
    import_file,
    known_rows,
)

NIK = "3204051203800007"


@pytest.mark.unit
def test_the_same_person_is_matched_by_nik_else_by_name_birth_date_and_village() -> None:
    born = date(1980, 3, 12)
    a = {"nik": NIK, "name": "Asep Saepudin", "birth_date": born, "village_code": VILLAGE}
    assert same_person(a, {**a, "name": "Asep S."}) == "nik"
    # Two different NIKs are two people, whatever the names.
    assert same_person(a, {**a, "nik": "3204051203800008"}) is None
    no_nik = {**a, "nik": None, "name": "Asep Saepoedin"}  # old spelling of the same name
    assert same_person(no_nik, a) == "name_birth_date_village"
    assert same_person(a, no_nik) == "name_birth_date_village"
    assert same_person(no_nik, {**a, "village_code": "3204052002"}) is None
    assert same_person(no_nik, {**a, "birth_date": date(1980, 3, 13)}) is None
    assert same_person({**no_nik, "birth_date": None}, {**a, "birth_date": None}) is None
    assert same_person(no_nik, {**a, "nik": None, "name": "Ujang"}) is None


@pytest.fixture
async def loaded(registry: Registry, tmp_path: Path) -> Registry:
    path = tmp_path / "known.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(known_rows())
    await import_file(registry.pool, path)
    return registry


class People:
    """This test's own people: requests other tests published reach this test's registry too
    (a shared topic read from the start), so NIKs and names must not match theirs."""

    def __init__(self) -> None:
        self.nik = fresh_nik()
        self.other_nik = fresh_nik()
        self.name = f"Asep Saepudin {uuid.uuid4().hex[:4]}"

    def person(self, **overrides: Any) -> dict[str, Any]:
        return {
            "name": self.name,
            "village_code": VILLAGE,
            "nik": self.nik,
            "kk_number": "3204051810250077",
            "sex": "male",
            "birth_date": "1980-03-12",
            **overrides,
        }


@pytest.fixture
def people() -> People:
    return People()


async def test_a_second_prelist_for_the_same_person_joins_the_first(
    loaded: Registry, people: People
) -> None:
    client = loaded.client
    facilitator = loaded.auth(Role.FACILITATOR, "320405", subject="fac-1")
    supervisor = loaded.auth(Role.SUPERVISOR, "320405", subject="sup-1")
    manager = loaded.auth(Role.MANAGER, "3204", subject="mgr-1")
    first_complaint, second_complaint, third_complaint = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    first = await client.post(
        "/v1/prelist",
        json=people.person(complaint_id=str(first_complaint), ticket_number="SLRT-1"),
        headers=facilitator,
    )
    assert first.status_code == 201, first.text
    assert first.json()["joined"] is False
    entry_id = first.json()["id"]

    by_nik = await client.post(
        "/v1/prelist",
        json=people.person(name="Asep", complaint_id=str(second_complaint), ticket_number="SLRT-2"),
        headers=facilitator,
    )
    assert by_nik.status_code == 200, by_nik.text
    assert (by_nik.json()["id"], by_nik.json()["joined"], by_nik.json()["matched_by"]) == (
        entry_id,
        True,
        "nik",
    )
    # Without a NIK: the same name (another spelling), birth date and village.
    by_name = await client.post(
        "/v1/prelist",
        json=people.person(
            nik=None,
            name=people.name.replace("Saepudin", "Saepoedin"),
            complaint_id=str(third_complaint),
            ticket_number="T3",
        ),
        headers=facilitator,
    )
    assert by_name.status_code == 200, by_name.text
    assert (by_name.json()["id"], by_name.json()["matched_by"]) == (
        entry_id,
        "name_birth_date_village",
    )
    # Another NIK is another person.
    other = await client.post(
        "/v1/prelist", json=people.person(nik=people.other_nik), headers=facilitator
    )
    assert other.status_code == 201
    assert other.json()["id"] != entry_id

    listed = await client.get("/v1/prelist", headers=supervisor)
    mine = {entry_id, other.json()["id"]}
    entries = {e["id"]: e for e in listed.json() if e["id"] in mine}
    assert set(entries) == mine
    joins = entries[entry_id]["joins"]
    assert [(j["complaint_id"], j["ticket_number"], j["matched_by"]) for j in joins] == [
        (str(second_complaint), "SLRT-2", "nik"),
        (str(third_complaint), "T3", "name_birth_date_village"),
    ]

    # Verified once; every complaint that joined the entry hears the result.
    for pending in entries:
        reviewed = await client.post(
            f"/v1/prelist/{pending}/review", json={"decision": "approve"}, headers=supervisor
        )
        assert reviewed.status_code == 200, reviewed.text
    batch = await client.post("/v1/siks-ng/batches", headers=manager)
    assert batch.json()["item_count"] == 2  # one row for the person, not three
    batch_id = batch.json()["batch_id"]
    results = (
        "batch_id,item_id,result,reason,household_ref,welfare_decile\n"
        f"{batch_id},{entry_id},accepted,,3204SIKS000009,3\n"
    )
    applied = await client.post(
        f"/v1/siks-ng/batches/{batch_id}/results",
        content=results,
        headers={**loaded.auth(Role.DATA_MANAGER, "3204"), "Content-Type": "text/csv"},
    )
    assert applied.json()["applied"] == 1
    told = await loaded.pool.fetch(
        "SELECT envelope->>'subject' AS subject FROM outbox "
        "WHERE envelope->>'type' = 'slrt.registry.verification_applied.v1' "
        "AND envelope->'data'->>'proposal_id' = $1 ORDER BY id",
        entry_id,
    )
    assert sorted(r["subject"] for r in told) == sorted(
        str(c) for c in (first_complaint, second_complaint, third_complaint)
    )
    # Once decided, the person is no longer pending: a new request is a new entry.
    later = await client.post("/v1/prelist", json=people.person(), headers=facilitator)
    assert later.status_code == 201


async def test_a_prelist_request_from_routing_joins_a_pending_entry(
    loaded: Registry, people: People
) -> None:
    facilitator = loaded.auth(Role.FACILITATOR, "320405")
    first = await loaded.client.post("/v1/prelist", json=people.person(), headers=facilitator)
    assert first.status_code == 201
    complaint = uuid.uuid4()
    request = PrelistEntryRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        ticket_number="SLRT-3204-000777",
        person=Complainant(name=people.name, village_code=VILLAGE, nik=people.nik),
    )
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        await producer.publish(request, subject=str(complaint), id=str(uuid.uuid4()))
        await producer.publish(request, subject=str(complaint), id=str(uuid.uuid4()))  # retry

    async def told() -> list[Any]:
        return await loaded.pool.fetch(
            "SELECT envelope FROM outbox WHERE envelope->>'subject' = $1", str(complaint)
        )

    (event,) = await until(told, timeout=60)
    assert event["envelope"]["data"]["proposal_id"] == first.json()["id"]
    assert event["envelope"]["data"]["status"] == "proposed"
    assert (
        await loaded.pool.fetchval(
            "SELECT count(*) FROM prelist_entries WHERE nik = $1", people.nik
        )
        == 1
    )
    assert (
        await loaded.pool.fetchval(
            "SELECT count(*) FROM prelist_joins WHERE complaint_id = $1", complaint
        )
        == 1
    )


async def test_a_tablet_batch_is_safe_to_resend(loaded: Registry, people: People) -> None:
    client = loaded.client
    facilitator = loaded.auth(Role.FACILITATOR, "320405", subject="fac-tablet-1")
    items = [
        {"client_id": "tab1-0001", **people.person()},
        {"client_id": "tab1-0002", **people.person(name="Asep S.")},  # the same person: joined
        {
            "client_id": "tab1-0003",
            **people.person(nik="3204059908450002", name="Ujang"),
        },
        {"client_id": "tab1-0004", "name": "Ujang", "village_code": "32040520"},
        {"name": "Tanpa client id", "village_code": VILLAGE},
    ]
    sent = await client.post(
        "/v1/tablet-batches/prelist", json={"items": items}, headers=facilitator
    )
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert (body["created"], body["joined"], body["replayed"], body["rejected"]) == (1, 1, 0, 3), (
        body
    )
    results = body["results"]
    assert [r["status"] for r in results] == [201, 200, 422, 422, 422]
    assert results[1]["id"] == results[0]["id"]
    assert results[1]["matched_by"] == "nik"
    assert [e["field"] for e in results[2]["problem"]["errors"]] == ["nik"]
    assert "3204059908450002" not in sent.text
    assert [e["field"] for e in results[3]["problem"]["errors"]] == ["village_code"]
    assert [e["field"] for e in results[4]["problem"]["errors"]] == ["client_id"]

    # The answer was lost: the tablet sends the whole batch again (the bad NIK corrected).
    items[2] = {"client_id": "tab1-0003", **people.person(nik=people.other_nik, name="Ujang")}
    resent = await client.post(
        "/v1/tablet-batches/prelist", json={"items": items}, headers=facilitator
    )
    again = resent.json()
    assert (again["created"], again["replayed"], again["rejected"]) == (1, 2, 2)
    assert [r["id"] for r in again["results"][:2]] == [r["id"] for r in results[:2]]
    assert again["results"][0]["replayed"]
    assert again["results"][1]["replayed"]
    assert again["results"][1]["joined"]
    mine = "SELECT count(*) FROM {} WHERE {} = 'fac-tablet-1'"
    assert await loaded.pool.fetchval(mine.format("prelist_entries", "created_by")) == 2
    assert await loaded.pool.fetchval(mine.format("prelist_joins", "joined_by")) == 1

    # Another user's tablet cannot take over a client id.
    stranger = loaded.auth(Role.FACILITATOR, "320405", subject="fac-tablet-2")
    taken = await client.post(
        "/v1/tablet-batches/prelist", json={"items": items[:1]}, headers=stranger
    )
    (result,) = taken.json()["results"]
    assert result["status"] == 409
    assert result["problem"]["errors"][0]["field"] == "client_id"


async def test_tablet_batches_of_changes_and_needs(loaded: Registry) -> None:
    client = loaded.client
    facilitator = loaded.auth(Role.FACILITATOR, "320405", subject="fac-tablet-3")
    person = (
        await client.post("/v1/persons/lookup", json={"nik": KNOWN[4].nik}, headers=facilitator)
    ).json()[0]
    changes = [
        {
            "client_id": "c-1",
            "individual_id": person["id"],
            "field": "sex",
            "new_value": "female",
            "evidence": "KTP dilihat",
        },
        {
            "client_id": "c-2",
            "individual_id": person["id"],
            "field": "nik",
            "new_value": "1",
            "evidence": "salah ketik",
        },
        {
            "client_id": "c-3",
            "individual_id": str(uuid.uuid4()),
            "field": "sex",
            "new_value": "female",
            "evidence": "KTP dilihat",
        },
    ]
    for _ in range(2):
        sent = await client.post(
            "/v1/tablet-batches/change-proposals", json={"items": changes}, headers=facilitator
        )
        assert sent.status_code == 200, sent.text
    results = sent.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 404]
    assert results[0]["replayed"]
    assert results[1]["problem"]["errors"][0]["field"] == "field"
    assert (
        await loaded.pool.fetchval(
            "SELECT count(*) FROM change_proposals WHERE created_by = 'fac-tablet-3'"
        )
        == 1
    )

    household = person["household_id"]
    needs = [
        {"client_id": "n-1", "household_id": household, "need": "Air bersih", "program_code": None},
        {"client_id": "n-2", "household_id": household, "need": "Sekolah", "program_code": "NOPE"},
        {"client_id": "n-3", "household_id": household, "need": "x"},
    ]
    for _ in range(2):
        sent = await client.post(
            "/v1/tablet-batches/needs", json={"items": needs}, headers=facilitator
        )
    results = sent.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 422]
    assert results[1]["problem"]["errors"][0]["field"] == "program_code"
    assert results[2]["problem"]["errors"][0]["field"] == "need"
    assert (
        await loaded.pool.fetchval(
            "SELECT count(*) FROM program_needs WHERE recorded_by = 'fac-tablet-3'"
        )
        == 1
    )
    # The whole batch must be a list of items.
    empty = await client.post("/v1/tablet-batches/needs", json={"items": []}, headers=facilitator)
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "items"
