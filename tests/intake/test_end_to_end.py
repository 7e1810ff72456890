"""End to end through the intake API on the real stack with the real complaint workflow (run by
the routing service in-process): submit → registry check → back office refers → manager
approves → referred → signed callback accepted → facilitator feedback → tracking shows closed.
The test plays the registry and the notifier on Kafka, as those services would."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
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


async def test_a_complaint_from_submission_to_closed(
    intake: Intake, routing: None, kafka_bootstrap: str
) -> None:
    await catalog_holds(intake, PKH_BY_WEBHOOK)  # intake refuses a program it does not hold
    submitted = await intake.submit(
        walk_in(
            category="implementation",
            program_code="PKH",
            description="Bantuan PKH tahap 3 belum diterima.",
        ),
        key="e2e-submit",
    )
    assert submitted.status_code == 202, submitted.text
    complaint = submitted.json()
    cid = complaint["complaint_id"]

    await registry_answers(intake, kafka_bootstrap, cid, ["PKH"])

    async def act(
        path: str, role: Role, body: dict[str, Any], area: str = "3204"
    ) -> httpx.Response:
        headers = {**intake.auth(role, area), "Idempotency-Key": f"e2e-{path}"}
        return await intake.client.post(f"/v1/complaints/{cid}/{path}", json=body, headers=headers)

    async def act_until_ready(path: str, role: Role, body: dict[str, Any]) -> httpx.Response:
        # The routing plan is prepared by an activity just after the step is entered.
        async def attempt() -> httpx.Response | None:
            response = await act(path, role, body)
            return None if response.status_code == 422 else response

        return await until(attempt, timeout=30)

    # A manager cannot act at the back-office step: 409 naming it.
    early = await act("manager-decision", Role.MANAGER, {"decision": "approve"})
    assert early.status_code == 409, early.text
    assert early.json()["current_step"] == "back_office"

    referred = await act_until_ready(
        "back-office-action", Role.BACK_OFFICE, {"kind": "refer", "destination_program": "PKH"}
    )
    assert referred.status_code == 200, referred.text
    approved = await act("manager-decision", Role.MANAGER, {"decision": "approve"})
    assert approved.status_code == 200, approved.text
    status = await at_step(intake, cid, "referred")
    referral_id = status["referral_id"]
    assert referral_id is not None

    # The notifier delivers the referral.
    delivery = NotificationRequested.model_validate(
        await requested(
            kafka_bootstrap,
            Topic.NOTIFICATION_REQUESTS,
            cid,
            # The referral's delivery, not the household's registration message beside it.
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

    # The program manager's system answers on the signed callback.
    body = json.dumps({"decision": "accepted", "note": "Akan dibayarkan bulan depan"})
    now = datetime.now(UTC)
    answered = await intake.client.post(
        f"/v1/referrals/{referral_id}/callback",
        content=body,
        headers={
            "webhook-id": "msg_e2e",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(WEBHOOK_KEY).sign("msg_e2e", now, body),
            "content-type": "application/json",
        },
    )
    assert answered.status_code == 200, answered.text
    await at_step(intake, cid, "feedback")

    told = await act(
        "feedback",
        Role.FACILITATOR,
        {
            "household_told": True,
            "visited_on": date.today().isoformat(),
            "household_response": "satisfied",
        },
        area=VILLAGE,
    )
    assert told.status_code == 200, told.text
    await at_step(intake, cid, "closed")

    tracked = await intake.client.post(
        "/v1/tracking", json={"ticket_number": complaint["ticket_number"], "verifier": "7890"}
    )
    assert tracked.status_code == 200
    view = tracked.json()
    assert view["status"] == "closed"
    assert view["outcome"] == "referral_accepted"
    steps = [s["step"] for s in view["steps"]]
    assert steps[0] == "received"
    assert steps[-1] == "closed"
    for step in ("back_office", "manager_approval", "referred", "feedback"):
        assert step in steps
    read = await intake.client.get(f"/v1/complaints/{cid}", headers=intake.auth(Role.MANAGER))
    timeline = read.json()["timeline"]
    assert [t["to_step"] for t in timeline][-1] == "closed"
    assert any(t["actor"] == "back_office-3204" for t in timeline)
