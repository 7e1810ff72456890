"""Staff read what they decide, end to end on the real stack with the real complaint workflow
(run by the routing service in-process): a walk-in is submitted, back office refers it, the
manager approves, the program manager's system answers on the signed callback with a note —
then back office reads the description, the complainant and the timeline with the referral's
answer; the facilitator's feed says whom to visit and what to tell; the data manager sees both
reads in the audit log. The test plays the registry and the notifier on Kafka."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from slrt.auth.principal import Role
from slrt.contracts.events import (
    NotificationDelivered,
    NotificationRequested,
)
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import NotificationKind
from tests.support.intake import (
    PKH_BY_WEBHOOK,
    VILLAGE,
    WEBHOOK_KEY,
    Intake,
    at_step,
    catalog_holds,
    registry_answers,
    requested,
    walk_in,
)
from tests.support.polling import until

DESCRIPTION = "Bantuan PKH tahap 3 belum diterima sejak Agustus."
NOTE = "Akan dibayarkan bulan depan"


async def test_back_office_reads_the_complaint_and_the_referrals_answer(
    intake: Intake, routing: None, kafka_bootstrap: str
) -> None:
    await catalog_holds(intake, PKH_BY_WEBHOOK)  # intake refuses a program it does not hold
    submitted = await intake.submit(
        walk_in(category="implementation", program_code="PKH", description=DESCRIPTION),
        key="staff-read-e2e",
    )
    assert submitted.status_code == 202, submitted.text
    cid = submitted.json()["complaint_id"]

    await registry_answers(intake, kafka_bootstrap, cid, ["PKH"])

    async def act(path: str, role: Role, body: dict[str, Any]) -> httpx.Response:
        headers = {**intake.auth(role, subject=f"{role.value}-e2e"), "Idempotency-Key": path}
        return await intake.client.post(f"/v1/complaints/{cid}/{path}", json=body, headers=headers)

    async def refer() -> httpx.Response | None:
        # The routing plan is prepared by an activity just after the step is entered.
        response = await act(
            "back-office-action", Role.BACK_OFFICE, {"kind": "refer", "destination_program": "PKH"}
        )
        return None if response.status_code == 422 else response

    assert (await until(refer, timeout=30)).status_code == 200
    approved = await act("manager-decision", Role.MANAGER, {"decision": "approve"})
    assert approved.status_code == 200, approved.text
    referral_id = (await at_step(intake, cid, "referred"))["referral_id"]

    delivery = NotificationRequested.model_validate(
        await requested(
            kafka_bootstrap,
            Topic.NOTIFICATION_REQUESTS,
            cid,
            lambda h, v: (
                h["ce_type"] == NotificationRequested.event_type.encode()
                and v.get("kind") == NotificationKind.REFERRAL.value
            ),
        )
    )
    await intake.publish(
        NotificationDelivered(
            request_id=delivery.request_id,
            complaint_id=uuid.UUID(cid),
            channel="webhook",
            delivered_at=datetime.now(UTC),
        ),
        cid,
    )

    body = json.dumps({"decision": "accepted", "note": NOTE})
    now = datetime.now(UTC)
    answered = await intake.client.post(
        f"/v1/referrals/{referral_id}/callback",
        content=body,
        headers={
            "webhook-id": "msg_staff_read",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(WEBHOOK_KEY).sign("msg_staff_read", now, body),
            "content-type": "application/json",
        },
    )
    assert answered.status_code == 200, answered.text
    await at_step(intake, cid, "feedback")

    # Back office reads what it decides on: the text, who brought it, the referral's answer.
    read = await intake.client.get(
        f"/v1/complaints/{cid}/detail", headers=intake.auth(Role.BACK_OFFICE, subject="bo-reader")
    )
    assert read.status_code == 200, read.text
    case = read.json()
    assert case["description"] == DESCRIPTION
    assert case["complainant"]["name"] == "Siti Aminah"
    assert case["complainant"]["nik"] == "3204054107850003"
    assert case["complainant"]["phone"] == "081234567890"
    answer = [t for t in case["timeline"] if t["actor_role"] == "program_manager"]
    assert answer[-1]["to_step"] == "feedback"
    assert answer[-1]["decision_code"] == "accepted"
    assert answer[-1]["details"]["note"] == NOTE
    [referral] = case["referrals"]
    assert referral["referral_id"] == str(referral_id)
    assert referral["destination"] == "PKH"
    assert referral["approved_by"] == "manager-e2e"
    assert referral["delivered"] is True
    assert [(a["decision"], a["note"]) for a in referral["answers"]] == [("accepted", NOTE)]
    assert referral["ended"] == "accepted"

    # The village's facilitator is told whom to visit and what to tell.
    feed = await intake.client.get(
        "/v1/tasks", headers=intake.auth(Role.FACILITATOR, VILLAGE, subject="fac-reader")
    )
    [task] = [t for t in feed.json()["items"] if t["complaint_id"] == cid]
    assert task["household"] == {"name": "Siti Aminah", "address": "Kp. Sukamaju RT 01 RW 02"}
    assert task["task"]["do"] == "tell_outcome"
    assert task["task"]["outcome"] == "referral_accepted"
    assert task["task"]["message"] == NOTE

    # Both reads are in the data manager's audit log, with the step they were made at.
    audit = await intake.client.get(
        f"/v1/audit?complaint_id={cid}", headers=intake.auth(Role.DATA_MANAGER)
    )
    assert audit.status_code == 200, audit.text
    assert [(e["actor"], e["action"], e["step"]) for e in audit.json()["items"]] == [
        ("fac-reader", "task_feed", "feedback"),
        ("bo-reader", "complaint_detail", "feedback"),
    ]


async def test_the_supervisor_reviews_the_facilitators_corrected_text(
    intake: Intake, routing: None
) -> None:
    captured = await intake.submit(
        walk_in(channel="facilitator_visit", description="Anak tidak dapat PIP."),
        role=Role.FACILITATOR,
        area=VILLAGE,
        key="staff-read-capture",
    )
    assert captured.status_code == 202, captured.text
    cid = captured.json()["complaint_id"]
    await at_step(intake, cid, "supervisor_review")

    async def act(path: str, role: Role, area: str, body: dict[str, Any]) -> httpx.Response:
        headers = {**intake.auth(role, area, subject=f"{role.value}-e2e"), "Idempotency-Key": path}
        return await intake.client.post(f"/v1/complaints/{cid}/{path}", json=body, headers=headers)

    returned = await act(
        "supervisor-review",
        Role.SUPERVISOR,
        "320405",
        {"decision": "return_for_correction", "note": "Sebutkan sekolah dan kelasnya"},
    )
    assert returned.status_code == 200, returned.text
    await at_step(intake, cid, "returned_for_correction")
    corrected_text = "Anak kelas 4 SDN Sukamaju 1 tidak menerima PIP tahun ini."
    corrected = await act(
        "correction",
        Role.FACILITATOR,
        VILLAGE,
        {"description": corrected_text, "category": "program_need"},
    )
    assert corrected.status_code == 200, corrected.text
    await at_step(intake, cid, "supervisor_review")

    read = await intake.client.get(
        f"/v1/complaints/{cid}/detail", headers=intake.auth(Role.SUPERVISOR, "320405")
    )
    assert read.status_code == 200, read.text
    case = read.json()
    assert case["description"] == corrected_text
    assert case["submitted_description"] == "Anak tidak dapat PIP."
    assert case["corrected_at"] is not None
    assert case["category"] == "program_need"
    notes = [t["details"].get("note") for t in case["timeline"]]
    assert "Sebutkan sekolah dan kelasnya" in notes
