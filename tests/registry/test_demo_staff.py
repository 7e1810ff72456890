"""The demo district's generated staff directory (``slrt_dev.demo.staff``): its plan, and its
writing through the real registry's API, published on the real topic, with a handover."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import uvicorn

from slrt.auth.principal import Role
from slrt.places import directory
from slrt.staff_directory import role_holders, supervisor_of, village_facilitator
from slrt_dev.demo import staff
from slrt_dev.standins.server import free_port
from tests.registry.test_staff import _published
from tests.support.registry import Registry

# Kota Cirebon: 5 kecamatan, 22 kelurahan. Not Cimahi (3277, the demo handover's in
# tests/e2e/test_demo_handover.py) nor any place another test uses: the directory written here
# reaches the session's shared ``slrt.staff.directory`` topic and stays active there, so its
# facilitators and role holders would take the tasks and messages of other tests' complaints.
DISTRICT = "3274"
SUB = "327403"  # 5 kelurahan: two facilitators


@pytest.mark.unit
def test_the_plan_covers_every_village_once_with_a_facilitator_per_few() -> None:
    planned = staff.plan("3204")
    places = directory()
    subs = places.children("3204")
    villages = [v.code for s in subs for v in places.children(s.code)]
    held = [v for p in planned for v in p.villages]
    assert sorted(held) == sorted(villages)
    facilitators = [p for p in planned if p.body["roles"] == ["facilitator"]]
    assert len(facilitators) == sum(
        math.ceil(len(places.children(s.code)) / staff.VILLAGES_PER_FACILITATOR) for s in subs
    )
    assert all(p.supervisor is not None for p in facilitators)
    roles = [r for p in planned for r in p.body["roles"]]
    assert roles.count("supervisor") == len(subs)
    assert roles.count("front_office") == len(subs) + 1  # a Puskesos each, and the secretariat
    assert {"manager", "administrator", "back_office", "data_manager"} <= set(roles)
    # The same directory every time, with names and contacts of its own.
    again = staff.plan("3204")
    assert [p.body for p in again] == [p.body for p in planned]
    assert len({p.body["display_name"] for p in planned}) > len(planned) * 0.9
    assert all(p.body["email"].endswith(".demo.example") for p in planned)


@pytest.fixture
async def registry_url(registry: Registry) -> AsyncIterator[str]:
    """The test's registry served on loopback (its lifespan already runs in the fixture)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(registry.app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the registry stopped before it started"
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_the_demo_directory_is_written_published_and_handed_over(
    registry: Registry, registry_url: str, kafka_bootstrap: str
) -> None:
    issuer = registry.issuer
    written = await asyncio.to_thread(staff.seed, registry_url, issuer, DISTRICT)
    assert written["villages"] == 22
    assert written["supervisions"] == written["persons"] - 6 - 5 - 5  # less secretariat, sups, FO
    # Written once: a second start changes nothing.
    assert await asyncio.to_thread(staff.seed, registry_url, issuer, DISTRICT) == {
        "persons": 0,
        "villages": 0,
        "supervisions": 0,
    }
    snapshot = await _published(registry, kafka_bootstrap)
    now = datetime.now(UTC)
    village = directory().children(SUB)[0].code
    holder = village_facilitator(snapshot, village, now)
    assert holder is not None
    assert holder.subject == f"demo-facilitator-{SUB}-1"
    supervisor = supervisor_of(snapshot, holder.person_id, now)
    assert supervisor is not None
    assert supervisor.subject == f"demo-supervisor-{SUB}"
    assert [p.subject for p in role_holders(snapshot, Role.FRONT_OFFICE, village, now)] == [
        f"demo-front_office-{village}",
        f"demo-front_office-{DISTRICT}",
    ]

    # The demo's handover: the village goes to the sub-district's other facilitator.
    successor = await asyncio.to_thread(
        staff.person_id, registry_url, issuer, DISTRICT, f"facilitator-{SUB}-2"
    )
    record = await asyncio.to_thread(staff.end_assignment, registry_url, issuer, village, successor)
    assert [s["person_id"] for s in record["spells"]] == [str(holder.person_id), successor]
    snapshot = await _published(registry, kafka_bootstrap)
    moved = village_facilitator(snapshot, village, datetime.now(UTC))
    assert moved is not None
    assert moved.subject == f"demo-facilitator-{SUB}-2"
