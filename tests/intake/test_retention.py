"""Personal data retention on the real stack (PostgreSQL, Kafka; intake in-process with a local
folder attachment store): intake's own sweep erases a complaint closed more than the retention
period ago — its attachment files, contact, identity and free texts — while tracking and the
dashboard-facing status stay; an open complaint is never erased; an administrator erases an
ended complaint on the household's request (403/404/409/422 otherwise), once; and the real
service process sweeps with the settings from its environment, logging no personal data."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake import retention
from services.intake.app import create_app
from slrt.attachments.service import AttachmentParts
from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings
from slrt.contracts.complainants import REDEEM_PATH as COMPLAINANT_REDEEM_PATH
from slrt.contracts.complainants import complainant_reference
from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.contacts import REDEEM_PATH, household_reference
from slrt.kafka import EventProducer
from slrt.payload_codec import PayloadKeys
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from tests.support.attachments import jpeg_with_gps
from tests.support.harness import service_process
from tests.support.intake import (
    ISSUER,
    Intake,
    at_step,
    projected,
    settings_for,
    transition,
    walk_in,
)
from tests.support.polling import until

RETENTION_DAYS = 1095
PERSONAL = ("Siti Aminah", "3204054107850003", "081234567890", "siti@example.id")


@pytest.fixture
async def ret_intake(
    intake_topics: None,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    secrets_dir: Path,
    tmp_path: Path,
) -> AsyncIterator[Intake]:
    (secrets_dir / "attachment-keys").write_text(PayloadKeys.generate("ret-test-1"))
    settings = settings_for(
        connections,
        attachment_dir=tmp_path / "attachments",
        personal_data_retention_days=RETENTION_DAYS,
        personal_data_retention_sweep_seconds=0.2,
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


async def _submitted(intake: Intake) -> dict[str, Any]:
    complainant = {**walk_in()["complainant"], "email": "siti@example.id"}
    description = "Siti Aminah (HP 081234567890) tidak terdaftar sebagai penerima PKH."
    response = await intake.submit(walk_in(complainant=complainant, description=description))
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    upload = await intake.client.post(
        f"/v1/complaints/{body['complaint_id']}/attachments",
        content=jpeg_with_gps(),
        headers={**intake.auth(Role.FRONT_OFFICE), "Content-Type": "image/jpeg"},
    )
    assert upload.status_code == 201, upload.text
    # The full text of a masked note, as intake keeps it beside the workflow's masked copy.
    await intake.pool.execute(
        "INSERT INTO action_texts (complaint_id, request_id, action, field, text, actor) "
        "VALUES ($1, 'k-1', 'back_office', 'note', 'Bu Siti Aminah, HP 081234567890', 'bo')",
        uuid.UUID(body["complaint_id"]),
    )
    return body


async def _move(
    intake: Intake, body: dict[str, Any], sequence: int, step: ComplaintStep, at: datetime
) -> None:
    cid = uuid.UUID(body["complaint_id"])
    closing = step is ComplaintStep.CLOSED
    extra: dict[str, Any] = {"outcome": Outcome.RESOLVED_LOCALLY} if closing else {}
    event = transition(cid, body["ticket_number"], sequence, step, **extra).model_copy(
        update={"at": at}
    )
    await intake.publish(event, subject=str(cid))
    await projected(intake, cid, sequence)


def _files(root: Path, complaint_id: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and complaint_id in str(p)]


async def _redeem(intake: Intake, complaint_id: str) -> httpx.Response:
    return await intake.client.post(
        REDEEM_PATH,
        json={
            "reference": household_reference(uuid.UUID(complaint_id)),
            "request_id": str(uuid.uuid4()),
            "purpose": "household_outcome",
        },
        headers=intake.auth(Role.NOTIFIER_SERVICE, "", subject="service:notifier"),
    )


async def _row(intake: Intake, complaint_id: str) -> dict[str, Any]:
    row = await intake.pool.fetchrow(
        "SELECT * FROM complaints WHERE id = $1", uuid.UUID(complaint_id)
    )
    assert row is not None
    return dict(row)


async def _status(intake: Intake, complaint_id: str) -> dict[str, Any]:
    row = await intake.pool.fetchrow(
        "SELECT * FROM complaint_status WHERE complaint_id = $1", uuid.UUID(complaint_id)
    )
    assert row is not None
    return dict(row)


async def test_the_sweep_erases_a_complaint_closed_past_retention_and_keeps_the_rest(
    ret_intake: Intake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="services.intake.retention")
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=RETENTION_DAYS + 30)
    due = await _submitted(ret_intake)
    open_old = await _submitted(ret_intake)  # open for years: never erased
    closed_recently = await _submitted(ret_intake)
    await _move(ret_intake, open_old, 1, ComplaintStep.BACK_OFFICE, long_ago)
    await _move(ret_intake, closed_recently, 1, ComplaintStep.CLOSED, now - timedelta(days=30))
    assert _files(tmp_path / "attachments", due["complaint_id"])
    before = await _status(ret_intake, due["complaint_id"])
    assert (await _redeem(ret_intake, due["complaint_id"])).json()["phone"] == "081234567890"

    await _move(ret_intake, due, 1, ComplaintStep.CLOSED, long_ago)
    cid = uuid.UUID(due["complaint_id"])

    async def erased() -> datetime | None:
        found: datetime | None = await ret_intake.pool.fetchval(
            "SELECT personal_data_erased_at FROM complaints WHERE id = $1", cid
        )
        return found

    await until(erased, timeout=30)
    # Another round right now changes nothing for the others (they are not due).
    parts = ret_intake.runtime.part(AttachmentParts)
    assert parts is not None
    await retention.sweep_once(ret_intake.pool, parts, ret_intake.settings, datetime.now(UTC))

    # The attachment's file and row are gone; contact, identity and free texts too.
    assert _files(tmp_path / "attachments", due["complaint_id"]) == []
    assert (
        await ret_intake.pool.fetchval(
            "SELECT count(*) FROM attachments WHERE complaint_id = $1", cid
        )
        == 0
    )
    row = await _row(ret_intake, due["complaint_id"])
    assert (row["complainant"], row["phone"], row["phone_last4"], row["email"]) == (None,) * 4
    assert row["description"] == retention.ERASED_TEXT
    assert not any(p in str(row) for p in PERSONAL)
    assert (
        await ret_intake.pool.fetchval(
            "SELECT count(*) FROM action_texts WHERE complaint_id = $1", cid
        )
        == 0
    )
    # The notifier's and the registry's redemptions: nothing any more (audited as erased).
    redeemed = await _redeem(ret_intake, due["complaint_id"])
    assert redeemed.status_code == 200, redeemed.text
    assert (redeemed.json()["phone"], redeemed.json()["email"]) == (None, None)
    outcome = await ret_intake.pool.fetchval(
        "SELECT outcome FROM contact_redemptions WHERE complaint_id = $1 ORDER BY id DESC", cid
    )
    assert outcome == "erased"
    identity = await ret_intake.client.post(
        COMPLAINANT_REDEEM_PATH,
        json={
            "reference": complainant_reference(cid),
            "request_id": str(uuid.uuid4()),
            "purpose": "registry_check",
        },
        headers=ret_intake.auth(Role.REGISTRY_SERVICE, "", subject="service:registry"),
    )
    assert identity.status_code == 200, identity.text
    assert identity.json()["complainant"] is None
    # Tracking still answers with the status (by the tracking code; the phone digits are gone).
    tracked = await ret_intake.client.post(
        "/v1/tracking",
        json={"ticket_number": due["ticket_number"], "verifier": due["tracking_code"]},
    )
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["status"] == "closed"
    # The dashboard-facing status is untouched (the erasure publishes nothing either).
    after = await _status(ret_intake, due["complaint_id"])
    same = ("ticket_number", "place_code", "category", "channel", "program_code", "submitted_at")
    assert {k: after[k] for k in same} == {k: before[k] for k in same}
    assert (after["sequence"], after["step"], after["outcome"], after["updated_at"]) == (
        1,
        "closed",
        "resolved_locally",
        long_ago,
    )
    assert after["snapshot"]["step"] == "closed"
    listed = await ret_intake.client.get(
        f"/v1/complaints/{due['complaint_id']}", headers=ret_intake.auth(Role.BACK_OFFICE)
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["ticket_number"] == due["ticket_number"]
    detail = await ret_intake.client.get(
        f"/v1/complaints/{due['complaint_id']}/detail", headers=ret_intake.auth(Role.BACK_OFFICE)
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["complainant"] is None
    assert detail.json()["description"] == retention.ERASED_TEXT
    assert not any(p in detail.text for p in PERSONAL)
    # One timeline entry and one audit row, without personal data.
    timeline = await ret_intake.pool.fetch(
        "SELECT * FROM complaint_timeline WHERE complaint_id = $1 ORDER BY sequence", cid
    )
    assert [(t["to_step"], t["reason"]) for t in timeline] == [
        ("closed", None),
        ("closed", "personal_data_erased"),
    ]
    assert timeline[-1]["details"]["label"] == "personal data erased (retention)"
    audit = await ret_intake.pool.fetch(
        "SELECT * FROM audit_log WHERE complaint_id = $1 AND action = 'personal_data_erased'", cid
    )
    assert [(a["actor"], a["detail"]) for a in audit] == [
        ("system", f"retention: ended more than {RETENTION_DAYS} days ago")
    ]
    assert "attachments" in audit[0]["fields"]
    # The metric and the log line (no personal data in it).
    metrics = await ret_intake.client.get("/metrics")
    assert 'slrt_intake_personal_data_erased_total{trigger="retention"}' in metrics.text
    lines = [r for r in caplog.records if r.getMessage() == "personal data erased"]
    assert any(getattr(r, "complaint_id", None) == due["complaint_id"] for r in lines)
    assert not any(p in caplog.text for p in PERSONAL)

    # The open complaint (for years) and the recently closed one keep everything.
    for kept in (open_old, closed_recently):
        row = await _row(ret_intake, kept["complaint_id"])
        assert row["personal_data_erased_at"] is None
        assert (row["phone"], row["email"]) == ("081234567890", "siti@example.id")
        assert row["complainant"]["name"] == "Siti Aminah"
        assert _files(tmp_path / "attachments", kept["complaint_id"])


def _erase(intake: Intake, complaint_id: str, role: Role, area: str = "3204", **body: Any) -> Any:
    return intake.client.post(
        f"/v1/complaints/{complaint_id}/erase-personal-data",
        json=body or {"reason": "permintaan tertulis no. 12/2026 (NIK 3204054107850003)"},
        headers=intake.auth(role, area),
    )


async def test_an_administrator_erases_an_ended_complaint_on_request_once(
    ret_intake: Intake, tmp_path: Path
) -> None:
    body = await _submitted(ret_intake)
    cid = body["complaint_id"]

    not_admin = await _erase(ret_intake, cid, Role.BACK_OFFICE)
    assert not_admin.status_code == 403, not_admin.text
    other_area = await _erase(ret_intake, cid, Role.ADMINISTRATOR, "3273")
    assert other_area.status_code == 404, other_area.text
    no_reason = await _erase(ret_intake, cid, Role.ADMINISTRATOR, reason=" ")
    assert no_reason.status_code == 422, no_reason.text
    assert no_reason.headers["content-type"].startswith("application/problem+json")
    assert no_reason.json()["errors"][0]["field"].endswith("reason")
    still_open = await _erase(ret_intake, cid, Role.ADMINISTRATOR)
    assert still_open.status_code == 409, still_open.text
    assert still_open.json()["type"].endswith("/complaint-open")
    assert "still open" in still_open.json()["detail"]
    assert (await _row(ret_intake, cid))["phone"] == "081234567890"

    await _move(ret_intake, body, 1, ComplaintStep.WITHDRAWN, datetime.now(UTC))
    first = await _erase(ret_intake, cid, Role.ADMINISTRATOR)
    assert first.status_code == 200, first.text
    assert first.json()["already_erased"] is False
    assert first.json()["attachments_deleted"] == 1
    assert _files(tmp_path / "attachments", cid) == []
    row = await _row(ret_intake, cid)
    assert (row["complainant"], row["phone"], row["email"]) == (None, None, None)

    again = await _erase(ret_intake, cid, Role.ADMINISTRATOR)
    assert again.status_code == 200, again.text
    assert again.json()["already_erased"] is True
    assert again.json()["erased_at"] == first.json()["erased_at"]
    audit = await ret_intake.pool.fetch(
        "SELECT * FROM audit_log WHERE complaint_id = $1 AND action = 'personal_data_erased'",
        uuid.UUID(cid),
    )
    assert [(a["actor"], a["actor_role"]) for a in audit] == [
        ("administrator-3204", "administrator")
    ]
    assert audit[0]["detail"].startswith("data subject request: permintaan tertulis no. 12/2026")
    assert "3204054107850003" not in audit[0]["detail"]
    redeemed = await _redeem(ret_intake, cid)
    assert (redeemed.json()["phone"], redeemed.json()["email"]) == (None, None)
    # No new personal data comes in after the erasure.
    late = await ret_intake.client.post(
        f"/v1/complaints/{cid}/attachments",
        content=jpeg_with_gps(),
        headers={**ret_intake.auth(Role.FRONT_OFFICE), "Content-Type": "image/jpeg"},
    )
    assert late.status_code == 409, late.text
    assert late.json()["type"].endswith("/personal-data-erased")
    assert _files(tmp_path / "attachments", cid) == []

    # Reopened after the erasure: the workflow's next transition keeps its place in the
    # timeline; intake's entry moves after it.
    reopened = transition(uuid.UUID(cid), body["ticket_number"], 2, ComplaintStep.BACK_OFFICE)
    await ret_intake.publish(reopened, subject=cid)
    await at_step(ret_intake, cid, "back_office")
    timeline = await ret_intake.pool.fetch(
        "SELECT to_step, reason FROM complaint_timeline WHERE complaint_id = $1 ORDER BY sequence",
        uuid.UUID(cid),
    )
    assert [(t["to_step"], t["reason"]) for t in timeline] == [
        ("withdrawn", None),
        ("back_office", None),
        ("withdrawn", "personal_data_erased"),
    ]


async def test_the_running_service_process_sweeps_with_its_settings_and_logs_no_personal_data(
    intake_topics: None,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    secrets_dir: Path,
    tmp_path: Path,
) -> None:
    (secrets_dir / "attachment-keys").write_text(PayloadKeys.generate("ret-proc-1"))
    store = tmp_path / "process-attachments"
    dsn = connections.postgres_dsn.get_secret_value()
    env = {
        "SLRT_POSTGRES_DSN": dsn,
        "SLRT_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        "SLRT_TEMPORAL_ADDRESS": connections.temporal_address,
        "SLRT_TEMPORAL_NAMESPACE": connections.temporal_namespace,
        "SLRT_AUTH_ISSUER": ISSUER,
        "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
        "SLRT_SECRETS_DIR": str(secrets_dir),
        "SLRT_LOG_LEVEL": "DEBUG",
        "SLRT_INTAKE_ATTACHMENT_DIR": str(store),
        # The same period as the other tests here: whichever sweep erases a complaint of theirs
        # (they share the schema) erases it alike.
        "SLRT_INTAKE_PERSONAL_DATA_RETENTION_DAYS": str(RETENTION_DAYS),
        "SLRT_INTAKE_PERSONAL_DATA_RETENTION_SWEEP_SECONDS": "0.2",
    }
    token = issuer.token("fo-1", [Role.FRONT_OFFICE], "3204")
    headers = {"Authorization": f"Bearer {token}"}
    with service_process("intake", env, tmp_path) as url:
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            accepted = await client.post("/v1/complaints", json=walk_in())
            assert accepted.status_code == 202, accepted.text
            body = accepted.json()
            upload = await client.post(
                f"/v1/complaints/{body['complaint_id']}/attachments",
                content=jpeg_with_gps(),
                headers={"Content-Type": "image/jpeg"},
            )
            assert upload.status_code == 201, upload.text
        assert _files(store, body["complaint_id"])
        cid = uuid.UUID(body["complaint_id"])
        closed = transition(
            cid, body["ticket_number"], 1, ComplaintStep.CLOSED, outcome=Outcome.RESOLVED_LOCALLY
        ).model_copy(update={"at": datetime.now(UTC) - timedelta(days=RETENTION_DAYS + 1)})
        async with EventProducer(connections, "/slrt/test") as producer:
            await producer.publish(closed, subject=str(cid))
        conn = await asyncpg.connect(dsn)
        try:

            async def erased() -> bool:
                return bool(
                    await conn.fetchval(
                        "SELECT personal_data_erased_at IS NOT NULL FROM intake.complaints "
                        "WHERE id = $1",
                        cid,
                    )
                )

            await until(erased)
            row = await conn.fetchrow(
                "SELECT complainant, phone, description FROM intake.complaints WHERE id = $1", cid
            )
        finally:
            await conn.close()
    assert row is not None
    assert (row["complainant"], row["phone"], row["description"]) == (
        None,
        None,
        retention.ERASED_TEXT,
    )
    assert _files(store, body["complaint_id"]) == []
    log = (tmp_path / "intake.log").read_text()
    assert "personal data erased" in log
    assert "retention sweep erased personal data" in log
    for value in PERSONAL:
        assert value not in log
