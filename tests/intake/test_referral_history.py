"""A referral keeps its record after it is answered (intake on the real Postgres and Kafka):
readable by its program manager and the staff of its area, with its destination, the manager's
approval note and the answer; a late or second answer by callback, token or answer link is
refused with 409 naming the answer on record."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from slrt import answer_links
from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.vocabulary import Category
from tests.intake.test_referrals import PKH, _events, _signed
from tests.support.intake import (
    ANSWER_LINK_KEY,
    Intake,
    catalog_holds,
    projected,
    transition,
    walk_in,
)

S = ComplaintStep
NOTE = "Disetujui; keluarga lansia tanpa penghasilan, mohon diprioritaskan."


async def _referred(intake: Intake) -> dict[str, Any]:
    """A complaint referred to PKH as the live workflow records it: the approval transition
    names the referral, its destination and the manager's note in its details."""
    await catalog_holds(intake, PKH)  # intake refuses a program its copy does not hold
    response = await intake.submit(
        walk_in(category="implementation", program_code="PKH", description="Bantuan PKH telat.")
    )
    assert response.status_code == 202, response.text
    cid = uuid.UUID(response.json()["complaint_id"])
    ticket = response.json()["ticket_number"]
    referral = uuid.uuid4()
    referred = transition(
        cid,
        ticket,
        1,
        S.REFERRED,
        from_step=S.MANAGER_APPROVAL.value,
        actor="user-manager-2",
        actor_role="manager",
        category=Category.IMPLEMENTATION,
        program_code="PKH",
        referral_destination="PKH",
        referral_id=referral,
        step_due="2026-12-15",
    ).model_copy(
        update={
            "reason": "referral_approved",
            "details": {
                "destination": "PKH",
                "channel": "direct",
                "referral_id": str(referral),
                "note": NOTE,
            },
        }
    )
    await intake.publish(referred, str(cid))
    await projected(intake, cid, 1)
    return {"complaint_id": cid, "ticket": ticket, "referral_id": referral}


async def _answered(intake: Intake, ref: dict[str, Any]) -> None:
    """The workflow applied the program's answer: accepted, the complaint moves to feedback
    (its snapshot no longer names a referral or a destination)."""
    answered = transition(
        ref["complaint_id"],
        ref["ticket"],
        2,
        S.FEEDBACK,
        from_step=S.REFERRED.value,
        actor="program:PKH",
        actor_role="program_manager",
        category=Category.IMPLEMENTATION,
        program_code="PKH",
    ).model_copy(
        update={
            "reason": "referral_accepted",
            "decision_code": "accepted",
            "details": {
                "destination": "PKH",
                "referral_id": str(ref["referral_id"]),
                "note": "Dibayarkan bulan depan",
            },
        }
    )
    await intake.publish(answered, str(ref["complaint_id"]))
    await projected(intake, ref["complaint_id"], 2)


async def test_an_answered_referral_stays_readable_by_its_program_and_the_areas_staff(
    intake: Intake,
) -> None:
    ref = await _referred(intake)
    url = f"/v1/referrals/{ref['referral_id']}"
    pkh = intake.auth(Role.PROGRAM_MANAGER, "", programs=["PKH"])
    waiting = (await intake.client.get(url, headers=pkh)).json()
    assert (waiting["status"], waiting["answer_due"], waiting["answer"]) == (
        "referred",
        "2026-12-15",
        None,
    )
    assert waiting["approval_note"] == NOTE

    await _answered(intake, ref)
    for headers in (pkh, intake.auth(Role.BACK_OFFICE, "3204"), intake.auth(Role.MANAGER, "32")):
        response = await intake.client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "accepted"
        assert body["program"] == "PKH"
        assert body["step"] == "feedback"
        assert body["approval_note"] == NOTE
        assert body["answer"]["decision"] == "accepted"
        assert body["answer"]["note"] == "Dibayarkan bulan depan"
        assert body["answer"]["answered_at"] is not None
        assert body["closed_at"] is not None
        assert body["answer_due"] is None
        assert body["description"] == "Bantuan PKH telat."
        # The destination's program manager sees whom it is about (audited); staff read the
        # complainant in the case file, not here.
        assert ("Siti" in response.text) is (headers is pkh)
    # Outside the area, or another program: it does not exist; a role without either: 404 too.
    for headers in (
        intake.auth(Role.BACK_OFFICE, "3273"),
        intake.auth(Role.PROGRAM_MANAGER, "", programs=["BPNT"]),
    ):
        assert (await intake.client.get(url, headers=headers)).status_code == 404
    assert (
        await intake.client.get(url, headers=intake.auth(Role.ADMINISTRATOR, "3204"))
    ).status_code == 403

    # The program manager's list: answered ones with waiting=false only.
    listed = await intake.client.get("/v1/referrals", headers=pkh)
    assert listed.json()["items"] == []
    everything = (await intake.client.get("/v1/referrals?waiting=false", headers=pkh)).json()
    (item,) = everything["items"]
    assert (item["referral_id"], item["status"], item["step"]) == (
        str(ref["referral_id"]),
        "accepted",
        "feedback",
    )


