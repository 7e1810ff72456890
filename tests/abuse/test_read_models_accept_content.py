"""A read model accepts every event the workflow can emit: a lifecycle event whose free text
holds what PostgreSQL cannot store (NUL, an unpaired surrogate) is applied, not dead-lettered,
by intake's status projection and by the dashboard — through the real broker."""

from __future__ import annotations

import uuid

import asyncpg

from services.dashboard.settings import DashboardSettings
from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.kafka import EventProducer
from tests.support.dashboard import consume, publish
from tests.support.intake import Intake, projected, transition, walk_in

UNSTORABLE = "ditarik\x00 atas permintaan \ud800 keluarga"


async def test_intake_projects_a_withdrawal_whose_reason_holds_nul(intake: Intake) -> None:
    submitted = await intake.submit(walk_in())
    assert submitted.status_code == 202, submitted.text
    cid = uuid.UUID(submitted.json()["complaint_id"])
    ticket = submitted.json()["ticket_number"]
    withdrawn = transition(
        cid,
        ticket,
        1,
        ComplaintStep.WITHDRAWN,
        from_step="received",
        actor="fo-1",
        actor_role=Role.FRONT_OFFICE.value,
    ).model_copy(update={"reason": UNSTORABLE, "details": {"note\x00": UNSTORABLE}})
    await intake.publish(withdrawn, str(cid))
    await projected(intake, cid, 1)

    status = await intake.client.get(f"/v1/complaints/{cid}", headers=intake.auth(Role.BACK_OFFICE))
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "withdrawn"
    reasons = [entry.get("reason") for entry in status.json()["timeline"]]
    assert "ditarik\ufffd atas permintaan \ufffd keluarga" in reasons
    tracked = await intake.client.post(
        "/v1/tracking",
        json={"ticket_number": ticket, "verifier": submitted.json()["tracking_code"]},
    )
    assert tracked.json()["status"] == "withdrawn"


async def test_the_dashboard_counts_a_withdrawal_whose_reason_holds_nul(
    dashboard_settings: DashboardSettings,
    dashboard_pool: asyncpg.Pool,
    producer: EventProducer,
) -> None:
    cid = uuid.uuid4()
    subject = str(cid)
    received = transition(cid, "3204-26-000001", 1, ComplaintStep.RECEIVED)
    withdrawn = transition(
        cid,
        "3204-26-000001",
        2,
        ComplaintStep.WITHDRAWN,
        from_step="received",
        actor="fo-1",
        actor_role=Role.FRONT_OFFICE.value,
    ).model_copy(update={"reason": UNSTORABLE, "details": {"note": UNSTORABLE}})
    await publish(producer, dashboard_settings.lifecycle_topic, received, subject)
    await publish(producer, dashboard_settings.lifecycle_topic, withdrawn, subject)
    consumer = await consume(dashboard_settings, dashboard_pool, producer, expect=2)
    assert (consumer.handled, consumer.dead_lettered) == (2, 0)
    steps = await dashboard_pool.fetch(
        "SELECT to_step FROM transitions WHERE complaint_id = $1 ORDER BY sequence", cid
    )
    assert [r["to_step"] for r in steps] == ["received", "withdrawn"]
