"""Human actions forwarded as Temporal updates (real dev server, a stand-in workflow with the
same update names and refusals): accepted, 409 naming the step, 403 for the role, idempotent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from slrt.auth.policy import ALLOWED, Action
from slrt.auth.principal import Role
from slrt.contracts.temporal import complaint_workflow_id
from tests.intake.standin import StandInComplaint
from tests.support.intake import VILLAGE, Intake, walk_in

TASK_QUEUE = f"intake-standin-{uuid.uuid4().hex[:6]}"


@pytest.fixture
async def worker(temporal_client: Client) -> AsyncIterator[None]:
    async with Worker(temporal_client, task_queue=TASK_QUEUE, workflows=[StandInComplaint]):
        yield


async def _complaint_at(
    intake: Intake, temporal_client: Client, step: str
) -> tuple[uuid.UUID, WorkflowHandle[StandInComplaint, str]]:
    response = await intake.submit(walk_in())
    cid = uuid.UUID(response.json()["complaint_id"])
    handle = await temporal_client.start_workflow(
        StandInComplaint.run, step, id=complaint_workflow_id(str(cid)), task_queue=TASK_QUEUE
    )
    return cid, handle


async def test_a_back_office_action_reaches_the_workflow(
    intake: Intake, temporal_client: Client, worker: None
) -> None:
    cid, handle = await _complaint_at(intake, temporal_client, "back_office")
    headers = {**intake.auth(Role.BACK_OFFICE, subject="bo-7"), "Idempotency-Key": "act-1"}
    body = {"kind": "refer", "destination_program": "PKH"}
    response = await intake.client.post(
        f"/v1/complaints/{cid}/back-office-action", json=body, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {
        "from": "back_office",
        "step": "manager_approval",
        "actor": "bo-7",
    }
    # The same key again: the first result, and the workflow applied it once.
    again = await intake.client.post(
        f"/v1/complaints/{cid}/back-office-action", json=body, headers=headers
    )
    assert again.status_code == 200
    assert again.json()["result"] == response.json()["result"]
    applied = await handle.query("actions")
    assert applied == [{"update": "back_office_action", "request_id": "act-1"}]


async def test_a_key_stands_for_its_first_action_and_body_even_when_sent_twice_at_once(
    intake: Intake, temporal_client: Client, worker: None
) -> None:
    """The key's claim is one statement (``claim_key``): the same request sent twice at once
    passes both times (the workflow answers it once), another body or action under the key is
    409 naming the header, and neither reaches the workflow."""
    cid, handle = await _complaint_at(intake, temporal_client, "back_office")
    key = f"act-{uuid.uuid4().hex[:8]}"
    headers = {**intake.auth(Role.BACK_OFFICE, subject="bo-8"), "Idempotency-Key": key}
    body = {"kind": "refer", "destination_program": "PKH"}
    url = f"/v1/complaints/{cid}/back-office-action"
    first, second = await asyncio.gather(
        intake.client.post(url, json=body, headers=headers),
        intake.client.post(url, json=body, headers=headers),
    )
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert first.json()["result"] == second.json()["result"]
    other_body = await intake.client.post(
        url, json={"kind": "refer", "destination_program": "BPNT"}, headers=headers
    )
    manager = {**intake.auth(Role.MANAGER), "Idempotency-Key": key}
    other_action = await intake.client.post(
        f"/v1/complaints/{cid}/manager-decision", json={"decision": "approve"}, headers=manager
    )
    for refused in (other_body, other_action):
        assert refused.status_code == 409, refused.text
        assert refused.json()["type"].endswith("/idempotency-key-reused")
        assert refused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert await handle.query("actions") == [{"update": "back_office_action", "request_id": key}]


async def test_an_action_at_the_wrong_step_is_409_naming_the_step(
    intake: Intake, temporal_client: Client, worker: None
) -> None:
    cid, handle = await _complaint_at(intake, temporal_client, "referred")
    response = await intake.client.post(
        f"/v1/complaints/{cid}/manager-decision",
        json={"decision": "approve"},
        headers=intake.auth(Role.MANAGER),
    )
    assert response.status_code == 409, response.text
    assert response.json()["current_step"] == "referred"
    assert response.json()["type"].endswith("/wrong-step")
    assert await handle.query("actions") == []


async def test_a_role_the_workflow_refuses_is_403(
    intake: Intake, temporal_client: Client, worker: None
) -> None:
    cid, _ = await _complaint_at(intake, temporal_client, "back_office")
    response = await intake.client.post(
        f"/v1/complaints/{cid}/withdraw",
        json={"reason": "Keluarga sudah pindah"},
        headers=intake.auth(Role.FACILITATOR, VILLAGE),
    )
    assert response.status_code == 403, response.text
    assert "before review" in response.json()["detail"]


async def test_a_role_the_table_refuses_never_reaches_the_workflow(
    intake: Intake, temporal_client: Client, worker: None
) -> None:
    cid, handle = await _complaint_at(intake, temporal_client, "manager_approval")
    response = await intake.client.post(
        f"/v1/complaints/{cid}/manager-decision",
        json={"decision": "approve"},
        headers=intake.auth(Role.BACK_OFFICE),
    )
    assert response.status_code == 403
    assert await handle.query("actions") == []


async def test_every_action_endpoint_forwards_its_update(
    intake: Intake, temporal_client: Client, worker: None
) -> None:
    cases = [
        ("supervisor_review", "supervisor-review", Role.SUPERVISOR, {"decision": "approve"}),
        ("manager_approval", "manager-decision", Role.MANAGER, {"decision": "send_back"}),
        (
            "feedback",
            "feedback",
            Role.FACILITATOR,
            {"household_told": True, "visited_on": "2026-11-20", "household_response": "satisfied"},
        ),
        ("supervisor_review", "withdraw", Role.FRONT_OFFICE, {"reason": "Atas permintaan"}),
    ]
    for step, path, role, body in cases:
        cid, handle = await _complaint_at(intake, temporal_client, step)
        area = VILLAGE if role is Role.FACILITATOR else "3204"
        response = await intake.client.post(
            f"/v1/complaints/{cid}/{path}", json=body, headers=intake.auth(role, area)
        )
        assert response.status_code == 200, (path, response.text)
        assert len(await handle.query("actions")) == 1, path


async def test_an_action_before_the_workflow_exists_is_409(intake: Intake) -> None:
    response = await intake.submit(walk_in())
    cid = response.json()["complaint_id"]
    acted = await intake.client.post(
        f"/v1/complaints/{cid}/withdraw",
        json={"reason": "Atas permintaan"},
        headers=intake.auth(Role.FRONT_OFFICE),
    )
    assert acted.status_code == 409
    assert acted.json()["current_step"] == "received"


async def test_an_invalid_action_body_is_422_and_not_forwarded(intake: Intake) -> None:
    response = await intake.submit(walk_in())
    cid = response.json()["complaint_id"]
    acted = await intake.client.post(
        f"/v1/complaints/{cid}/back-office-action",
        json={"kind": "teleport"},
        headers=intake.auth(Role.BACK_OFFICE),
    )
    assert acted.status_code == 422
    assert acted.json()["errors"][0]["field"] == "kind"


ENDPOINTS: dict[str, tuple[Action, dict[str, object]]] = {
    "supervisor-review": (Action.SUPERVISOR_REVIEW, {"decision": "approve"}),
    "correction": (Action.COMPLAINT_CORRECT, {"description": "d", "category": "membership"}),
    "back-office-action": (Action.BACK_OFFICE_ACT, {"kind": "resolve", "answer": "a"}),
    "information": (Action.INFORMATION_RECEIVED, {"information": "i"}),
    "manager-decision": (Action.MANAGER_DECIDE, {"decision": "approve"}),
    "feedback": (Action.FACILITATOR_FEEDBACK, {"household_told": True, "visited_on": "2026-11-20"}),
    "withdraw": (Action.COMPLAINT_WITHDRAW, {"reason": "r"}),
}


async def test_the_authorisation_table_cell_by_cell(intake: Intake) -> None:
    """Every action endpoint × every role, inside and outside the area. Allowed callers pass
    the table and reach the workflow (none runs yet: 409); the rest get 403, or 404 outside
    their area."""
    response = await intake.submit(walk_in())
    cid = response.json()["complaint_id"]
    for path, (action, body) in ENDPOINTS.items():
        for role in Role:
            programs = ["PKH"] if role is Role.PROGRAM_MANAGER else None
            inside = intake.auth(role, "3204", programs=programs)
            got = await intake.client.post(
                f"/v1/complaints/{cid}/{path}", json=body, headers=inside
            )
            if role is Role.PROGRAM_MANAGER:
                expected = 404  # program managers see referrals to their programs only
            elif action in ALLOWED[role]:
                expected = 409
            else:
                expected = 403
            assert got.status_code == expected, (path, role, got.text)
            outside = intake.auth(role, "3273", programs=programs)
            hidden = await intake.client.post(
                f"/v1/complaints/{cid}/{path}", json=body, headers=outside
            )
            assert hidden.status_code == 404, (path, role, hidden.text)
