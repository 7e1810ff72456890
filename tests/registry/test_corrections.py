"""Corrections proposed from a complaint, on the real broker and Postgres: the request becomes
one change proposal per change (once, however often it is redelivered), each is reviewed,
exported to SIKS-NG and applied only when SIKS-NG accepts it; every step is an event keyed by
the complaint."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from pathlib import Path

import pytest

from services.registry.domain.identity import make_kk, make_nik
from services.registry.extract import COLUMNS
from slrt.auth.principal import Role
from slrt.contracts.corrections import (
    AddressChange,
    FieldChange,
    KkChange,
    MemberAdd,
    MemberMove,
    MemberRemove,
    NewMember,
)
from slrt.contracts.events import RegistryCorrectionRequested
from slrt.kafka import EventProducer
from tests.support.polling import poll
from tests.support.registry import KNOWN, VILLAGE, Registry, import_file, known_rows

NEW_KK = "3204051811260042"
BABY_NIK = "3204055001260003"


@pytest.fixture
async def loaded(registry: Registry, tmp_path: Path) -> Registry:
    path = tmp_path / "known.csv"
    other = {
        **known_rows()[0],
        "household_ref": "3204KNOWN00002",
        "address": "Jl. Rancaekek No. 9",
        "kk_number": make_kk("320405", date(2021, 2, 3), 902),
        "nik": make_nik("320405", date(1991, 6, 7), "male", 911),
        "name": "Dadang Suryana",
        "sex": "L",
        "birth_date": "1991-06-07",
        "relation": "head",
    }
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows([*known_rows(), other])
    await import_file(registry.pool, path)
    return registry


async def _ids(registry: Registry) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """The known household, another household of the village (the move's target), and the
    known people's ids in KNOWN's order."""
    pool = registry.pool
    household = await pool.fetchval(
        "SELECT id FROM households WHERE registry_ref = '3204KNOWN00001'"
    )
    target = await pool.fetchval("SELECT id FROM households WHERE registry_ref = '3204KNOWN00002'")
    people = [
        await pool.fetchval("SELECT id FROM individuals WHERE nik = $1", p.nik) for p in KNOWN
    ]
    return household, target, people


async def test_a_complaints_corrections_go_through_siks_ng_and_apply_when_accepted(
    loaded: Registry,
) -> None:
    client, pool = loaded.client, loaded.pool
    household, target, people = await _ids(loaded)
    assert target is not None
    complaint = uuid.uuid4()
    request = RegistryCorrectionRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        ticket_number="3204-26-000321",
        village_code=VILLAGE,
        evidence="KK baru dan akta kelahiran dilihat saat kunjungan",
        requested_by="bo-7",
        changes=[
            FieldChange(individual_id=people[1], field="name", new_value="Muhammad Rizky"),
            MemberAdd(
                household_id=household,
                member=NewMember(
                    name="Aisyah Putri",
                    nik=BABY_NIK,
                    sex="female",
                    birth_date=date(2026, 1, 10),
                    relation="grandchild",
                ),
            ),
            MemberRemove(individual_id=people[2], reason="moved_out"),
            MemberMove(individual_id=people[3], to_household_id=target, relation="spouse"),
            AddressChange(household_id=household, address="Dusun Cibodas RT 002/RW 005"),
            KkChange(household_id=household, kk_number=NEW_KK),
            FieldChange(individual_id=uuid.uuid4(), field="sex", new_value="male"),
        ],
    )
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        await producer.publish(request, subject=str(complaint), id=str(uuid.uuid4()))
        # routing retried: a second event for the same request records nothing more
        await producer.publish(request, subject=str(complaint), id=str(uuid.uuid4()))

    async def proposals() -> list[dict[str, object]]:
        rows = await pool.fetch(
            "SELECT * FROM change_proposals WHERE request_id = $1 ORDER BY item_no",
            request.request_id,
        )
        return [dict(r) for r in rows]

    rows = await poll(proposals, lambda rows: len(rows) == 7, timeout=60)
    assert [(r["change_kind"], r["status"], r["review_note"]) for r in rows] == [
        ("field", "proposed", None),
        ("member_add", "proposed", None),
        ("member_remove", "proposed", None),
        ("member_move", "proposed", None),
        ("address", "proposed", None),
        ("kk_number", "proposed", None),
        ("field", "returned", "unknown_individual"),
    ]
    assert {r["complaint_id"] for r in rows} == {complaint}
    assert {r["created_by"] for r in rows} == {"bo-7"}
    assert rows[0]["old_value"] == KNOWN[1].name
    assert rows[4]["old_value"] == "Jl. Cileunyi No. 1, RT 001/RW 002"

    supervisor = loaded.auth(Role.SUPERVISOR, "320405", subject="sup-1")
    manager = loaded.auth(Role.MANAGER, "3204", subject="mgr-1")
    data_manager = loaded.auth(Role.DATA_MANAGER, "3204", subject="dm-1")
    listed = await client.get(
        "/v1/change-proposals", params={"status": "proposed"}, headers=supervisor
    )
    assert listed.status_code == 200, listed.text
    mine = [p for p in listed.json() if p["complaint_id"] == str(complaint)]
    assert {p["details"]["change_kind"] for p in mine} == {
        "field",
        "member_add",
        "member_remove",
        "member_move",
        "address",
        "kk_number",
    }
    for row in rows[:6]:
        reviewed = await client.post(
            f"/v1/change-proposals/{row['id']}/review",
            json={"decision": "approve"},
            headers=supervisor,
        )
        assert reviewed.json()["status"] == "approved", reviewed.text
    batch = await client.post("/v1/siks-ng/batches", headers=manager)
    assert batch.status_code == 201, batch.text
    batch_id = batch.json()["batch_id"]
    exported = await client.get(f"/v1/siks-ng/batches/{batch_id}.csv", headers=manager)
    assert exported.status_code == 200
    by_field = {r["field"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert set(by_field) == {
        "name",
        "member_add",
        "member_remove",
        "member_move",
        "address",
        "kk_number",
    }
    assert (by_field["member_add"]["nik"], by_field["member_add"]["sex"]) == (BABY_NIK, "P")
    assert by_field["kk_number"]["new_value"] == NEW_KK
    assert by_field["address"]["complaint_id"] == str(complaint)
    again = await client.get(f"/v1/siks-ng/batches/{batch_id}.csv", headers=manager)
    assert again.content == exported.content

    results = "batch_id,item_id,result,reason,household_ref,welfare_decile\n" + "".join(
        f"{batch_id},{by_field[field]['item_id']},{result},{reason},,\n"
        for field, result, reason in [
            ("name", "rejected", "nama sesuai KTP"),
            ("member_add", "accepted", ""),
            ("member_remove", "revisit", "masih tinggal di alamat"),
            ("member_move", "accepted", ""),
            ("address", "accepted", ""),
            ("kk_number", "accepted", ""),
        ]
    )
    applied = await client.post(
        f"/v1/siks-ng/batches/{batch_id}/results",
        content=results,
        headers={**data_manager, "Content-Type": "text/csv"},
    )
    assert applied.status_code == 200, applied.text
    assert applied.json() == {"applied": 6, "errors": []}

    person = {
        r["nik"]: dict(r)
        for r in await pool.fetch(
            "SELECT i.*, h.address FROM individuals i JOIN households h ON h.id = i.household_id "
            "WHERE i.nik = ANY($1)",
            [p.nik for p in KNOWN] + [BABY_NIK],
        )
    }
    assert person[KNOWN[1].nik]["name"] == KNOWN[1].name  # rejected: unchanged
    baby = person[BABY_NIK]
    assert (baby["household_id"], baby["kk_number"], baby["relation"]) == (
        household,
        NEW_KK,
        "grandchild",
    )
    assert person[KNOWN[2].nik]["removed_at"] is None  # revisit: nothing applied
    moved = person[KNOWN[3].nik]
    assert (moved["household_id"], moved["relation"]) == (target, "spouse")
    assert moved["kk_number"] != NEW_KK
    assert person[KNOWN[0].nik]["address"] == "Dusun Cibodas RT 002/RW 005"
    assert person[KNOWN[0].nik]["kk_number"] == NEW_KK
    assert (
        await pool.fetchval("SELECT household_id FROM families WHERE kk_number = $1", NEW_KK)
        == household
    )

    statuses = {
        r["change_kind"]: (r["status"], r["result_reason"]) for r in (await proposals())[:6]
    }
    assert statuses["member_remove"] == ("returned", "masih tinggal di alamat")
    assert statuses["field"] == ("rejected", "nama sesuai KTP")
    verdicts = await pool.fetch(
        "SELECT envelope FROM outbox WHERE envelope->>'type' = "
        "'slrt.registry.verification_applied.v1' AND envelope->>'subject' = $1",
        str(complaint),
    )
    assert sorted(v["envelope"]["data"]["result"] for v in verdicts) == [
        "accepted",
        "accepted",
        "accepted",
        "accepted",
        "rejected",
        "revisit",
    ]
    updates = await pool.fetch(
        "SELECT envelope FROM outbox WHERE envelope->>'type' = "
        "'slrt.registry.proposal_updated.v1' AND envelope->>'subject' = $1",
        str(complaint),
    )
    # proposed (6) + returned at once (1), approved (6), exported (6)
    assert len(updates) == 19
