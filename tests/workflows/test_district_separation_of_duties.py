"""Separation of duties per district (issue 19, part 5), on the real dev server: the staff
directory's district setting, read from the real ``slrt.staff.directory`` topic into routing's
copy, decides for the district's complaints; a district without one keeps the deployment's
default (on)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import pytest
from temporalio.client import WorkflowUpdateFailedError

from services.routing.activities import ComplaintActivities
from services.routing.settings import RoutingSettings
from slrt.auth.directory import DirectoryCopy
from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    UPDATE_BACK_OFFICE,
    UPDATE_MANAGER_DECISION,
    BackOfficeAction,
    ComplaintStep,
    ManagerDecision,
)
from slrt.contracts.events import ComplaintSubmitted
from slrt.contracts.staff import DistrictStaffSettings, district_key
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt.staff_directory import separation_of_duties
from tests.support.complaints import Driven, actor, request_id, submitted
from tests.support.polling import poll

S = ComplaintStep
Drive = Callable[[ComplaintSubmitted], Awaitable[Driven]]
# Kabupaten Majalengka: a single manager who also works the back office. Its setting stays on the
# session's one ``slrt.staff.directory`` topic: no other test works in Majalengka (nor in Cirebon,
# whose default this test relies on).
ALLOWS = "3210"
ALLOWS_VILLAGE = "3210012001"
REFUSES_VILLAGE = "3209012008"  # Kabupaten Cirebon: no setting, the default (on)
BOTH_HATS = "user-sole-manager"


@pytest.fixture
async def directory(kafka_bootstrap: str, producer: EventProducer) -> AsyncIterator[DirectoryCopy]:
    """Routing's copy of the directory, following the real topic, once Majalengka's setting
    (published as the registry does) is in it."""
    await producer.publish(
        DistrictStaffSettings(
            district=ALLOWS,
            separation_of_duties=False,
            # Above any version an earlier run left on the session's topic.
            version=int(datetime.now(UTC).timestamp()),
            updated_at=datetime.now(UTC),
        ),
        subject=district_key(ALLOWS),
    )
    copy = DirectoryCopy(ConnectionSettings(kafka_bootstrap=kafka_bootstrap))
    stop = asyncio.Event()
    task = asyncio.create_task(copy.run(stop))

    async def read() -> bool:
        return copy.ready.is_set() and not separation_of_duties(copy.snapshot, ALLOWS, True)

    try:
        await poll(read, timeout=60)
        yield copy
    finally:
        stop.set()
        await task


@pytest.fixture
def activities(
    producer: EventProducer,
    routing_pool: asyncpg.Pool,
    routing_settings: RoutingSettings,
    directory: DirectoryCopy,
) -> ComplaintActivities:
    return ComplaintActivities(producer, routing_pool, routing_settings, directory)


def _in(village: str) -> ComplaintSubmitted:
    complaint = submitted(program="PKH")
    assert complaint.complainant is not None
    return complaint.model_copy(
        update={
            "village_code": village,
            "complainant": complaint.complainant.model_copy(update={"village_code": village}),
        }
    )


def _propose() -> BackOfficeAction:
    return BackOfficeAction(
        actor=actor(Role.BACK_OFFICE, BOTH_HATS), request_id=request_id(), kind="refer"
    )


def _approve() -> ManagerDecision:
    return ManagerDecision(
        actor=actor(Role.MANAGER, BOTH_HATS), request_id=request_id(), decision="approve"
    )


async def test_the_district_that_allows_it_lets_one_person_propose_and_approve(
    drive: Drive,
) -> None:
    allowed = await drive(_in(ALLOWS_VILLAGE))
    await allowed.answer_registry()
    await allowed.act(UPDATE_BACK_OFFICE, _propose())
    sent = await allowed.act(UPDATE_MANAGER_DECISION, _approve())
    assert sent.step is S.REFERRED
    approval = (await allowed.state()).history[-1]
    assert approval.details["separation_of_duties"] is False

    refused = await drive(_in(REFUSES_VILLAGE))
    await refused.answer_registry()
    await refused.act(UPDATE_BACK_OFFICE, _propose())
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await refused.act(UPDATE_MANAGER_DECISION, _approve())
    assert "separation of duties" in str(error.value.cause)
