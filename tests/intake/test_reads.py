"""The status projection fed by lifecycle events, reads, lists with filters and cursors, the
tablets' task feed, and area scoping (no existence leak across districts)."""

from __future__ import annotations

import uuid
from typing import Any

from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep, RegistrySummary
from slrt.contracts.vocabulary import Category
from tests.support.intake import (
    OTHER_DISTRICT_VILLAGE,
    VILLAGE,
    Intake,
    known_programs,
    projected,
    transition,
    walk_in,
)


async def _submitted(intake: Intake, **overrides: Any) -> tuple[uuid.UUID, str]:
    area = "3273" if overrides.get("village_code") == OTHER_DISTRICT_VILLAGE else "3204"
    response = await intake.submit(walk_in(**overrides), area=area)
    assert response.status_code == 202, response.text
    body = response.json()
    return uuid.UUID(body["complaint_id"]), body["ticket_number"]


async def test_the_projection_keeps_the_highest_sequence_and_the_whole_timeline(
    intake: Intake,
) -> None:
    cid, ticket = await _submitted(intake)
    registered = transition(cid, ticket, 1, ComplaintStep.REGISTERED, from_step="received")
    back_office = transition(
        cid,
        ticket,
        2,
        ComplaintStep.BACK_OFFICE,
        from_step="registry_check",
        holder=Role.BACK_OFFICE,
        overdue=True,
        escalated=True,
        repeat_of=["3204-26-000009"],
        registry=RegistrySummary(found=True, welfare_decile=2, programs=["PKH"]),
        step_due="2026-12-04",
    )
    # Out of order and redelivered: the status must still end at sequence 2.
    await intake.publish(back_office, str(cid))
    await intake.publish(registered, str(cid))
    await intake.publish(registered, str(cid))
    await projected(intake, cid, 2)

    async def both() -> bool:
        n = await intake.pool.fetchval(
            "SELECT count(*) FROM complaint_timeline WHERE complaint_id = $1", cid
        )
        return bool(n == 2)

    from tests.support.polling import until

    await until(both)
    response = await intake.client.get(
        f"/v1/complaints/{cid}", headers=intake.auth(Role.BACK_OFFICE)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["step"] == "back_office"
    assert body["holder_role"] == "back_office"
    assert body["flags"] == {"repeat": True, "escalated": True, "overdue": True}
    assert body["registry"]["welfare_decile"] == 2
    assert body["step_due"] == "2026-12-04"
    assert [t["sequence"] for t in body["timeline"]] == [1, 2]
    assert "Siti" not in response.text


async def test_events_of_unknown_complaints_are_ignored(intake: Intake) -> None:
    stranger = uuid.uuid4()
    cid, ticket = await _submitted(intake)
    await intake.publish(
        transition(stranger, "3204-26-999999", 1, ComplaintStep.REGISTERED), str(stranger)
    )
    await intake.publish(transition(cid, ticket, 1, ComplaintStep.REGISTERED), str(cid))
    await projected(intake, cid, 1)
    assert (
        await intake.pool.fetchval(
            "SELECT count(*) FROM complaint_status WHERE complaint_id = $1", stranger
        )
        == 0
    )


async def test_a_back_office_user_of_3204_cannot_see_a_3273_complaint(intake: Intake) -> None:
    theirs, _ = await _submitted(
        intake,
        village_code=OTHER_DISTRICT_VILLAGE,
        complainant={"name": "Budi", "phone": "0812999988"},
    )
    mine, _ = await _submitted(intake)
    bo_3204 = intake.auth(Role.BACK_OFFICE, "3204")
    hidden = await intake.client.get(f"/v1/complaints/{theirs}", headers=bo_3204)
    missing = await intake.client.get(f"/v1/complaints/{uuid.uuid4()}", headers=bo_3204)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["title"] == missing.json()["title"]
    acting = await intake.client.post(
        f"/v1/complaints/{theirs}/back-office-action",
        json={"kind": "resolve", "answer": "Sudah ditangani"},
        headers=bo_3204,
    )
    assert acting.status_code == 404
    listed = await intake.client.get("/v1/complaints", headers=bo_3204)
    assert [c["complaint_id"] for c in listed.json()["items"]] == [str(mine)]
    asking_beyond = await intake.client.get("/v1/complaints?area=3273", headers=bo_3204)
    assert asking_beyond.json()["items"] == []
    national = await intake.client.get("/v1/complaints", headers=intake.auth(Role.MANAGER, ""))
    assert len(national.json()["items"]) == 2


async def test_who_may_read(intake: Intake) -> None:
    cid, _ = await _submitted(intake)
    url = f"/v1/complaints/{cid}"
    assert (await intake.client.get(url)).status_code == 401
    assert (await intake.client.get(url, headers=intake.auth(Role.VIEWER))).status_code == 403
    pm = intake.auth(Role.PROGRAM_MANAGER, "", programs=["PKH"])
    assert (await intake.client.get(url, headers=pm)).status_code == 404
    village = intake.auth(Role.FACILITATOR, VILLAGE)
    assert (await intake.client.get(url, headers=village)).status_code == 200
    other_village = intake.auth(Role.FACILITATOR, "3204052002")
    assert (await intake.client.get(url, headers=other_village)).status_code == 404


async def test_filters_and_cursor_pagination(intake: Intake) -> None:
    made = [await _submitted(intake) for _ in range(5)]
    await known_programs(intake, "PKH")
    impl, impl_ticket = await _submitted(
        intake,
        category="implementation",
        program_code="PKH",
    )
    await intake.publish(
        transition(
            impl,
            impl_ticket,
            1,
            ComplaintStep.CLOSED,
            category=Category.IMPLEMENTATION,
            program_code="PKH",
            overdue=True,
            outcome="resolved_locally",
        ),
        str(impl),
    )
    await projected(intake, impl, 1)
    manager = intake.auth(Role.MANAGER, "3204")
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = "/v1/complaints?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await intake.client.get(query, headers=manager)).json()
        seen.extend(c["complaint_id"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 6
    assert seen[0] == str(impl)  # newest first

    async def ids(query: str) -> list[str]:
        response = await intake.client.get(f"/v1/complaints?{query}", headers=manager)
        assert response.status_code == 200, response.text
        return [c["complaint_id"] for c in response.json()["items"]]

    assert await ids("status=closed") == [str(impl)]
    assert len(await ids("status=open")) == 5
    assert await ids("category=implementation") == [str(impl)]
    assert await ids("program=PKH") == [str(impl)]
    assert await ids("overdue=true") == [str(impl)]
    assert await ids("step=closed&status=open") == []
    assert len(await ids("submitted_from=2000-01-01&submitted_to=2999-12-31")) == 6
    assert await ids("submitted_to=2000-01-01") == []
    assert len(await ids("area=3204052001")) == 6
    assert {str(c) for c, _ in made} <= set(await ids("limit=100"))
    bad = await intake.client.get("/v1/complaints?cursor=not-a-cursor", headers=manager)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "cursor"


async def test_the_task_feed_shows_visits_for_my_villages(intake: Intake) -> None:
    visit, visit_ticket = await _submitted(intake)
    ask, ask_ticket = await _submitted(intake)
    quiet, _ = await _submitted(intake)
    await intake.publish(
        transition(
            visit,
            visit_ticket,
            1,
            ComplaintStep.FEEDBACK,
            holder=Role.FACILITATOR,
            step_due="2026-12-10",
        ),
        str(visit),
    )
    await intake.publish(
        transition(ask, ask_ticket, 1, ComplaintStep.AWAITING_INFORMATION, holder=Role.FACILITATOR),
        str(ask),
    )
    await projected(intake, visit, 1)
    await projected(intake, ask, 1)
    mine = await intake.client.get("/v1/tasks", headers=intake.auth(Role.FACILITATOR, VILLAGE))
    assert mine.status_code == 200
    kinds = {t["complaint_id"]: t["kind"] for t in mine.json()["items"]}
    assert kinds == {str(visit): "feedback_visit", str(ask): "information_request"}
    assert str(quiet) not in kinds
    elsewhere = await intake.client.get(
        "/v1/tasks", headers=intake.auth(Role.FACILITATOR, "3204052002")
    )
    assert elsewhere.json()["items"] == []
    not_facilitator = await intake.client.get("/v1/tasks", headers=intake.auth(Role.BACK_OFFICE))
    assert not_facilitator.status_code == 403
