"""Intake's assignees against its real schema: a step is assigned from the staff-directory copy,
a person leaving with no successor sends their open visit back to the supervisor's queue with a
``handover`` timeline entry, and the stranded-task check (and its gauge) finds a step left with
a person who is gone."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.intake import assignees
from slrt import staff_copy
from slrt.auth.principal import Role
from slrt.contracts.staff import StaffPerson
from slrt.db import Connection, create_pool
from slrt.db.migrations import migrate_service
from slrt.settings import ConnectionSettings
from tests.support import staff

V1 = "3204052001"
SINCE = datetime.now(UTC) - timedelta(days=30)


@pytest.fixture
async def pool(fresh_db: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate_service(fresh_db, "intake")
    pool = await create_pool(ConnectionSettings(postgres_dsn=fresh_db), "intake")
    yield pool
    await pool.close()


def _person(role: Role) -> StaffPerson:
    return staff.person(
        [role], ["320405"], since=SINCE, subject=f"{role.value}-{uuid.uuid4().hex[:6]}"
    )


async def _complaint(conn: Connection, step: str, assignee: uuid.UUID | None = None) -> uuid.UUID:
    complaint_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO complaint_status (complaint_id, ticket_number, sequence, step, place_code, "
        "category, channel, snapshot, submitted_at, updated_at, assignee) "
        "VALUES ($1, $2, 5, $3, $4, 'implementation', 'puskesos_walk_in', '{}', now(), now(), $5)",
        complaint_id,
        f"3204-26-{complaint_id.hex[:6]}",
        step,
        V1,
        assignee,
    )
    return complaint_id


async def test_a_person_who_leaves_hands_their_visit_to_the_supervisors_queue(
    pool: asyncpg.Pool,
) -> None:
    facilitator, supervisor = _person(Role.FACILITATOR), _person(Role.SUPERVISOR)
    async with pool.acquire() as conn, conn.transaction():
        for record in (
            facilitator,
            supervisor,
            staff.village(V1, staff.spell(facilitator, SINCE), at=SINCE),
            staff.supervision(facilitator, staff.spell(supervisor, SINCE), at=SINCE),
        ):
            assert await staff_copy.keep_record(conn, record)
        visit = await _complaint(conn, "feedback")
        await assignees.assign(conn, visit)
        row = await conn.fetchrow(
            "SELECT assignee, assignee_basis FROM complaint_status WHERE complaint_id = $1", visit
        )
        assert row is not None
        assert (row["assignee"], row["assignee_basis"]) == (
            facilitator.person_id,
            "village_assignment",
        )
        assert await assignees.person_of_subject(conn, facilitator.subject or "") == (
            facilitator.person_id
        )
        # Intake keeps no name or contact of the person.
        kept = await conn.fetchval(
            "SELECT record FROM staff_persons WHERE person_id = $1", facilitator.person_id
        )
        assert (kept["display_name"], kept["email"], kept["phone"]) == ("-", None, None)

        now = datetime.now(UTC)
        gone = facilitator.model_copy(update={"active_until": now, "version": 2})
        assert await staff_copy.keep_record(conn, gone)
        (moved,) = await assignees.hand_over(conn, gone, now + timedelta(seconds=1))
        assert (moved.from_person, moved.to_person, moved.why) == (
            facilitator.person_id,
            supervisor.person_id,
            "person_ended",
        )
        entry = await conn.fetchrow(
            "SELECT * FROM complaint_timeline WHERE complaint_id = $1", visit
        )
        assert entry is not None
        assert entry["reason"] == "handover"
        assert (entry["from_step"], entry["to_step"]) == ("feedback", "feedback")
        assert entry["details"]["basis"] == "supervisor_queue"
        assert entry["details"]["from"] == str(facilitator.person_id)
        assert entry["details"]["to"] == str(supervisor.person_id)
        assert await assignees.hand_over(conn, gone, now + timedelta(seconds=2)) == []
        assert await assignees.stranded(conn, "3204") == []

        # A step left with someone who is gone (a missed handover) is found and counted.
        left = await _complaint(conn, "awaiting_information", facilitator.person_id)
        assert [r["complaint_id"] for r in await assignees.stranded(conn, "3204")] == [left]
        assert await assignees.stranded(conn, "3205") == []
    assert await assignees.measure_stranded(pool) == 1
    assert assignees.STRANDED._value.get() == 1
