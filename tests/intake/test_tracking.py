"""Public tracking: by ticket and verifier, Bahasa Indonesia by default, no personal data,
the same 404 for a wrong verifier as for no ticket, rate-limited per client; the household's
rating and appeal go to the workflow."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.temporal import complaint_workflow_id
from tests.intake.standin import StandInComplaint
from tests.support.intake import Intake, projected, transition, walk_in

PERSONAL = ("Siti Aminah", "3204054107850003", "081234567890", "Sukamaju")
TASK_QUEUE = f"intake-tracking-{uuid.uuid4().hex[:6]}"


async def _closed(intake: Intake) -> dict[str, Any]:
    response = await intake.submit(walk_in())
    body: dict[str, Any] = response.json()
    cid = uuid.UUID(body["complaint_id"])
    ticket = body["ticket_number"]
    steps = [
        ComplaintStep.REGISTERED,
        ComplaintStep.REGISTRY_CHECK,
        ComplaintStep.BACK_OFFICE,
        ComplaintStep.FEEDBACK,
    ]
    for sequence, step in enumerate(steps, start=1):
        await intake.publish(
            transition(cid, ticket, sequence, step, step_due="2026-12-01"), str(cid)
        )
    await intake.publish(
        transition(cid, ticket, 5, ComplaintStep.CLOSED, outcome="resolved_locally"), str(cid)
    )
    await projected(intake, cid, 5)
    return body


async def _open(intake: Intake) -> dict[str, Any]:
    body: dict[str, Any] = (await intake.submit(walk_in())).json()
    cid = uuid.UUID(body["complaint_id"])
    await intake.publish(
        transition(cid, body["ticket_number"], 1, ComplaintStep.BACK_OFFICE, step_due="2026-12-04"),
        str(cid),
    )
    await projected(intake, cid, 1)
    return body


async def test_tracking_shows_steps_due_date_and_outcome_in_bahasa(intake: Intake) -> None:
    body = await _open(intake)
    response = await intake.client.post(
        "/v1/tracking", json={"ticket_number": body["ticket_number"], "verifier": "7890"}
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["language"] == "id"
    assert view["status_label"] == "Dalam proses"
    assert view["current_step_label"] == "Ditangani petugas layanan"
    assert view["next_step_due"] == "2026-12-04"
    assert [s["step"] for s in view["steps"]] == ["received", "back_office"]
    for personal in PERSONAL:
        assert personal not in response.text


async def test_a_closed_complaint_shows_its_outcome_in_english_on_request(intake: Intake) -> None:
    body = await _closed(intake)
    response = await intake.client.post(
        "/v1/tracking",
        json={"ticket_number": body["ticket_number"], "verifier": body["tracking_code"]},
        headers={"Accept-Language": "en-US,en;q=0.9"},
    )
    view = response.json()
    assert view["language"] == "en"
    assert view["status"] == "closed"
    assert view["outcome"] == "resolved_locally"
    assert view["outcome_label"] == "Resolved by SLRT"
    assert view["next_step_due"] is None
    assert view["can_respond"] is True
    assert [s["step"] for s in view["steps"]] == [
        "received",
        "registered",
        "registry_check",
        "back_office",
        "feedback",
        "closed",
    ]
    bahasa = await intake.client.post(
        "/v1/tracking?lang=id",
        json={"ticket_number": body["ticket_number"], "verifier": body["tracking_code"]},
        headers={"Accept-Language": "en"},
    )
    assert bahasa.json()["outcome_label"] == "Diselesaikan oleh SLRT"


async def test_a_wrong_verifier_looks_like_no_ticket(intake: Intake) -> None:
    body = await _open(intake)
    wrong = await intake.client.post(
        "/v1/tracking", json={"ticket_number": body["ticket_number"], "verifier": "0000"}
    )
    none = await intake.client.post(
        "/v1/tracking", json={"ticket_number": "3204-26-999999", "verifier": "7890"}
    )
    assert wrong.status_code == none.status_code == 404
    assert wrong.json() == {**none.json(), "instance": wrong.json()["instance"]}


async def test_tracking_is_rate_limited_per_client(intake: Intake) -> None:
    body = await _open(intake)
    pinned = datetime(2026, 11, 27, 10, 30, 15, tzinfo=UTC)
    intake.runtime.clock = lambda: pinned  # all requests in one window, whatever the time
    intake.runtime.settings.tracking_limit_per_ticket_per_minute = 100  # the client's limit here
    asked = {"ticket_number": body["ticket_number"], "verifier": "0000"}
    codes = [(await intake.client.post("/v1/tracking", json=asked)).status_code for _ in range(5)]
    assert codes == [404] * 5
    limited = await intake.client.post("/v1/tracking", json={**asked, "verifier": "7890"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake.app, client=("10.1.2.3", 4000)),
        base_url="http://intake.test",
    ) as elsewhere:
        other = await elsewhere.post("/v1/tracking", json={**asked, "verifier": "7890"})
    assert other.status_code == 200
    buckets = await intake.pool.fetch("SELECT bucket FROM rate_windows")
    assert len(buckets) == 3  # two clients, one ticket
    assert not any(
        "127.0.0.1" in b["bucket"]
        or "10.1.2.3" in b["bucket"]
        or body["ticket_number"] in b["bucket"]
        for b in buckets
    )


async def test_rotating_x_forwarded_for_does_not_walk_past_the_limit(intake: Intake) -> None:
    body = await _open(intake)
    pinned = datetime(2026, 11, 27, 10, 30, 15, tzinfo=UTC)
    intake.runtime.clock = lambda: pinned
    intake.runtime.settings.tracking_limit_per_ticket_per_minute = 100
    asked = {"ticket_number": body["ticket_number"], "verifier": "0000"}
    codes = [
        (
            await intake.client.post(
                "/v1/tracking", json=asked, headers={"X-Forwarded-For": f"198.51.100.{i}"}
            )
        ).status_code
        for i in range(6)
    ]
    # The connection (127.0.0.1) is no trusted proxy: the header is ignored.
    assert codes == [404] * 5 + [429]


async def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(intake: Intake) -> None:
    body = await _open(intake)
    pinned = datetime(2026, 11, 27, 10, 30, 15, tzinfo=UTC)
    intake.runtime.clock = lambda: pinned
    intake.runtime.settings.tracking_limit_per_ticket_per_minute = 100
    intake.runtime.settings.trusted_proxies = [ipaddress.ip_network("127.0.0.0/8")]
    asked = {"ticket_number": body["ticket_number"], "verifier": "0000"}

    async def lookup(client: str) -> int:
        headers = {"X-Forwarded-For": f"6.6.6.6, {client}"}  # the client's claim, then ours
        return (await intake.client.post("/v1/tracking", json=asked, headers=headers)).status_code

    assert [await lookup("198.51.100.1") for _ in range(6)] == [404] * 5 + [429]
    assert await lookup("198.51.100.2") == 404  # another household behind the same ingress


async def test_tracking_is_rate_limited_per_ticket_from_any_address(intake: Intake) -> None:
    body = await _open(intake)
    pinned = datetime(2026, 11, 27, 10, 30, 15, tzinfo=UTC)
    intake.runtime.clock = lambda: pinned
    intake.runtime.settings.tracking_limit_per_ticket_per_minute = 3
    asked = {"ticket_number": body["ticket_number"], "verifier": "0000"}
    codes = []
    for i in range(4):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=intake.app, client=(f"10.9.0.{i}", 4000)),
            base_url="http://intake.test",
        ) as client:
            codes.append((await client.post("/v1/tracking", json=asked)).status_code)
    assert codes == [404, 404, 404, 429]


async def test_the_tracking_page(intake: Intake) -> None:
    body = await _open(intake)
    form = await intake.client.get("/track")
    assert form.status_code == 200
    assert "Lacak pengaduan SLRT" in form.text
    english = await intake.client.get("/track?lang=en")
    assert "Track an SLRT complaint" in english.text
    result = await intake.client.post(
        "/track", data={"ticket_number": body["ticket_number"], "verifier": "7890"}
    )
    assert result.status_code == 200
    assert "Ditangani petugas layanan" in result.text
    assert "2026-12-04" in result.text
    for personal in PERSONAL:
        assert personal not in result.text
    wrong = await intake.client.post(
        "/track", data={"ticket_number": body["ticket_number"], "verifier": "0000"}
    )
    assert wrong.status_code == 404
    assert "tidak ditemukan" in wrong.text


@pytest.fixture
async def worker(temporal_client: Client) -> AsyncIterator[None]:
    async with Worker(temporal_client, task_queue=TASK_QUEUE, workflows=[StandInComplaint]):
        yield


async def test_the_household_rates_and_appeals_through_the_workflow(
    intake: Intake, temporal_client: Client, worker: None
) -> None:
    body = await _closed(intake)
    handle = await temporal_client.start_workflow(
        StandInComplaint.run,
        "closed",
        id=complaint_workflow_id(body["complaint_id"]),
        task_queue=TASK_QUEUE,
    )
    asked = {
        "ticket_number": body["ticket_number"],
        "verifier": "7890",
        "response": "not_satisfied",
        "appeal": True,
        "note": "Belum ada perubahan",
    }
    response = await intake.client.post(
        "/v1/tracking/response", json=asked, headers={"Idempotency-Key": "appeal-1"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"]["step"] == "back_office"
    assert response.json()["result"]["actor"] == f"household:{body['ticket_number']}"
    second = await intake.client.post(
        "/v1/tracking/response", json=asked, headers={"Idempotency-Key": "appeal-2"}
    )
    assert second.status_code == 409
    assert second.json()["current_step"] == "back_office"
    assert len(await handle.query("actions")) == 1
    wrong = await intake.client.post("/v1/tracking/response", json={**asked, "verifier": "0000"})
    assert wrong.status_code == 404
