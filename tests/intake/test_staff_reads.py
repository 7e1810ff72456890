"""Staff read what they decide, on the real stack: the case file (description, complainant,
timeline details, referral history) for each acting role in its area, the facilitator's visit
feed, the program manager's referral read, an audit row per read, and the data manager's
audit API. The status read stays free of personal data and unaudited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from slrt import answer_links
from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.events import ComplaintTransitioned
from slrt.contracts.vocabulary import Category
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from tests.support.harness import service_process
from tests.support.intake import (
    ANSWER_LINK_KEY,
    ISSUER,
    VILLAGE,
    Intake,
    known_programs,
    projected,
    transition,
    walk_in,
)
from tests.support.polling import until

PERSONAL = ("Siti Aminah", "3204054107850003", "081234567890", "Sukamaju")


async def _submitted(intake: Intake, **overrides: Any) -> tuple[uuid.UUID, str]:
    response = await intake.submit(walk_in(**overrides))
    assert response.status_code == 202, response.text
    body = response.json()
    return uuid.UUID(body["complaint_id"]), body["ticket_number"]


def _step(
    cid: uuid.UUID,
    ticket: str,
    seq: int,
    step: ComplaintStep,
    from_step: str | None,
    *,
    reason: str | None = None,
    actor: str = "system",
    role: str = "system",
    code: str | None = None,
    details: dict[str, Any] | None = None,
    **snapshot: Any,
) -> ComplaintTransitioned:
    made = transition(cid, ticket, seq, step, from_step=from_step, **snapshot)
    return made.model_copy(
        update={
            "reason": reason,
            "actor": actor,
            "actor_role": role,
            "decision_code": code,
            "details": details or {},
        }
    )


async def _answered_referral(intake: Intake) -> tuple[uuid.UUID, uuid.UUID]:
    """A complaint referred to PKH, whose program manager reviewed then accepted with notes;
    it is at feedback. Returns (complaint id, referral id)."""
    cid, ticket = await _submitted(intake)
    rid = uuid.uuid4()
    steps = [
        _step(cid, ticket, 1, ComplaintStep.BACK_OFFICE, "registry_check", reason="registered"),
        _step(
            cid,
            ticket,
            2,
            ComplaintStep.MANAGER_APPROVAL,
            "back_office",
            reason="referral_proposed",
            actor="bo-1",
            role="back_office",
            details={"destination": "PKH", "channel": "direct"},
            referral_destination="PKH",
        ),
        _step(
            cid,
            ticket,
            3,
            ComplaintStep.REFERRED,
            "manager_approval",
            reason="referral_approved",
            actor="mgr-1",
            role="manager",
            details={"destination": "PKH", "channel": "direct", "referral_id": str(rid)},
            referral_destination="PKH",
        ),
        _step(
            cid,
            ticket,
            4,
            ComplaintStep.UNDER_REVIEW,
            "referred",
            reason="under_review",
            actor="program:PKH",
            role="program_manager",
            code="under_review",
            details={"destination": "PKH", "note": "Sedang dicek", "expected_date": "2026-12-01"},
            referral_destination="PKH",
        ),
        _step(
            cid,
            ticket,
            5,
            ComplaintStep.FEEDBACK,
            "under_review",
            reason="referral_accepted",
            actor="program:PKH",
            role="program_manager",
            code="accepted",
            details={"destination": "PKH", "note": "Akan dibayarkan bulan depan"},
            holder=Role.FACILITATOR,
        ),
    ]
    for event in steps:
        await intake.publish(event, str(cid))
    await projected(intake, cid, 5)
    await until(lambda: _status_step(intake, cid, "feedback"))
    return cid, rid


async def _status_step(intake: Intake, cid: uuid.UUID, step: str) -> bool:
    found = await intake.pool.fetchval(
        "SELECT step FROM complaint_status WHERE complaint_id = $1", cid
    )
    return bool(found == step)


async def _audit_rows(intake: Intake, cid: uuid.UUID) -> list[asyncpg.Record]:
    return await intake.pool.fetch(
        "SELECT * FROM audit_log WHERE complaint_id = $1 ORDER BY id", cid
    )


ACTING = [
    (Role.FRONT_OFFICE, "3204"),
    (Role.FACILITATOR, VILLAGE),
    (Role.SUPERVISOR, "320405"),
    (Role.BACK_OFFICE, "3204"),
    (Role.MANAGER, "3204"),
]


async def test_each_acting_role_reads_the_case_file_and_each_read_is_audited(
    intake: Intake,
) -> None:
    cid, rid = await _answered_referral(intake)
    for role, area in ACTING:
        response = await intake.client.get(
            f"/v1/complaints/{cid}/detail", headers=intake.auth(role, area)
        )
        assert response.status_code == 200, (role, response.text)
        body = response.json()
        assert body["description"] == "Keluarga kami tidak terdaftar sebagai penerima PKH."
        assert body["complainant"] == {
            "name": "Siti Aminah",
            "nik": "3204054107850003",
            "kk_number": None,
            "phone": "081234567890",
            "email": None,
            "sex": "female",
            "birth_date": None,
            "address": "Kp. Sukamaju RT 01 RW 02",
            "village_code": VILLAGE,
        }
        assert body["anonymous"] is False
        assert body["step"] == "feedback"
        assert "attachments" not in body  # intake stores none: no field pretends otherwise
    body = response.json()
    assert [t["sequence"] for t in body["timeline"]] == [1, 2, 3, 4, 5]
    assert body["timeline"][4]["details"]["note"] == "Akan dibayarkan bulan depan"
    [referral] = body["referrals"]
    assert referral["referral_id"] == str(rid)
    assert referral["destination"] == "PKH"
    assert referral["approved_by"] == "mgr-1"
    assert [(a["decision"], a["note"]) for a in referral["answers"]] == [
        ("under_review", "Sedang dicek"),
        ("accepted", "Akan dibayarkan bulan depan"),
    ]
    assert referral["ended"] == "accepted"

    rows = await _audit_rows(intake, cid)
    assert [(r["actor"], r["actor_role"]) for r in rows] == [
        (f"{role.value}-{area}", role.value) for role, area in ACTING
    ]
    for row in rows:
        assert row["action"] == "complaint_detail"
        assert row["step"] == "feedback"  # why: the step they act on
        assert row["place_code"] == VILLAGE
        assert list(row["fields"]) == ["description", "complainant", "timeline.details"]
        assert abs(row["at"] - datetime.now(UTC)) < timedelta(minutes=5)


async def test_outside_the_area_is_404_and_a_role_that_does_not_act_is_403(
    intake: Intake,
) -> None:
    cid, _ = await _answered_referral(intake)
    url = f"/v1/complaints/{cid}/detail"

    async def status(headers: dict[str, str]) -> int:
        return (await intake.client.get(url, headers=headers)).status_code

    assert (await intake.client.get(url)).status_code == 401
    assert await status(intake.auth(Role.BACK_OFFICE, "3273")) == 404
    assert await status(intake.auth(Role.FACILITATOR, "3204052002")) == 404
    assert await status(intake.auth(Role.SUPERVISOR, "320406")) == 404
    missing = await intake.client.get(
        f"/v1/complaints/{uuid.uuid4()}/detail", headers=intake.auth(Role.BACK_OFFICE)
    )
    assert missing.status_code == 404
    assert await status(intake.auth(Role.VIEWER)) == 403
    assert await status(intake.auth(Role.DATA_MANAGER)) == 403
    assert await status(intake.auth(Role.ADMINISTRATOR)) == 403
    # A program manager reads their referral through GET /v1/referrals/{id}, not here.
    assert await status(intake.auth(Role.PROGRAM_MANAGER, "", programs=["PKH"])) == 404
    assert await _audit_rows(intake, cid) == []  # refused reads disclose nothing


async def test_an_anonymous_report_has_no_complainant(intake: Intake) -> None:
    await known_programs(intake, "PKH")
    cid, _ = await _submitted(
        intake,
        anonymous=True,
        complainant=None,
        category="implementation",
        program_code="PKH",
        description="Dana bantuan dipotong oleh oknum pendamping.",
    )
    response = await intake.client.get(
        f"/v1/complaints/{cid}/detail", headers=intake.auth(Role.BACK_OFFICE)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["complainant"] is None
    assert body["anonymous"] is True
    assert body["description"] == "Dana bantuan dipotong oleh oknum pendamping."
    assert body["referrals"] == []
    [row] = await _audit_rows(intake, cid)
    assert list(row["fields"]) == ["description", "timeline.details"]
    assert row["step"] == "received"


async def test_the_status_read_stays_without_personal_data_and_unaudited(intake: Intake) -> None:
    cid, _ = await _answered_referral(intake)
    response = await intake.client.get(
        f"/v1/complaints/{cid}", headers=intake.auth(Role.BACK_OFFICE)
    )
    assert response.status_code == 200
    for value in PERSONAL:
        assert value not in response.text
    assert "details" not in response.json()["timeline"][0]
    listed = await intake.client.get("/v1/complaints", headers=intake.auth(Role.BACK_OFFICE))
    assert listed.status_code == 200
    assert await _audit_rows(intake, cid) == []


async def test_the_facilitator_feed_says_whom_to_visit_and_why(intake: Intake) -> None:
    told, _ = await _answered_referral(intake)
    ask, ask_ticket = await _submitted(
        intake,
        complainant={"name": "Budi Santoso", "address": "Kp. Cibodas RT 03"},
    )
    await intake.publish(
        _step(
            ask,
            ask_ticket,
            1,
            ComplaintStep.AWAITING_INFORMATION,
            "back_office",
            reason="information_requested",
            actor="bo-1",
            role="back_office",
            details={"question": "Berapa jumlah anggota keluarga?"},
            holder=Role.FACILITATOR,
        ),
        str(ask),
    )
    await projected(intake, ask, 1)
    await until(lambda: _status_step(intake, ask, "awaiting_information"))
    facilitator = intake.auth(Role.FACILITATOR, VILLAGE)
    response = await intake.client.get("/v1/tasks", headers=facilitator)
    assert response.status_code == 200, response.text
    items = {t["complaint_id"]: t for t in response.json()["items"]}
    assert set(items) == {str(told), str(ask)}
    visit = items[str(told)]
    assert visit["household"] == {"name": "Siti Aminah", "address": "Kp. Sukamaju RT 01 RW 02"}
    assert visit["village_name"]
    assert visit["task"] == {
        "do": "tell_outcome",
        "question": None,
        "outcome": "referral_accepted",
        "program": "PKH",
        "message": "Akan dibayarkan bulan depan",
    }
    asking = items[str(ask)]
    assert asking["household"] == {"name": "Budi Santoso", "address": "Kp. Cibodas RT 03"}
    assert asking["task"]["do"] == "ask_question"
    assert asking["task"]["question"] == "Berapa jumlah anggota keluarga?"
    assert "081234567890" not in response.text  # the feed carries name and address only

    for cid, step in ((told, "feedback"), (ask, "awaiting_information")):
        [row] = await _audit_rows(intake, cid)
        assert (row["actor"], row["actor_role"], row["action"], row["step"]) == (
            f"facilitator-{VILLAGE}",
            "facilitator",
            "task_feed",
            step,
        )
        assert list(row["fields"]) == ["complainant.name", "complainant.address", "task"]

    elsewhere = await intake.client.get(
        "/v1/tasks", headers=intake.auth(Role.FACILITATOR, "3204052002")
    )
    assert elsewhere.json()["items"] == []
    not_facilitator = await intake.client.get("/v1/tasks", headers=intake.auth(Role.BACK_OFFICE))
    assert not_facilitator.status_code == 403
    assert len(await _audit_rows(intake, told)) == 1  # the empty and refused reads wrote none


async def test_a_program_manager_reads_their_referral_with_the_complainant(
    intake: Intake,
) -> None:
    cid, ticket = await _submitted(intake)
    rid = uuid.uuid4()
    await intake.publish(
        _step(
            cid,
            ticket,
            1,
            ComplaintStep.REFERRED,
            "manager_approval",
            reason="referral_approved",
            details={"destination": "PKH", "referral_id": str(rid)},
            referral_destination="PKH",
            category=Category.MEMBERSHIP,
        ),
        str(cid),
    )
    await until(lambda: _status_step(intake, cid, "referred"))
    pm = intake.auth(Role.PROGRAM_MANAGER, "", subject="pm-pkh", programs=["PKH"])
    response = await intake.client.get(f"/v1/referrals/{rid}", headers=pm)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["description"] == "Keluarga kami tidak terdaftar sebagai penerima PKH."
    assert body["complainant"]["nik"] == "3204054107850003"
    other = intake.auth(Role.PROGRAM_MANAGER, "", programs=["BPNT"])
    assert (await intake.client.get(f"/v1/referrals/{rid}", headers=other)).status_code == 404
    [row] = await _audit_rows(intake, cid)
    assert (row["actor"], row["actor_role"], row["action"], row["step"]) == (
        "pm-pkh",
        "program_manager",
        "referral_read",
        "referred",
    )
    assert list(row["fields"]) == ["description", "complainant"]
    listed = await intake.client.get("/v1/referrals", headers=pm)
    assert listed.status_code == 200
    assert "Siti" not in listed.text  # the list discloses no identity and writes no row
    assert len(await _audit_rows(intake, cid)) == 1

    # The answer link's page shows the text (no identity) to whoever holds the link: audited.
    token = answer_links.sign(
        ANSWER_LINK_KEY, referral_id=rid, complaint_id=cid, program="PKH", valid_for=timedelta(1)
    )
    page = await intake.client.get(f"/v1/answer/{token}")
    assert page.status_code == 200
    assert "tidak terdaftar" in page.text
    assert "Siti" not in page.text
    opened = (await _audit_rows(intake, cid))[-1]
    assert (opened["actor"], opened["actor_role"], opened["action"], opened["step"]) == (
        "program:PKH",
        "program_manager",
        "answer_page",
        "referred",
    )
    assert list(opened["fields"]) == ["description"]


async def test_the_data_manager_reads_the_audit_log_with_filters_and_pages(
    intake: Intake,
) -> None:
    first, _ = await _submitted(intake)
    second, _ = await _submitted(intake)
    for reader in ("bo-a", "bo-b"):
        for cid in (first, second):
            response = await intake.client.get(
                f"/v1/complaints/{cid}/detail",
                headers=intake.auth(Role.BACK_OFFICE, subject=reader),
            )
            assert response.status_code == 200
    dm = intake.auth(Role.DATA_MANAGER, "3204")

    async def audit(query: str = "") -> dict[str, Any]:
        response = await intake.client.get(f"/v1/audit?{query}", headers=dm)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    mine = {str(first), str(second)}
    everything = [e for e in (await audit("limit=100"))["items"] if e["complaint_id"] in mine]
    assert len(everything) == 4
    newest = everything[0]
    assert newest["actor"] == "bo-b"
    assert newest["complaint_id"] == str(second)
    assert newest["actor_role"] == "back_office"
    assert newest["action"] == "complaint_detail"
    assert newest["step"] == "received"
    assert newest["fields"] == ["description", "complainant", "timeline.details"]
    assert newest["place_code"] == VILLAGE

    by_complaint = (await audit(f"complaint_id={first}"))["items"]
    assert [e["actor"] for e in by_complaint] == ["bo-b", "bo-a"]
    by_actor = (await audit(f"actor=bo-a&complaint_id={second}"))["items"]
    assert [e["complaint_id"] for e in by_actor] == [str(second)]

    pages: list[str] = []
    cursor: str | None = None
    while True:
        query = f"complaint_id={first}&limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = await audit(query)
        pages.extend(e["actor"] for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == ["bo-b", "bo-a"]

    at = datetime.fromisoformat(newest["at"])
    later = (at + timedelta(hours=1)).isoformat()
    earlier = (at - timedelta(hours=1)).isoformat()
    assert (await audit(f"complaint_id={first}&from={later.replace('+', '%2B')}"))["items"] == []
    assert len((await audit(f"complaint_id={first}&to={later.replace('+', '%2B')}"))["items"]) == 2
    assert (await audit(f"complaint_id={first}&to={earlier.replace('+', '%2B')}"))["items"] == []

    elsewhere = await intake.client.get(
        f"/v1/audit?complaint_id={first}", headers=intake.auth(Role.DATA_MANAGER, "3273")
    )
    assert elsewhere.json()["items"] == []  # another district's data manager sees none of it
    bad = await intake.client.get("/v1/audit?cursor=nope", headers=dm)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    "role", [Role.BACK_OFFICE, Role.MANAGER, Role.SUPERVISOR, Role.VIEWER, Role.ADMINISTRATOR]
)
async def test_the_audit_log_is_refused_to_others(intake: Intake, role: Role) -> None:
    response = await intake.client.get("/v1/audit", headers=intake.auth(role))
    assert response.status_code == 403


async def test_reads_of_personal_data_put_none_in_the_log(
    intake_topics: None,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    secrets_dir: Path,
    tmp_path: Path,
) -> None:
    """The real service process at DEBUG: the case file, the feed, the referral read and the
    audit API log nothing personal."""
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
    }

    def auth(role: Role, area: str, programs: list[str] | None = None) -> dict[str, str]:
        token = issuer.token(f"{role.value}-1", [role], area, programs)
        return {"Authorization": f"Bearer {token}"}

    with service_process("intake", env, tmp_path) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            accepted = await client.post(
                "/v1/complaints", json=walk_in(), headers=auth(Role.FRONT_OFFICE, "3204")
            )
            assert accepted.status_code == 202, accepted.text
            cid = uuid.UUID(accepted.json()["complaint_id"])
            ticket = accepted.json()["ticket_number"]
            rid = uuid.uuid4()
            async with EventProducer(connections, "/slrt/test") as producer:
                await producer.publish(
                    _step(
                        cid,
                        ticket,
                        1,
                        ComplaintStep.REFERRED,
                        "manager_approval",
                        reason="referral_approved",
                        details={"destination": "PKH", "referral_id": str(rid)},
                        referral_destination="PKH",
                    ),
                    subject=str(cid),
                )
                await producer.publish(
                    _step(
                        cid,
                        ticket,
                        2,
                        ComplaintStep.FEEDBACK,
                        "referred",
                        reason="referral_accepted",
                        actor="program:PKH",
                        role="program_manager",
                        code="accepted",
                        details={"destination": "PKH", "note": "Akan dibayarkan"},
                    ),
                    subject=str(cid),
                )
            conn = await asyncpg.connect(dsn)
            try:

                async def at_feedback() -> bool:
                    step = await conn.fetchval(
                        "SELECT step FROM intake.complaint_status WHERE complaint_id = $1", cid
                    )
                    return bool(step == "feedback")

                await until(at_feedback)
            finally:
                await conn.close()
            detail = await client.get(
                f"/v1/complaints/{cid}/detail", headers=auth(Role.BACK_OFFICE, "3204")
            )
            feed = await client.get("/v1/tasks", headers=auth(Role.FACILITATOR, VILLAGE))
            audit = await client.get("/v1/audit", headers=auth(Role.DATA_MANAGER, "3204"))
            hidden = await client.get(
                f"/v1/complaints/{cid}/detail", headers=auth(Role.BACK_OFFICE, "3273")
            )
        assert (detail.status_code, feed.status_code, audit.status_code) == (200, 200, 200)
        assert hidden.status_code == 404
        assert "Siti Aminah" in detail.text
        assert "Siti Aminah" in feed.text
        for value in PERSONAL:
            assert value not in hidden.text
            assert value not in audit.text
    log = (tmp_path / "intake.log").read_text()
    assert '"level": "DEBUG"' in log
    assert "lifecycle event projected" in log
    for value in PERSONAL:
        assert value not in log
