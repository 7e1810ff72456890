"""Pre-list and profile-change proposals: review → SIKS-NG export batch → verification results
applied, with events for the complaints that started them."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest

from services.registry.domain.siks_ng import EXPORT_COLUMNS
from services.registry.extract import COLUMNS
from slrt.auth.principal import Role
from tests.support.registry import KNOWN, VILLAGE, Registry, import_file, known_rows


@pytest.fixture
async def loaded(registry: Registry, tmp_path: Path) -> Registry:
    path = tmp_path / "known.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(known_rows())
    await import_file(registry.pool, path)
    return registry


async def _events(registry: Registry, proposal_id: str) -> list[tuple[str, str]]:
    rows = await registry.pool.fetch(
        "SELECT envelope FROM outbox WHERE topic = 'slrt.registry.results' ORDER BY id"
    )
    found = []
    for row in rows:
        data = row["envelope"]["data"]
        if data.get("proposal_id") == proposal_id:
            status = data.get("status") or ("accepted" if data["accepted"] else "rejected")
            found.append((row["envelope"]["type"].split(".")[2], status))
    return found


async def test_proposals_round_trip_through_siks_ng(loaded: Registry) -> None:
    client = loaded.client
    front_office = loaded.auth(Role.FRONT_OFFICE, "3204052001", subject="fo-1")
    facilitator = loaded.auth(Role.FACILITATOR, "320405", subject="fac-1")
    supervisor = loaded.auth(Role.SUPERVISOR, "320405", subject="sup-1")
    manager = loaded.auth(Role.MANAGER, "3204", subject="mgr-1")
    data_manager = loaded.auth(Role.DATA_MANAGER, "3204", subject="dm-1")
    complaint = uuid.uuid4()

    # A person found outside the registry, recorded at the Puskesos without a KK number.
    created = await client.post(
        "/v1/prelist",
        json={
            "name": "Asep Saepudin",
            "village_code": VILLAGE,
            "nik": "3204051203800007",
            "sex": "male",
            "complaint_id": str(complaint),
            "ticket_number": "SLRT-1",
        },
        headers=front_office,
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["status"] == "proposed"

    incomplete = await client.post(
        f"/v1/prelist/{entry['id']}/review", json={"decision": "approve"}, headers=supervisor
    )
    assert incomplete.status_code == 422
    assert {e["field"] for e in incomplete.json()["errors"]} == {"kk_number", "birth_date"}
    returned = await client.post(
        f"/v1/prelist/{entry['id']}/review",
        json={"decision": "return", "note": "lengkapi nomor KK dan tanggal lahir"},
        headers=supervisor,
    )
    assert returned.json()["status"] == "returned"
    corrected = await client.patch(
        f"/v1/prelist/{entry['id']}",
        json={"kk_number": "3204051810250077", "birth_date": "1980-03-12"},
        headers=facilitator,
    )
    assert corrected.json()["status"] == "proposed"
    approved = await client.post(
        f"/v1/prelist/{entry['id']}/review", json={"decision": "approve"}, headers=supervisor
    )
    assert approved.json()["status"] == "approved"
    again = await client.post(
        f"/v1/prelist/{entry['id']}/review", json={"decision": "approve"}, headers=supervisor
    )
    assert again.status_code == 409

    # Two profile changes from a home visit: one will be accepted, one rejected.
    person = (
        await client.post("/v1/persons/lookup", json={"nik": KNOWN[4].nik}, headers=facilitator)
    ).json()[0]
    fix_sex = await client.post(
        "/v1/change-proposals",
        json={
            "individual_id": person["id"],
            "field": "sex",
            "new_value": "female",
            "evidence": "KTP dilihat saat kunjungan rumah",
        },
        headers=facilitator,
    )
    assert fix_sex.status_code == 201, fix_sex.text
    assert fix_sex.json()["details"]["old_value"] == "male"
    school = await client.post(
        "/v1/change-proposals",
        json={
            "individual_id": person["id"],
            "field": "disability",
            "new_value": "physical",
            "evidence": "surat keterangan puskesmas",
        },
        headers=facilitator,
    )
    bad = await client.post(
        "/v1/change-proposals",
        json={"individual_id": person["id"], "field": "nik", "new_value": "1", "evidence": "typo"},
        headers=facilitator,
    )
    assert bad.status_code == 422
    for proposal in (fix_sex.json(), school.json()):
        reviewed = await client.post(
            f"/v1/change-proposals/{proposal['id']}/review",
            json={"decision": "approve"},
            headers=supervisor,
        )
        assert reviewed.json()["status"] == "approved"

    # Another district's manager neither sees nor exports them.
    outsider = loaded.auth(Role.MANAGER, "3273")
    assert (await client.post("/v1/siks-ng/batches", headers=outsider)).status_code == 409
    batch = await client.post("/v1/siks-ng/batches", headers=manager)
    assert batch.status_code == 201
    batch_id = batch.json()["batch_id"]
    assert batch.json()["item_count"] == 3
    assert (await client.post("/v1/siks-ng/batches", headers=manager)).status_code == 409

    first = await client.get(f"/v1/siks-ng/batches/{batch_id}.csv", headers=manager)
    second = await client.get(f"/v1/siks-ng/batches/{batch_id}.csv", headers=manager)
    assert first.status_code == 200
    assert first.content == second.content  # idempotent re-export
    assert (
        await client.get(f"/v1/siks-ng/batches/{batch_id}.csv", headers=outsider)
    ).status_code == 404
    exported = list(csv.DictReader(io.StringIO(first.text)))
    assert tuple(exported[0]) == EXPORT_COLUMNS
    by_type = {(r["item_type"], r["field"]): r for r in exported}
    prelist_row = by_type[("prelist", "")]
    assert (prelist_row["nik"], prelist_row["sex"], prelist_row["complaint_id"]) == (
        "3204051203800007",
        "L",
        str(complaint),
    )
    assert by_type[("change", "sex")]["new_value"] == "female"

    results = (
        "batch_id,item_id,result,reason,household_ref,welfare_decile\n"
        f"{batch_id},{prelist_row['item_id']},accepted,,3204SIKS000001,2\n"
        f"{batch_id},{by_type[('change', 'sex')]['item_id']},accepted,,,\n"
        f"{batch_id},{by_type[('change', 'disability')]['item_id']},rejected,"
        "bukti tidak cukup,,\n"
        f"{batch_id},{uuid.uuid4()},accepted,,,\n"
    )
    csv_headers = {**data_manager, "Content-Type": "text/csv"}
    applied = await client.post(
        f"/v1/siks-ng/batches/{batch_id}/results", content=results, headers=csv_headers
    )
    assert applied.status_code == 200, applied.text
    assert applied.json() == {
        "applied": 3,
        "errors": [{"line": 5, "field": "item_id", "rule": "not_in_batch"}],
    }

    # The accepted pre-list entry is now a registry household; the accepted change applied.
    found = await client.post(
        "/v1/persons/lookup", json={"nik": "3204051203800007"}, headers=facilitator
    )
    assert found.status_code == 200
    assert found.json()[0]["welfare_decile"] == 2
    assert found.json()[0]["kk_number"] == "3204051810250077"
    fixed = (
        await client.post("/v1/persons/lookup", json={"nik": KNOWN[4].nik}, headers=facilitator)
    ).json()[0]
    assert fixed["sex"] == "female"
    assert fixed["warnings"] == []
    assert fixed["disability"] is None

    listed = await client.get(
        "/v1/change-proposals", params={"status": "rejected"}, headers=supervisor
    )
    assert [(p["id"], p["result_reason"]) for p in listed.json()] == [
        (school.json()["id"], "bukti tidak cukup")
    ]

    # Re-importing the results file changes nothing.
    again_applied = await client.post(
        f"/v1/siks-ng/batches/{batch_id}/results", content=results, headers=csv_headers
    )
    assert again_applied.json()["applied"] == 0

    # Each step was an event, keyed by the complaint that started it when there is one.
    assert await _events(loaded, entry["id"]) == [
        ("proposal_updated", "proposed"),
        ("proposal_updated", "returned"),
        ("proposal_updated", "proposed"),
        ("proposal_updated", "approved"),
        ("proposal_updated", "exported"),
        ("verification_applied", "accepted"),
    ]
    assert (await _events(loaded, school.json()["id"]))[-1] == ("verification_applied", "rejected")
    subjects = await loaded.pool.fetch(
        "SELECT DISTINCT envelope->>'subject' AS subject FROM outbox "
        "WHERE envelope->'data'->>'proposal_id' = $1",
        entry["id"],
    )
    assert [s["subject"] for s in subjects] == [str(complaint)]


async def test_only_reviewers_review_and_only_capturers_propose(loaded: Registry) -> None:
    client = loaded.client
    viewer = loaded.auth(Role.VIEWER, "3204")
    body = {"name": "Ujang", "village_code": VILLAGE}
    assert (await client.post("/v1/prelist", json=body, headers=viewer)).status_code == 403
    other_village = loaded.auth(Role.FACILITATOR, "3204052002")
    assert (await client.post("/v1/prelist", json=body, headers=other_village)).status_code == 404
    created = await client.post(
        "/v1/prelist", json=body, headers=loaded.auth(Role.FACILITATOR, "3204")
    )
    entry_id = created.json()["id"]
    as_facilitator = await client.post(
        f"/v1/prelist/{entry_id}/review",
        json={"decision": "approve"},
        headers=loaded.auth(Role.FACILITATOR, "3204"),
    )
    assert as_facilitator.status_code == 403
    no_note = await client.post(
        f"/v1/prelist/{entry_id}/review",
        json={"decision": "return"},
        headers=loaded.auth(Role.SUPERVISOR, "320405"),
    )
    assert no_note.status_code == 422
    bad_nik = await client.post(
        "/v1/prelist",
        json={**body, "nik": "3204059908450002"},
        headers=loaded.auth(Role.FACILITATOR, "3204"),
    )
    assert bad_nik.status_code == 422
    assert "3204059908450002" not in bad_nik.text
