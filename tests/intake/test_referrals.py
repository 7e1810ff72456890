"""Program managers' answers: Standard Webhooks callbacks (valid, wrong secret, stale, replayed)
and the signed, expiring answer link (valid, expired, tampered), each publishing one
referral.answered through the outbox."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from slrt import answer_links
from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.events import ProgramCatalogEntry, ReferralAnswered
from slrt.contracts.vocabulary import Category, ProgramChannel
from tests.support.intake import (
    ANSWER_LINK_KEY,
    OTHER_WEBHOOK_KEY,
    WEBHOOK_KEY,
    Intake,
    catalog_holds,
    projected,
    transition,
    walk_in,
)

PKH = ProgramCatalogEntry(
    code="PKH",
    name="Program Keluarga Harapan",
    level="national",
    owner_agency="Direktorat Jaminan Sosial Keluarga",
    channel=ProgramChannel.DIRECT,
    categories=[Category.IMPLEMENTATION],
    sla_working_days=10,
    callback_url="https://pkh.example/slrt",
    webhook_secret_ref="pkh-callbacks",
    version=1,
)


async def _referred(intake: Intake, step: ComplaintStep = ComplaintStep.REFERRED) -> dict[str, str]:
    await catalog_holds(intake, PKH)  # intake refuses a program its copy does not hold
    response = await intake.submit(
        walk_in(
            category="implementation",
            program_code="PKH",
            description="Bantuan PKH tahap 3 belum diterima.",
        )
    )
    cid = uuid.UUID(response.json()["complaint_id"])
    ticket = response.json()["ticket_number"]
    referral = uuid.uuid4()
    # As the workflow does: the referral transition names the referral in its details.
    referred = transition(
        cid,
        ticket,
        1,
        ComplaintStep.REFERRED,
        category=Category.IMPLEMENTATION,
        program_code="PKH",
        referral_destination="PKH",
        step_due="2026-12-15",
    )
    referred = referred.model_copy(update={"details": {"referral_id": str(referral)}})
    await intake.publish(referred, str(cid))
    last = 1
    if step is not ComplaintStep.REFERRED:
        # A later transition that does not repeat the referral id keeps it.
        await intake.publish(
            transition(
                cid,
                ticket,
                2,
                step,
                category=Category.IMPLEMENTATION,
                program_code="PKH",
                referral_destination="PKH",
            ),
            str(cid),
        )
        last = 2
    await projected(intake, cid, last)
    return {"complaint_id": str(cid), "referral_id": str(referral), "ticket": ticket}


def _signed(
    body: Mapping[str, object],
    key: str = WEBHOOK_KEY,
    *,
    msg_id: str | None = None,
    at: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(body)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(key).sign(msg_id, at, payload)
    return payload.encode(), {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


async def _events(intake: Intake) -> list[ReferralAnswered]:
    rows = await intake.pool.fetch(
        "SELECT envelope FROM outbox WHERE topic = 'slrt.referral.answers' ORDER BY id"
    )
    return [ReferralAnswered.model_validate(r["envelope"]["data"]) for r in rows]


async def test_a_signed_callback_is_accepted_once(intake: Intake) -> None:
    ref = await _referred(intake)
    url = f"/v1/referrals/{ref['referral_id']}/callback"
    content, headers = _signed({"decision": "accepted", "note": "Akan dibayarkan"}, msg_id="msg_1")
    response = await intake.client.post(url, content=content, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "answer_id": "msg_1",
        "referral_id": ref["referral_id"],
        "decision": "accepted",
        "replayed": False,
    }
    replay = await intake.client.post(url, content=content, headers=headers)
    assert replay.status_code == 200
    assert replay.json()["replayed"] is True
    events = await _events(intake)
    assert len(events) == 1
    assert events[0].answer_id == "msg_1"
    assert str(events[0].complaint_id) == ref["complaint_id"]
    assert events[0].decision == "accepted"
    envelope = await intake.pool.fetchval(
        "SELECT envelope FROM outbox WHERE topic = 'slrt.referral.answers'"
    )
    assert envelope["subject"] == ref["complaint_id"]


@pytest.mark.parametrize("case", ["wrong_secret", "stale", "future", "tampered", "unsigned"])
async def test_a_callback_not_signed_by_the_destination_now_is_401(
    intake: Intake, case: str
) -> None:
    ref = await _referred(intake)
    body = {"decision": "rejected"}
    if case == "wrong_secret":
        content, headers = _signed(body, OTHER_WEBHOOK_KEY)
    elif case == "stale":
        content, headers = _signed(body, at=datetime.now(UTC) - timedelta(minutes=6))
    elif case == "future":
        content, headers = _signed(body, at=datetime.now(UTC) + timedelta(minutes=6))
    elif case == "tampered":
        _, headers = _signed(body)
        content = json.dumps({"decision": "accepted"}).encode()
    else:
        content, headers = (
            json.dumps(body).encode(),
            {
                "webhook-id": "msg_x",
                "webhook-timestamp": str(int(time.time())),
                "webhook-signature": "v1,AAAA",
                "content-type": "application/json",
            },
        )
    response = await intake.client.post(
        f"/v1/referrals/{ref['referral_id']}/callback", content=content, headers=headers
    )
    assert response.status_code == 401, response.text
    assert response.json()["type"].endswith("/bad-signature")
    assert await _events(intake) == []


async def test_a_callback_for_an_unknown_referral_is_404(intake: Intake) -> None:
    content, headers = _signed({"decision": "accepted"})
    response = await intake.client.post(
        f"/v1/referrals/{uuid.uuid4()}/callback", content=content, headers=headers
    )
    assert response.status_code == 404


async def test_a_callback_after_the_referral_closed_is_409(intake: Intake) -> None:
    ref = await _referred(intake, ComplaintStep.CLOSED)
    content, headers = _signed({"decision": "accepted"})
    response = await intake.client.post(
        f"/v1/referrals/{ref['referral_id']}/callback", content=content, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["current_step"] == "closed"
    assert response.json()["type"].endswith("/referral-closed")
    assert (response.json()["referral_status"], response.json()["recorded_answer"]) == (
        "closed",
        None,
    )


def _link(
    ref: dict[str, str],
    *,
    program: str = "PKH",
    valid_for: timedelta = timedelta(days=3),
    now: datetime | None = None,
) -> str:
    return answer_links.sign(
        ANSWER_LINK_KEY,
        referral_id=uuid.UUID(ref["referral_id"]),
        complaint_id=uuid.UUID(ref["complaint_id"]),
        program=program,
        valid_for=valid_for,
        now=now,
    )


async def test_the_answer_link_shows_the_referral_and_records_the_answer(intake: Intake) -> None:
    ref = await _referred(intake)
    token = _link(ref)
    page = await intake.client.get(f"/v1/answer/{token}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert ref["ticket"] in page.text
    assert "Program Keluarga Harapan" in page.text
    assert "Bantuan PKH tahap 3" in page.text
    assert "Cileunyi Kulon" in page.text
    for personal in ("Siti Aminah", "3204054107850003", "081234567890"):
        assert personal not in page.text
    form = {
        "decision": "under_review",
        "note": "Dicek ke bank penyalur",
        "expected_date": "2026-12-20",
    }
    answered = await intake.client.post(f"/v1/answer/{token}", data=form)
    assert answered.status_code == 200, answered.text
    assert "tercatat" in answered.text
    again = await intake.client.post(f"/v1/answer/{token}", data=form)
    assert "sudah tercatat" in again.text
    events = await _events(intake)
    assert len(events) == 1
    assert events[0].decision == "under_review"
    assert events[0].expected_date is not None
    assert events[0].expected_date.isoformat() == "2026-12-20"


async def test_an_expired_link_is_410_and_a_tampered_one_404(intake: Intake) -> None:
    ref = await _referred(intake)
    expired = _link(ref, valid_for=timedelta(hours=1), now=datetime.now(UTC) - timedelta(hours=2))
    response = await intake.client.get(f"/v1/answer/{expired}")
    assert response.status_code == 410
    assert "kedaluwarsa" in response.text
    posted = await intake.client.post(f"/v1/answer/{expired}", data={"decision": "accepted"})
    assert posted.status_code == 410
    token = _link(ref)
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    assert (await intake.client.get(f"/v1/answer/{tampered}")).status_code == 404
    other_program = _link(ref, program="BPNT")
    assert (await intake.client.get(f"/v1/answer/{other_program}")).status_code == 404
    assert await _events(intake) == []


async def test_an_incomplete_form_is_422(intake: Intake) -> None:
    ref = await _referred(intake)
    response = await intake.client.post(f"/v1/answer/{_link(ref)}", data={"note": "?"})
    assert response.status_code == 422
    assert await _events(intake) == []


async def test_a_program_manager_answers_with_a_token(intake: Intake) -> None:
    ref = await _referred(intake)
    url = f"/v1/referrals/{ref['referral_id']}/answer"
    body = {"decision": "not_responsible", "suggested_destination": "BPNT"}
    other = intake.auth(Role.PROGRAM_MANAGER, "", programs=["BPNT"])
    assert (await intake.client.post(url, json=body, headers=other)).status_code == 404
    pkh = {**intake.auth(Role.PROGRAM_MANAGER, "", programs=["PKH"]), "Idempotency-Key": "a1"}
    response = await intake.client.post(url, json=body, headers=pkh)
    assert response.status_code == 200, response.text
    assert (await intake.client.post(url, json=body, headers=pkh)).json()["replayed"] is True
    events = await _events(intake)
    assert [e.decision for e in events] == ["not_responsible"]
    assert events[0].suggested_destination == "BPNT"


async def test_program_managers_read_referrals_to_their_programs_only(intake: Intake) -> None:
    ref = await _referred(intake)
    closed = await _referred(intake, ComplaintStep.CLOSED)
    pkh = intake.auth(Role.PROGRAM_MANAGER, "", programs=["PKH"])
    waiting = await intake.client.get("/v1/referrals", headers=pkh)
    assert waiting.status_code == 200, waiting.text
    assert [r["referral_id"] for r in waiting.json()["items"]] == [ref["referral_id"]]
    assert waiting.json()["items"][0]["answer_due"] == "2026-12-15"
    everything = await intake.client.get("/v1/referrals?waiting=false", headers=pkh)
    assert {r["referral_id"] for r in everything.json()["items"]} == {
        ref["referral_id"],
        closed["referral_id"],
    }
    first = (await intake.client.get("/v1/referrals?waiting=false&limit=1", headers=pkh)).json()
    assert first["next_cursor"] is not None
    rest = await intake.client.get(
        f"/v1/referrals?waiting=false&limit=1&cursor={first['next_cursor']}", headers=pkh
    )
    assert rest.status_code == 200, rest.text
    assert {first["items"][0]["referral_id"], rest.json()["items"][0]["referral_id"]} == {
        ref["referral_id"],
        closed["referral_id"],
    }
    assert rest.json()["next_cursor"] is None
    one = await intake.client.get(f"/v1/referrals/{ref['referral_id']}", headers=pkh)
    assert one.status_code == 200
    assert one.json()["description"] == "Bantuan PKH tahap 3 belum diterima."
    # Their own referral: who brought it, as recorded (audited; tests/intake/test_staff_reads.py)
    assert one.json()["complainant"]["name"] == "Siti Aminah"
    assert "Siti" not in waiting.text  # the list discloses no identity
    bpnt = intake.auth(Role.PROGRAM_MANAGER, "", programs=["BPNT"])
    assert (await intake.client.get("/v1/referrals", headers=bpnt)).json()["items"] == []
    hidden = await intake.client.get(f"/v1/referrals/{ref['referral_id']}", headers=bpnt)
    assert hidden.status_code == 404
    staff = await intake.client.get("/v1/referrals", headers=intake.auth(Role.BACK_OFFICE))
    assert staff.status_code == 403


async def test_a_callback_without_signature_headers_is_401(intake: Intake) -> None:
    ref = await _referred(intake)
    url = f"/v1/referrals/{ref['referral_id']}/callback"
    content, headers = _signed({"decision": "accepted"})
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        partial = {k: v for k, v in headers.items() if k != missing}
        response = await intake.client.post(url, content=content, headers=partial)
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await _events(intake) == []


async def test_the_same_webhook_id_with_another_signed_answer_is_409(intake: Intake) -> None:
    ref = await _referred(intake)
    url = f"/v1/referrals/{ref['referral_id']}/callback"
    first = {"decision": "under_review", "expected_date": "2026-12-20"}
    content, headers = _signed(first, msg_id="msg_same")
    assert (await intake.client.post(url, content=content, headers=headers)).status_code == 200
    replay = await intake.client.post(url, content=content, headers=headers)
    assert replay.status_code == 200
    assert replay.json()["replayed"] is True
    other, other_headers = _signed({"decision": "rejected"}, msg_id="msg_same")
    response = await intake.client.post(url, content=other, headers=other_headers)
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert response.json()["errors"][0]["field"] == "webhook-id"
    assert [e.decision.value for e in await _events(intake)] == ["under_review"]
