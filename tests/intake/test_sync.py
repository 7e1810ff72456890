"""Offline tablets' batch sync: per-item results, safe to resend the whole batch."""

from __future__ import annotations

import uuid
from typing import Any

from slrt.auth.principal import Role
from tests.support.intake import VILLAGE, Intake, known_programs, walk_in


def _item(**overrides: Any) -> dict[str, Any]:
    return {"client_id": str(uuid.uuid4()), **walk_in(channel="facilitator_visit"), **overrides}


async def test_a_batch_reports_each_item_and_a_resend_creates_nothing_new(intake: Intake) -> None:
    await known_programs(intake, "BPNT")
    good = _item()
    anonymous = _item(
        anonymous=True,
        complainant=None,
        category="implementation",
        program_code="BPNT",
        description="Beras bantuan berkutu.",
    )
    bad = _item(village_code="3204059999")
    headers = intake.auth(Role.FACILITATOR, VILLAGE, subject="fas-1")
    batch = {"items": [good, anonymous, bad]}
    first = await intake.client.post("/v1/sync/complaints", json=batch, headers=headers)
    assert first.status_code == 200, first.text
    result = first.json()
    assert (result["created"], result["replayed"], result["rejected"]) == (2, 0, 1)
    by_client = {i["client_id"]: i for i in result["items"]}
    assert by_client[good["client_id"]]["result"] == "created"
    assert by_client[bad["client_id"]]["result"] == "rejected"
    assert by_client[bad["client_id"]]["errors"][0]["rule"] == "known_village"
    assert by_client[good["client_id"]]["complaint"]["step"] == "received"

    again = await intake.client.post("/v1/sync/complaints", json=batch, headers=headers)
    replay = again.json()
    assert (replay["created"], replay["replayed"], replay["rejected"]) == (0, 2, 1)
    for item in (good, anonymous):
        before = by_client[item["client_id"]]["complaint"]
        after = next(i for i in replay["items"] if i["client_id"] == item["client_id"])
        assert after["complaint"]["ticket_number"] == before["ticket_number"]
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 2
    assert await intake.pool.fetchval("SELECT count(*) FROM outbox") == 2
    # Facilitator captures wait for the supervisor.
    holders = await intake.pool.fetch("SELECT holder_role FROM complaint_status")
    assert {h["holder_role"] for h in holders} == {"supervisor"}


async def test_a_changed_item_under_the_same_client_id_is_rejected(intake: Intake) -> None:
    item = _item()
    headers = intake.auth(Role.FACILITATOR, VILLAGE)
    await intake.client.post("/v1/sync/complaints", json={"items": [item]}, headers=headers)
    changed = {**item, "description": "Isi yang berbeda"}
    response = await intake.client.post(
        "/v1/sync/complaints", json={"items": [changed]}, headers=headers
    )
    assert response.json()["items"][0]["result"] == "rejected"
    assert response.json()["items"][0]["errors"][0]["rule"] == "idempotency-key-reused"
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 1


async def test_too_many_items_is_413_and_a_viewer_may_not_sync(intake: Intake) -> None:
    headers = intake.auth(Role.FACILITATOR, VILLAGE)
    too_many = {"items": [_item() for _ in range(intake.settings.max_batch_items + 1)]}
    response = await intake.client.post("/v1/sync/complaints", json=too_many, headers=headers)
    assert response.status_code == 413
    assert await intake.pool.fetchval("SELECT count(*) FROM complaints") == 0
    viewer = await intake.client.post(
        "/v1/sync/complaints", json={"items": [_item()]}, headers=intake.auth(Role.VIEWER)
    )
    assert viewer.status_code == 403
