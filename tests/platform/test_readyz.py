"""``/readyz`` names the dependency that is down, and recovers when it is back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from slrt.admin import create_topics
from slrt.settings import ConnectionSettings
from tests.support.harness import RealStack, service_process, start_local_kafka


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
