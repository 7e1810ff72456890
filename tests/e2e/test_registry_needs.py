"""A program-need complaint becomes a registry need, end to end: intake, routing, the registry
and the notifier as their own processes. The household is in DT-PPFM (an extract imported over
the registry's API); the complaint submitted at intake shows up in the registry's needs and
planning figures (``GET /v1/aggregates``, ``GET /v1/aggregates/places``), once, even after the
registry request is redelivered (the same Kafka record again, and a second request for the same
complaint)."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from services.registry.extract import COLUMNS
from slrt.contracts.envelope import Envelope, from_kafka
from slrt.contracts.events import RegistryCheckRequested
from slrt.contracts.topics import Topic
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from tests.support.harness import Stack, start_services
from tests.support.kafka_tools import read_topic
from tests.support.polling import until
from tests.support.registry import VILLAGE, own_household

PROGRAM = "PIP_KEMENDIKBUD"


def _extract(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def _program_figures(http: httpx.AsyncClient, stack: Stack) -> dict[str, Any] | None:
    response = await http.get(
        f"{stack.urls['registry']}/v1/aggregates",
        params={"area": VILLAGE},
        headers=stack.auth("manager"),
    )
    assert response.status_code == 200, response.text
    rows = [p for p in response.json()["programs"] if p["program"] == PROGRAM]
    return rows[0] if rows else None


async def _check_request(bootstrap: str, complaint: str) -> tuple[Any, Envelope]:
    """The registry check routing asked for this complaint, as a raw record and an envelope."""

    async def find() -> tuple[Any, Envelope] | None:
        records = await read_topic(bootstrap, Topic.REGISTRY_REQUESTS.value, expect=0, timeout=2)
        for record in records:
            envelope = from_kafka(record.key, record.headers, record.value)
            if envelope.data.get("complaint_id") == complaint and envelope.type == (
                RegistryCheckRequested.event_type
            ):
                return record, envelope
        return None

    return await until(find, timeout=60)


async def test_a_program_need_complaint_shows_in_the_registry_figures_once(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    bootstrap = connections.kafka_bootstrap
    # A household only this test has: the requests it causes reach other tests' registries too.
    rows, nik = own_household("Dadang Sutisna")
    stack, services = start_services(connections, log_dir)
    with stack:
        async with httpx.AsyncClient(timeout=60) as http:
            imported = await http.post(
                f"{services.urls['registry']}/v1/imports",
                content=_extract(rows).encode(),
                headers={**services.auth("data_manager"), "content-type": "text/csv"},
            )
            assert imported.status_code == 201, imported.text
            assert await _program_figures(http, services) is None  # no need yet

            async def catalog_copied() -> bool:  # intake knows the seeded program
                conn = await asyncpg.connect(dsn)
                try:
                    return bool(
                        await conn.fetchval(
                            "SELECT count(*) FROM intake.programs WHERE code = $1", PROGRAM
                        )
                    )
                finally:
                    await conn.close()

            await until(catalog_copied, timeout=60)

            submitted = await http.post(
                f"{services.urls['intake']}/v1/complaints",
                headers={**services.auth("front_office"), "Idempotency-Key": uuid.uuid4().hex},
                json={
                    "channel": "puskesos_walk_in",
                    "village_code": VILLAGE,
                    "complainant": {"nik": nik, "name": "Dadang Sutisna"},
                    "category": "program_need",
                    "program_code": PROGRAM,
                    "description": "Anak kami bersekolah tetapi belum menerima PIP.",
                },
            )
            assert submitted.status_code == 202, submitted.text
            complaint: str = submitted.json()["complaint_id"]

            async def counted() -> dict[str, Any] | None:
                return await _program_figures(http, services)

            figures = await until(counted, timeout=180)
            assert (figures["needs"], figures["needs_uncovered"]) == (1, 1)

            # Redelivery: the very same record again, and a second request (a new event) for
            # the same complaint, as a routing retry would send.
            record, envelope = await _check_request(bootstrap, complaint)
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(
                    record.topic, record.value, key=record.key, headers=list(record.headers)
                )
            finally:
                await producer.stop()
            again = envelope.parse(RegistryCheckRequested).model_copy(
                update={"request_id": uuid.uuid4()}
            )
            again_id = str(uuid.uuid4())
            async with EventProducer(connections, "/slrt/routing") as events:
                await events.publish(again, subject=complaint, id=again_id)

            async def processed() -> bool:
                conn = await asyncpg.connect(dsn)
                try:
                    return bool(
                        await conn.fetchval(
                            "SELECT count(*) FROM registry.processed_events WHERE event_id = $1",
                            again_id,
                        )
                    )
                finally:
                    await conn.close()

            await until(processed, timeout=60)
            after = await _program_figures(http, services)
            assert after is not None
            assert (after["needs"], after["needs_uncovered"]) == (1, 1)

            # The planning scorecard counts it among the village's unmet needs.
            places = await http.get(
                f"{services.urls['registry']}/v1/aggregates/places",
                params={"area": VILLAGE[:6], "depth": 10},
                headers=services.auth("manager"),
            )
            assert places.status_code == 200, places.text
            (village,) = [p for p in places.json()["places"] if p["code"] == VILLAGE]
            assert village["unmet_needs"] == 1

    conn = await asyncpg.connect(dsn)
    try:
        needs = await conn.fetch(
            "SELECT program_code, recorded_by FROM registry.program_needs WHERE complaint_id = $1",
            uuid.UUID(complaint),
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in needs] == [(PROGRAM, "system:complaint")]
