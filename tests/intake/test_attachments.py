"""Attachments of complaints on the real stack (PostgreSQL, Kafka; intake in-process with a
local folder store and the clamd stand-in): an uploaded JPEG comes back without its GPS EXIF
and is kept sealed; EICAR and active PDFs are refused; a 3204 token cannot read a 3273
attachment; every link issued is audited; resends are idempotent; limits hold; erasing a
complaint's personal data deletes its attachments; the public tracking page shows none."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.intake import attachments
from services.intake.app import create_app
from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings
from slrt.contracts.complaints import ComplaintStep
from slrt.kafka import EventProducer
from slrt.payload_codec import PayloadKeys
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from slrt_dev.standins.clamd import ClamdStandin
from tests.support.attachments import (
    EICAR,
    gps_of,
    jpeg_with_gps,
    pdf,
    pdf_with,
)
from tests.support.intake import (
    ISSUER,
    OTHER_DISTRICT_VILLAGE,
    VILLAGE,
    Intake,
    projected,
    settings_for,
    transition,
    walk_in,
)


@pytest.fixture
def clamd() -> Any:
    with ClamdStandin().running() as standin:
        yield standin


@pytest.fixture
async def att_intake(
    intake_topics: None,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    secrets_dir: Path,
    tmp_path: Path,
    clamd: ClamdStandin,
) -> AsyncIterator[Intake]:
    (secrets_dir / "attachment-keys").write_text(PayloadKeys.generate("att-test-1"))
    settings = settings_for(
        connections,
        attachment_dir=tmp_path / "attachments",
        attachment_max_bytes=200_000,
        attachment_max_count=3,
        clamd_address=clamd.address,
    )
    app = create_app(
        settings, AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake.test"
        ) as client,
        EventProducer(connections, "/slrt/test") as producer,
    ):
        yield Intake(app, client, settings, issuer, producer)


async def _complaint(intake: Intake, area: str = "3204", **overrides: Any) -> str:
    response = await intake.submit(walk_in(**overrides), area=area)
    assert response.status_code == 202, response.text
    complaint_id: str = response.json()["complaint_id"]
    return complaint_id


async def _upload(
    intake: Intake,
    cid: str,
    data: bytes,
    *,
    role: Role = Role.FRONT_OFFICE,
    area: str = "3204",
    client_id: str | None = None,
    content_type: str = "application/octet-stream",
) -> httpx.Response:
    headers = {**intake.auth(role, area), "Content-Type": content_type}
    if client_id:
        headers["Idempotency-Key"] = client_id
    return await intake.client.post(
        f"/v1/complaints/{cid}/attachments", content=data, headers=headers
    )


async def _download(intake: Intake, cid: str, aid: str, area: str = "3204") -> bytes:
    link = await intake.client.get(
        f"/v1/complaints/{cid}/attachments/{aid}/link", headers=intake.auth(Role.BACK_OFFICE, area)
    )
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert url.startswith("http://intake.test/v1/attachment-downloads/")
    got = await intake.client.get(url)  # no bearer token: the link is the permission
    assert got.status_code == 200, got.text
    assert got.headers["cache-control"] == "no-store"
    assert got.headers["content-disposition"].startswith("attachment;")
    return got.content


async def test_a_jpeg_with_gps_comes_back_without_it_and_is_kept_sealed(
    att_intake: Intake, tmp_path: Path
) -> None:
    cid = await _complaint(att_intake)
    original = jpeg_with_gps()
    assert gps_of(original)
    # Declared as a PDF: the content decides.
    up = await _upload(att_intake, cid, original, content_type="application/pdf")
    assert up.status_code == 201, up.text
    body = up.json()
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (64, 48)
    back = await _download(att_intake, cid, body["attachment_id"])
    assert back.startswith(b"\xff\xd8\xff")
    assert gps_of(back) == {}
    assert b"SLRT-Test-Camera" not in back
    # At rest: ciphertext only, under a name that says nothing of the file.
    kept = list((tmp_path / "attachments").rglob("*"))
    files = [p for p in kept if p.is_file()]
    assert len(files) == 1
    stored = files[0].read_bytes()
    assert stored.startswith(b"SLRTA1")
    assert b"\xff\xd8\xff" not in stored[:64]
    assert back not in stored
    listed = await att_intake.client.get(
        f"/v1/complaints/{cid}/attachments", headers=att_intake.auth(Role.SUPERVISOR)
    )
    assert [a["attachment_id"] for a in listed.json()["items"]] == [body["attachment_id"]]


async def test_eicar_is_refused(att_intake: Intake) -> None:
    cid = await _complaint(att_intake)
    # EICAR inside something that looks like a JPEG: the scanner runs before anything parses.
    refused = await _upload(att_intake, cid, b"\xff\xd8\xff\xe0" + EICAR)
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("file", "virus_free")
    assert "Eicar-Test-Signature" in error["message"]
    assert await att_intake.pool.fetchval("SELECT count(*) FROM attachments") == 0


@pytest.mark.parametrize("active", ["javascript", "open_launch", "embedded_file"])
async def test_a_pdf_with_active_content_is_refused(att_intake: Intake, active: str) -> None:
    cid = await _complaint(att_intake)
    refused = await _upload(att_intake, cid, pdf_with(active))
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["rule"] == "pdf_active_content"
    plain = await _upload(att_intake, cid, pdf(), role=Role.FACILITATOR)
    assert plain.status_code == 201, plain.text
    assert plain.json()["content_type"] == "application/pdf"
    assert await _download(att_intake, cid, plain.json()["attachment_id"]) == pdf()


async def test_a_3204_token_cannot_read_a_3273_attachment(att_intake: Intake) -> None:
    cid = await _complaint(att_intake, area="3273", village_code=OTHER_DISTRICT_VILLAGE)
    up = await _upload(att_intake, cid, jpeg_with_gps(), area="3273")
    assert up.status_code == 201, up.text
    aid = up.json()["attachment_id"]
    mine = att_intake.auth(Role.BACK_OFFICE, "3204")
    for path in (
        f"/v1/complaints/{cid}/attachments",
        f"/v1/complaints/{cid}/attachments/{aid}/link",
    ):
        response = await att_intake.client.get(path, headers=mine)
        assert response.status_code == 404, (path, response.text)
    other = await _upload(att_intake, cid, jpeg_with_gps(), area="3204")
    assert other.status_code == 404
    # A role without the right where the complaint is visible: 403 (as for the case file).
    viewer = await att_intake.client.get(
        f"/v1/complaints/{cid}/attachments/{aid}/link",
        headers=att_intake.auth(Role.DATA_MANAGER, "3273"),
    )
    assert viewer.status_code == 403
    program_manager = await att_intake.client.get(
        f"/v1/complaints/{cid}/attachments",
        headers=att_intake.auth(Role.PROGRAM_MANAGER, "3273", programs=["PKH"]),
    )
    assert program_manager.status_code == 404
    # Only the allowed read left an audit row; the refused ones none.
    rows = await att_intake.pool.fetch(
        "SELECT actor, action, fields, detail FROM audit_log WHERE complaint_id = $1",
        uuid.UUID(cid),
    )
    assert rows == []
    await _download(att_intake, cid, aid, area="3273")
    rows = await att_intake.pool.fetch(
        "SELECT actor, actor_role, action, fields, detail, place_code FROM audit_log "
        "WHERE complaint_id = $1",
        uuid.UUID(cid),
    )
    assert [dict(r) for r in rows] == [
        {
            "actor": "back_office-3273",
            "actor_role": "back_office",
            "action": "attachment_read",
            "fields": ["attachment"],
            "detail": aid,
            "place_code": OTHER_DISTRICT_VILLAGE,
        }
    ]
    # The data manager sees the read in the audit API.
    audit = await att_intake.client.get(
        "/v1/audit",
        params={"complaint_id": cid},
        headers=att_intake.auth(Role.DATA_MANAGER, "3273"),
    )
    assert [e["action"] for e in audit.json()["items"]] == ["attachment_read"]


async def test_links_expire_and_cannot_be_forged(att_intake: Intake) -> None:
    cid = await _complaint(att_intake)
    aid = (await _upload(att_intake, cid, jpeg_with_gps())).json()["attachment_id"]
    link = await att_intake.client.get(
        f"/v1/complaints/{cid}/attachments/{aid}/link", headers=att_intake.auth(Role.MANAGER)
    )
    url = link.json()["url"]
    token = url.rsplit("/", 1)[1]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await att_intake.client.get(f"/v1/attachment-downloads/{forged}")).status_code == 404
    runtime = att_intake.runtime
    later = runtime.clock() + __import__("datetime").timedelta(
        seconds=att_intake.settings.attachment_link_seconds + 1
    )
    runtime.clock = lambda: later
    expired = await att_intake.client.get(url)
    assert expired.status_code == 404


async def test_resends_are_idempotent_and_limits_hold(att_intake: Intake) -> None:
    cid = await _complaint(att_intake)
    first = await _upload(
        att_intake, cid, jpeg_with_gps(), role=Role.FACILITATOR, client_id="tab-7:f1"
    )
    again = await _upload(
        att_intake, cid, jpeg_with_gps(), role=Role.FACILITATOR, client_id="tab-7:f1"
    )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["attachment_id"] == first.json()["attachment_id"]
    too_big = await _upload(att_intake, cid, b"\xff\xd8\xff" + b"\0" * 200_000)
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0] == {
        "field": "file",
        "rule": "max_bytes",
        "message": "send at most 200000 bytes",
    }
    not_a_file = await _upload(att_intake, cid, b"<svg onload=alert(1)>")
    assert not_a_file.status_code == 422
    assert not_a_file.json()["errors"][0]["rule"] == "file_type"
    assert (await _upload(att_intake, cid, pdf())).status_code == 201
    assert (await _upload(att_intake, cid, pdf())).status_code == 201
    fourth = await _upload(att_intake, cid, pdf())
    assert fourth.status_code == 409
    assert "at most 3 attachments" in fourth.json()["detail"]
    # Roles that do not add documents: 403.
    supervisor = await _upload(att_intake, cid, pdf(), role=Role.SUPERVISOR)
    assert supervisor.status_code == 403


async def test_erasing_a_complaints_personal_data_deletes_its_attachments(
    att_intake: Intake, tmp_path: Path
) -> None:
    cid = await _complaint(att_intake)
    kept = await _complaint(att_intake)
    for _ in range(2):
        assert (await _upload(att_intake, cid, jpeg_with_gps())).status_code == 201
    assert (await _upload(att_intake, kept, pdf())).status_code == 201
    parts = att_intake.runtime.part(attachments.AttachmentParts)
    assert parts is not None
    assert await attachments.erase_for_complaint(att_intake.pool, parts, uuid.UUID(cid)) == 2
    assert await attachments.erase_for_complaint(att_intake.pool, parts, uuid.UUID(cid)) == 0
    files = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert len(files) == 1
    assert kept in str(files[0])
    listed = await att_intake.client.get(
        f"/v1/complaints/{cid}/attachments", headers=att_intake.auth(Role.BACK_OFFICE)
    )
    assert listed.json()["items"] == []


async def test_the_public_tracking_answer_shows_no_attachment(att_intake: Intake) -> None:
    response = await att_intake.submit(walk_in())
    body = response.json()
    assert (await _upload(att_intake, body["complaint_id"], jpeg_with_gps())).status_code == 201
    tracked = await att_intake.client.post(
        "/v1/tracking",
        json={"ticket_number": body["ticket_number"], "verifier": body["tracking_code"]},
    )
    assert tracked.status_code == 200, tracked.text
    assert body["ticket_number"] in tracked.text
    assert "attachment" not in tracked.text.lower()
    assert body["complaint_id"] not in tracked.text


async def test_a_program_manager_attaches_to_their_referral_only(att_intake: Intake) -> None:
    response = await att_intake.submit(walk_in())
    body = response.json()
    cid = uuid.UUID(body["complaint_id"])
    referred = transition(
        cid,
        body["ticket_number"],
        1,
        ComplaintStep.REFERRED,
        from_step="manager_approval",
        referral_destination="PKH",
    )
    await att_intake.publish(referred, str(cid))
    await projected(att_intake, cid, 1)

    def pm(program: str) -> dict[str, str]:
        return att_intake.auth(
            Role.PROGRAM_MANAGER, "", subject=f"pm-{program}", programs=[program]
        )

    letter = await att_intake.client.post(
        f"/v1/complaints/{cid}/attachments", content=pdf(), headers=pm("PKH")
    )
    assert letter.status_code == 201, letter.text
    assert letter.json()["uploaded_role"] == "program_manager"
    other = await att_intake.client.post(
        f"/v1/complaints/{cid}/attachments", content=pdf(), headers=pm("BPNT")
    )
    assert other.status_code == 404
    photo = await _upload(att_intake, str(cid), jpeg_with_gps())
    listed = await att_intake.client.get(f"/v1/complaints/{cid}/attachments", headers=pm("PKH"))
    assert listed.status_code == 200
    assert {a["attachment_id"] for a in listed.json()["items"]} == {
        letter.json()["attachment_id"],
        photo.json()["attachment_id"],
    }
    assert (
        await att_intake.client.get(f"/v1/complaints/{cid}/attachments", headers=pm("BPNT"))
    ).status_code == 404
    link = await att_intake.client.get(
        f"/v1/complaints/{cid}/attachments/{photo.json()['attachment_id']}/link",
        headers=pm("PKH"),
    )
    assert link.status_code == 200
    audited = await att_intake.pool.fetchrow(
        "SELECT actor, actor_role, action FROM audit_log WHERE complaint_id = $1", cid
    )
    assert dict(audited or {}) == {
        "actor": "pm-PKH",
        "actor_role": "program_manager",
        "action": "attachment_read",
    }


async def test_an_offline_batch_carries_its_files_by_reference(att_intake: Intake) -> None:
    """The tablet syncs the complaint naming its files' client ids; the answer says which are
    still to upload; each upload is keyed by its client id; resending batch or files is safe."""
    item = {
        "client_id": str(uuid.uuid4()),
        **walk_in(channel="facilitator_visit"),
        "attachments": ["tab-9:kks.jpg", "tab-9:surat.pdf"],
    }
    headers = att_intake.auth(Role.FACILITATOR, VILLAGE, subject="fas-9")
    first = await att_intake.client.post(
        "/v1/sync/complaints", json={"items": [item]}, headers=headers
    )
    assert first.status_code == 200, first.text
    (synced,) = first.json()["items"]
    assert synced["result"] == "created"
    assert synced["attachments_missing"] == ["tab-9:kks.jpg", "tab-9:surat.pdf"]
    upload = synced["attachments_upload"]
    assert upload == f"/v1/complaints/{synced['complaint']['complaint_id']}/attachments"

    photo = await att_intake.client.post(
        upload, content=jpeg_with_gps(), headers={**headers, "Idempotency-Key": "tab-9:kks.jpg"}
    )
    assert photo.status_code == 201, photo.text
    again = await att_intake.client.post(
        "/v1/sync/complaints", json={"items": [item]}, headers=headers
    )
    (replayed,) = again.json()["items"]
    assert replayed["result"] == "replayed"
    assert replayed["attachments_missing"] == ["tab-9:surat.pdf"]
    for _ in range(2):  # the last file, sent twice (a dropped connection)
        letter = await att_intake.client.post(
            upload, content=pdf(), headers={**headers, "Idempotency-Key": "tab-9:surat.pdf"}
        )
        assert letter.status_code in (200, 201), letter.text
    final = await att_intake.client.post(
        "/v1/sync/complaints", json={"items": [item]}, headers=headers
    )
    assert final.json()["items"][0]["attachments_missing"] == []
    assert await att_intake.pool.fetchval("SELECT count(*) FROM attachments") == 2
