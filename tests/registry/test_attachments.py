"""Evidence attached to pre-list entries and change proposals, on the real stack (the registry
in-process on PostgreSQL and Kafka, the local folder store): a photo loses its GPS, an active
PDF is refused, another district's token finds nothing, reads are audited with the proposal,
resends are idempotent."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

from services.registry.extract import COLUMNS
from slrt.auth.principal import Role
from tests.support.attachments import gps_of, jpeg_with_gps, pdf, pdf_with
from tests.support.registry import VILLAGE, Registry, fresh_nik, import_file, own_household


async def test_evidence_of_a_prelist_entry_and_a_change_proposal(
    registry: Registry, tmp_path: Path
) -> None:
    client = registry.client
    facilitator = registry.auth(Role.FACILITATOR, "320405", subject="ev-fac")
    supervisor = registry.auth(Role.SUPERVISOR, "320405", subject="ev-sup")
    elsewhere = registry.auth(Role.SUPERVISOR, "3273", subject="ev-kota")

    entry = await client.post(
        "/v1/prelist",
        json={"name": "Entin", "village_code": VILLAGE, "nik": fresh_nik("female")},
        headers=facilitator,
    )
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["id"]
    base = f"/v1/prelist/{entry_id}/attachments"

    photo = await client.post(
        base, content=jpeg_with_gps(), headers={**facilitator, "Idempotency-Key": "tab-1:kk"}
    )
    assert photo.status_code == 201, photo.text
    again = await client.post(
        base, content=jpeg_with_gps(), headers={**facilitator, "Idempotency-Key": "tab-1:kk"}
    )
    assert again.status_code == 200
    assert again.json()["attachment_id"] == photo.json()["attachment_id"]
    active = await client.post(base, content=pdf_with("javascript"), headers=facilitator)
    assert active.status_code == 422
    assert active.json()["errors"][0]["rule"] == "pdf_active_content"
    # Reviewers do not add evidence; another district does not see the entry.
    assert (await client.post(base, content=pdf(), headers=supervisor)).status_code == 403
    assert (await client.get(base, headers=elsewhere)).status_code == 404

    listed = await client.get(base, headers=supervisor)
    assert [a["attachment_id"] for a in listed.json()["items"]] == [photo.json()["attachment_id"]]
    link_path = photo.json()["link"]
    assert (await client.get(link_path, headers=elsewhere)).status_code == 404
    link = await client.get(link_path, headers=supervisor)
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert url.startswith("http://registry.test/v1/attachment-downloads/")
    got = await client.get(url)
    assert got.status_code == 200
    assert got.content.startswith(b"\xff\xd8\xff")
    assert gps_of(got.content) == {}
    audited = await registry.pool.fetch(
        "SELECT actor, action FROM audit_log WHERE proposal_id = $1 AND action = $2",
        uuid.UUID(entry_id),
        "attachment_read",
    )
    assert [dict(r) for r in audited] == [{"actor": "ev-sup", "action": "attachment_read"}]

    # A change proposal carries its evidence the same way.
    rows, nik = own_household("Cecep Hidayat")
    path = tmp_path / "own.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    await import_file(registry.pool, path)
    person = await client.post(
        "/v1/persons/lookup", json={"nik": nik}, headers=registry.auth(Role.MANAGER, "3204")
    )
    assert person.status_code == 200, person.text
    individual_id = person.json()[0]["id"]
    change = await client.post(
        "/v1/change-proposals",
        json={
            "individual_id": individual_id,
            "field": "disability",
            "new_value": "physical",
            "evidence": "surat keterangan dokter",
        },
        headers=facilitator,
    )
    assert change.status_code == 201, change.text
    letter = await client.post(
        f"/v1/change-proposals/{change.json()['id']}/attachments",
        content=pdf(),
        headers=facilitator,
    )
    assert letter.status_code == 201, letter.text
    assert letter.json()["owner"] == "change"
    assert letter.json()["content_type"] == "application/pdf"