async def test_a_late_answer_on_every_channel_gets_409_with_the_recorded_answer(
    intake: Intake,
) -> None:
    ref = await _referred(intake)
    await _answered(intake, ref)
    referral_id = str(ref["referral_id"])

    content, headers = _signed({"decision": "rejected", "note": "terlambat"})
    late = await intake.client.post(
        f"/v1/referrals/{referral_id}/callback", content=content, headers=headers
    )
    assert late.status_code == 409, late.text
    assert late.headers["content-type"].startswith("application/problem+json")
    problem = late.json()
    assert problem["type"].endswith("/referral-answered")
    assert problem["referral_status"] == "accepted"
    assert problem["recorded_answer"]["decision"] == "accepted"
    assert problem["recorded_answer"]["note"] == "Dibayarkan bulan depan"
    assert "accepted" in problem["detail"]

    token_answer = await intake.client.post(
        f"/v1/referrals/{referral_id}/answer",
        json={"decision": "rejected"},
        headers={
            **intake.auth(Role.PROGRAM_MANAGER, "", programs=["PKH"]),
            "Idempotency-Key": "late-1",
        },
    )
    assert token_answer.status_code == 409
    assert token_answer.json()["recorded_answer"]["decision"] == "accepted"

    link = answer_links.sign(
        ANSWER_LINK_KEY,
        referral_id=ref["referral_id"],
        complaint_id=ref["complaint_id"],
        program="PKH",
        valid_for=timedelta(days=3),
    )
    page = await intake.client.get(f"/v1/answer/{link}")
    assert page.status_code == 200
    assert NOTE in page.text  # the manager's note reaches the destination
    assert "sudah dijawab" in page.text
    assert 'name="decision"' not in page.text  # no form once answered
    posted = await intake.client.post(f"/v1/answer/{link}", data={"decision": "rejected"})
    assert posted.status_code == 409
    assert "sudah dijawab" in posted.text
    assert "Dibayarkan bulan depan" in posted.text
    assert await _events(intake) == []  # nothing was recorded for any late answer


async def test_a_second_final_answer_before_the_workflow_confirms_the_first_is_409(
    intake: Intake,
) -> None:
    ref = await _referred(intake)
    url = f"/v1/referrals/{ref['referral_id']}/callback"
    link = answer_links.sign(
        ANSWER_LINK_KEY,
        referral_id=ref["referral_id"],
        complaint_id=ref["complaint_id"],
        program="PKH",
        valid_for=timedelta(days=3),
    )
    page = await intake.client.get(f"/v1/answer/{link}")
    assert NOTE in page.text
    assert 'name="decision"' in page.text

    content, headers = _signed({"decision": "under_review", "expected_date": "2026-12-20"})
    assert (await intake.client.post(url, content=content, headers=headers)).status_code == 200
    content, first = _signed({"decision": "accepted", "note": "Akan dibayar"}, msg_id="msg_a")
    assert (await intake.client.post(url, content=content, headers=first)).status_code == 200
    second_content, second = _signed({"decision": "rejected"}, msg_id="msg_b")
    refused = await intake.client.post(url, content=second_content, headers=second)
    assert refused.status_code == 409, refused.text
    assert refused.json()["recorded_answer"]["decision"] == "accepted"
    assert refused.json()["recorded_answer"]["note"] == "Akan dibayar"
    assert refused.json()["referral_status"] == "answered"
    # The first answer's retry is still answered as a replay.
    again = await intake.client.post(url, content=content, headers=first)
    assert (again.status_code, again.json()["replayed"]) == (200, True)
    assert [e.decision for e in await _events(intake)] == ["under_review", "accepted"]
