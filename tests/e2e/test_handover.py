"""Tasks follow the staff directory (issue 19), end to end: intake, routing, the registry and
the notifier as their own processes, the directory's records on ``slrt.staff.directory`` as
the registry publishes them. A facilitator holding villages in two sub-districts sees the
feedback visits of both and nothing else; ending their assignments with a successor named
moves every open task to the successor (a ``handover`` entry on each complaint's timeline),
the successor completes the visits and the complaints close; nothing is left with anyone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from slrt.auth.principal import Role
from slrt.contracts.staff import EndReason, StaffPerson
from slrt.settings import ConnectionSettings
from tests.support import staff
from tests.support.harness import Stack, start_services
from tests.support.intake import back_office_resolves
from tests.support.polling import until

RUN = uuid.uuid4().hex[:6]
# Kabupaten Purwakarta (Nagri Kidul and Nagri Tengah, Kecamatan Purwakarta; Campaka, Kecamatan
# Campaka): no other test works there. The directory's records go on the session's one
# ``slrt.staff.directory`` topic, which every later test's intake and notifier copy; in villages
# other tests use, these persons would hold their complaints' steps and get their messages.
DISTRICT = "3214"
V1, V2, V3 = "3214011001", "3214022001", "3214011003"  # V1, V2: two sub-districts
SUBS = ["321401", "321402"]
SINCE = datetime.now(UTC) - timedelta(days=30)


def _person(subject: str, roles: list[Role], areas: list[str]) -> StaffPerson:
    return staff.person(
        roles,
        areas,
        since=SINCE,
        subject=f"{subject}-{RUN}",
        display_name="Petugas Uji",
        email=f"{subject}-{RUN}@example.go.id",
    )


def _token(stack: Stack, person: StaffPerson) -> dict[str, str]:
    assert person.subject is not None
    token = stack.issuer.token(person.subject, [Role.FACILITATOR.value], DISTRICT)
    return {"Authorization": f"Bearer {token}"}


async def _submit(client: httpx.AsyncClient, stack: Stack, village: str) -> dict[str, Any]:
    response = await client.post(
        "/v1/complaints",
        json={
            "channel": "puskesos_walk_in",
            "village_code": village,
            "complainant": {"nik": "3214014107850003", "name": "Siti Aminah"},
            "category": "implementation",
            "program_code": "PKH",
            "description": "Bantuan PKH tahap 3 belum diterima.",
        },
        headers={
            **stack.auth("front_office", DISTRICT),
            "Idempotency-Key": f"handover-{RUN}-{village}",
        },
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def _feed(client: httpx.AsyncClient, headers: dict[str, str]) -> set[str]:
    response = await client.get("/v1/tasks", headers=headers)
    assert response.status_code == 200, response.text
    return {item["complaint_id"] for item in response.json()["items"]}


async def test_a_handover_moves_every_open_task_and_the_complaints_finish_under_the_successor(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    leaving = _person("fasilitator-a", [Role.FACILITATOR], SUBS)
    successor = _person("fasilitator-b", [Role.FACILITATOR], SUBS)
    neighbour = _person("fasilitator-c", [Role.FACILITATOR], [V3])
    supervisor = _person("supervisor", [Role.SUPERVISOR], SUBS)
    first = {
        v: staff.village(v, staff.spell(p, SINCE), at=SINCE)
        for v, p in ((V1, leaving), (V2, leaving), (V3, neighbour))
    }
    supervision = staff.supervision(leaving, staff.spell(supervisor, SINCE), at=SINCE)
    stack, services = start_services(connections, log_dir)
    with stack:
        # And the persons end when the test is done, whatever happens (the supervisor too: the
        # supervisor of a village's last facilitator would take its tasks): nothing of this test
        # stays active on the shared topic.
        try:
            await staff.publish(
                connections, leaving, successor, neighbour, supervisor, *first.values(), supervision
            )

            async def directory_copied() -> bool:
                conn = await asyncpg.connect(dsn)
                try:
                    return bool(
                        await conn.fetchval(
                            "SELECT count(*) = 3 FROM intake.staff_village_assignments "
                            "WHERE village_code = ANY($1)",
                            [V1, V2, V3],
                        )
                    )
                finally:
                    await conn.close()

            await until(directory_copied, timeout=120)

            async with httpx.AsyncClient(base_url=services.urls["intake"], timeout=30) as client:
                complaints = {
                    v: (await _submit(client, services, v))["complaint_id"] for v in first
                }
                for complaint in complaints.values():
                    await back_office_resolves(client, services, complaint, DISTRICT)

                mine = {complaints[V1], complaints[V2]}

                # Both sub-districts' visits, and not the neighbour's village.
                async def leaving_sees_both() -> set[str] | None:
                    seen = await _feed(client, _token(services, leaving))
                    return seen if mine <= seen else None

                assert await until(leaving_sees_both, timeout=180) == mine

                # The neighbour's visit is reached on its own schedule, not with the others.
                async def neighbour_sees_its_own() -> set[str] | None:
                    seen = await _feed(client, _token(services, neighbour))
                    return seen if complaints[V3] in seen else None

                assert await until(neighbour_sees_its_own, timeout=180) == {complaints[V3]}
                assert await _feed(client, _token(services, successor)) == set()
                listed = await client.get(
                    "/v1/complaints", params={"assigned": "me"}, headers=_token(services, leaving)
                )
                assert {c["complaint_id"] for c in listed.json()["items"]} == mine

                # The handover: both villages to the successor, in one record each.
                now = datetime.now(UTC)
                await staff.publish(
                    connections,
                    *(
                        staff.village(
                            v,
                            first[v]
                            .spells[0]
                            .model_copy(update={"until": now, "end_reason": EndReason.REASSIGNED}),
                            staff.spell(successor, now),
                            at=now,
                            version=2,
                        )
                        for v in (V1, V2)
                    ),
                )

                async def successor_has_them() -> set[str] | None:
                    seen = await _feed(client, _token(services, successor))
                    return seen if seen == mine else None

                assert await until(successor_has_them, timeout=120) == mine
                assert await _feed(client, _token(services, leaving)) == set()
                for complaint in mine:
                    read = await client.get(
                        f"/v1/complaints/{complaint}/detail",
                        headers=services.auth("manager", DISTRICT),
                    )
                    assert read.status_code == 200, read.text
                    handovers = [t for t in read.json()["timeline"] if t["reason"] == "handover"]
                    assert len(handovers) == 1
                    assert handovers[0]["details"]["from"] == str(leaving.person_id)
                    assert handovers[0]["details"]["to"] == str(successor.person_id)
                    assert handovers[0]["details"]["why"] == EndReason.REASSIGNED.value

                # The successor tells the households; the complaints close.
                for complaint in mine:
                    told = await client.post(
                        f"/v1/complaints/{complaint}/feedback",
                        json={"household_told": True, "visited_on": date.today().isoformat()},
                        headers={
                            **_token(services, successor),
                            "Idempotency-Key": f"fb-{complaint}",
                        },
                    )
                    assert told.status_code in (200, 202), told.text

                async def closed() -> bool:
                    steps = []
                    for complaint in mine:
                        read = await client.get(
                            f"/v1/complaints/{complaint}",
                            headers=services.auth("manager", DISTRICT),
                        )
                        steps.append(read.json()["step"])
                    return steps == ["closed", "closed"]

                await until(closed, timeout=120)
                stranded = await client.get(
                    "/v1/tasks/stranded", headers=services.auth("manager", DISTRICT)
                )
                assert stranded.status_code == 200, stranded.text
                assert not {i["complaint_id"] for i in stranded.json()["items"]} & set(
                    complaints.values()
                )
        finally:
            await staff.end(connections, leaving, successor, neighbour, supervisor)
