"""``/readyz`` names the dependency that is down, and recovers when it is back; a dependency a
service can do without (intake: Kafka) does not make it unready."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from slrt.admin import create_topics
from slrt.contracts.topics import Topic
from slrt.settings import ConnectionSettings
from slrt_dev.stack.process import free_port
from tests.support.harness import (
    TEST_NAMESPACE,
    RealStack,
    dev_issuer,
    service_process,
    start_local_kafka,
)
from tests.support.kafka_tools import read_topic
from tests.support.polling import poll


async def _wait_for_status(url: str, status: int, timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while True:
            response = await client.get(f"{url}/readyz", timeout=10)
            if response.status_code == status:
                body: dict[str, object] = response.json()
                return body
            assert time.monotonic() < deadline, (
                f"/readyz stayed {response.status_code}: {response.text}"
            )
            await asyncio.sleep(0.5)


async def test_readyz_names_kafka_while_the_broker_is_down(
    real_stack: RealStack,
    fresh_db: str,
    tmp_path: Path,
) -> None:
    kafka = await asyncio.to_thread(start_local_kafka, tmp_path / "own-broker", real_stack.cache)
    try:
        await create_topics(ConnectionSettings(kafka_bootstrap=kafka.bootstrap), partitions=1)
        env = {
            "SLRT_POSTGRES_DSN": fresh_db,
            "SLRT_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "SLRT_LOG_JSON": "true",
        }
        with service_process("registry", env, tmp_path) as url:
            ready = await _wait_for_status(url, 200)
            assert ready["checks"] == {"postgres": "ok", "kafka": "ok"}

            await asyncio.to_thread(kafka.stop)
            down = await _wait_for_status(url, 503)
            assert down["down"] == ["kafka"]
            assert down["status"] == "unavailable"

            await asyncio.to_thread(kafka.start)
            back = await _wait_for_status(url, 200)
            assert back["down"] == []
    finally:
        await asyncio.to_thread(kafka.stop)


async def test_intake_stays_ready_and_takes_complaints_while_kafka_is_down(
    real_stack: RealStack, fresh_db: str, temporal_address: str, tmp_path: Path
) -> None:
    """Intake's outbox holds what it cannot publish: a Kafka outage must not take its pods out
    of the Service. Health and metrics are on the management port; the API port's /readyz says
    only ready or not ready."""
    kafka = await asyncio.to_thread(start_local_kafka, tmp_path / "own-broker", real_stack.cache)
    try:
        await create_topics(ConnectionSettings(kafka_bootstrap=kafka.bootstrap), partitions=1)
        management = f"http://127.0.0.1:{free_port()}"
        env = {
            "SLRT_POSTGRES_DSN": fresh_db,
            "SLRT_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "SLRT_TEMPORAL_ADDRESS": temporal_address,
            "SLRT_TEMPORAL_NAMESPACE": TEST_NAMESPACE,
            "SLRT_INTAKE_MANAGEMENT_PORT": management.rpartition(":")[2],
            "SLRT_LOG_JSON": "true",
        }
        with service_process("intake", env, tmp_path) as url:
            detail = await _wait_for_status(management, 200)
            assert detail["checks"] == {"postgres": "ok", "kafka": "ok", "temporal": "ok"}
            async with httpx.AsyncClient(timeout=10) as client:
                public = await client.get(f"{url}/readyz")
                assert public.json() == {"status": "ready"}
                assert (await client.get(f"{url}/metrics")).status_code == 404
                assert (await client.get(f"{management}/metrics")).status_code == 200

            await asyncio.to_thread(kafka.stop)

            async def kafka_seen_down() -> dict[str, object]:
                async with httpx.AsyncClient(timeout=10) as client:
                    answer = await client.get(f"{management}/readyz")
                body: dict[str, object] = answer.json()
                body["code"] = answer.status_code
                return body

            down = await poll(
                kafka_seen_down,
                lambda body: body["down"] == ["kafka"],
                timeout=60,
                interval=0.5,
                explain=lambda body: f"kafka never reported down: {body}",
            )
            assert down["code"] == 200
            assert down["status"] == "ready"
            issuer = dev_issuer(tmp_path)
            token = issuer.token("front-office-3204", ["front_office"], "3204")
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                assert (await client.get("/readyz")).json() == {"status": "ready"}
                submitted = await client.post(
                    "/v1/complaints",
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "no-kafka-1"},
                    json={
                        "channel": "puskesos_walk_in",
                        "village_code": "3204052001",
                        "complainant": {
                            "nik": "3204054107850003",
                            "name": "Siti Aminah",
                            "phone": "081234567890",
                        },
                        "category": "implementation",
                        "program_code": "PKH",
                        "description": "Bantuan PKH tahap 3 belum diterima.",
                    },
                )
            assert submitted.status_code == 202, submitted.text

            # Kafka is back: the outbox relays the complaint that waited for it.
            await asyncio.to_thread(kafka.start)
            records = await read_topic(
                kafka.bootstrap, Topic.COMPLAINT_SUBMITTED, expect=1, timeout=60
            )
            assert len(records) == 1
            assert submitted.json()["ticket_number"].encode() in records[0].value
    finally:
        await asyncio.to_thread(kafka.stop)
