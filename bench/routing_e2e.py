"""Benchmark (not a test): complaints per second from submission to referral delivered, and
p50/p99 of that interval, through the four services as separate processes (the LAPOR! stand-in
files the referral at once), as ratios to an empty workflow with the same number of activities,
the same Kafka hops and the same two human decisions (as updates) on the same Temporal server
and Kafka broker.

    .venv/bin/python -m bench.routing_e2e [--complaints 40] [--concurrency 8]

The human steps (back office refers, manager approves) are taken the moment the complaint
reaches them, through intake's API. "Delivered" is the ``referral_delivered`` entry in intake's
timeline (what a user sees). Prints the figures, writes ``bench/results/routing_e2e.json``.
Never asserts times.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench._empty_workflow import EmptyComplaint, noop
from bench._stack import latency, real_stack, write_result
from slrt.contracts.temporal import complaint_workflow_id
from slrt.settings import ConnectionSettings
from slrt_dev.sandbox.infra import RealStack, sandbox_converter
from slrt_dev.sandbox.processes import Stack, standin, start_services

POLL = 0.1
BODY = {
    "channel": "puskesos_walk_in",
    "village_code": "3204052001",
    "complainant": {"name": "Warga Uji Beban", "phone": "081234567890"},
    "category": "implementation",
    "program_code": "BPNT",
    "description": "Bantuan BPNT tiga bulan terakhir belum diterima.",
}
KAFKA_HOPS = 6
"""submitted → routing; registry request → registry; its result → routing; referral request →
notifier; its outcome → routing; lifecycle → intake's timeline."""


async def _until(check: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(POLL)
    raise TimeoutError(f"a complaint did not progress within {timeout:.0f} s: {what}")


async def real_complaint(http: httpx.AsyncClient, services: Stack) -> tuple[float, str]:
    began = time.perf_counter()
    submitted = await http.post(
        "/v1/complaints",
        json=BODY,
        headers={**services.auth("front_office"), "Idempotency-Key": str(uuid.uuid4())},
    )
    submitted.raise_for_status()
    cid = submitted.json()["complaint_id"]
    manager = services.auth("manager")

    async def act(path: str, role: str, body: dict[str, Any]) -> bool:
        response = await http.post(
            f"/v1/complaints/{cid}/{path}",
            json=body,
            headers={**services.auth(role), "Idempotency-Key": str(uuid.uuid4())},
        )
        return response.status_code == 200

    await _until(
        lambda: act(
            "back-office-action", "back_office", {"kind": "refer", "destination_program": "BPNT"}
        ),
        "back office refers",
    )
    await _until(lambda: act("manager-decision", "manager", {"decision": "approve"}), "approval")

    async def delivered() -> bool:
        read = await http.get(f"/v1/complaints/{cid}", headers=manager)
        timeline = read.json().get("timeline") or []
        return any(t["reason"] == "referral_delivered" for t in timeline)

    await _until(delivered, "referral delivered")
    return time.perf_counter() - began, cid


async def run_real(
    services: Stack, connections: ConnectionSettings, complaints: int, concurrency: int
) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=services.urls["intake"], timeout=60) as http:

        async def one() -> tuple[float, str]:
            async with gate:
                return await real_complaint(http, services)

        await one()  # warm-up: catalog copies, connections, workflow cache
        began = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(complaints)))
        wall = time.perf_counter() - began
    client = await Client.connect(
        connections.temporal_address,
        namespace=connections.temporal_namespace,
        data_converter=sandbox_converter(),
    )
    history = await client.get_workflow_handle(complaint_workflow_id(results[0][1])).fetch_history()
    activities = sum(
        1 for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    )
    return {
        "complaints": complaints,
        "complaints_per_second": round(complaints / wall, 2),
        "activities_per_complaint": activities,
        **latency([r[0] for r in results]),
    }


async def run_baseline(
    stack: RealStack,
    connections: ConnectionSettings,
    complaints: int,
    concurrency: int,
    activities: int,
) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    start, request, answer, done = (f"bench.{n}.{tag}" for n in ("start", "req", "ans", "done"))
    await stack.create_topics(start, request, answer, done, partitions=2)
    queue = f"bench-{tag}"
    client = await Client.connect(
        connections.temporal_address,
        namespace=connections.temporal_namespace,
        data_converter=sandbox_converter(),
    )
    producer = AIOKafkaProducer(bootstrap_servers=connections.kafka_bootstrap, acks="all")
    await producer.start()
    finished: dict[str, asyncio.Future[float]] = {}

    @activity.defn(name="bench_publish")
    async def publish(message: list[str]) -> None:
        kind, cid = message
        topic = request if kind == "request" else done
        await producer.send_and_wait(topic, key=cid.encode(), value=cid.encode())

    async def consume(topic: str, handle: Any) -> None:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=connections.kafka_bootstrap,
            group_id=f"{topic}-group",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            async for record in consumer:
                await handle(record.value.decode())
                await consumer.commit()
        finally:
            await consumer.stop()

    async def on_start(cid: str) -> None:
        await client.start_workflow(
            EmptyComplaint.run, args=[cid, activities], id=f"bench-{cid}", task_queue=queue
        )

    async def on_request(cid: str) -> None:
        await producer.send_and_wait(answer, key=cid.encode(), value=cid.encode())

    async def on_answer(cid: str) -> None:
        await client.get_workflow_handle(f"bench-{cid}").signal(EmptyComplaint.answer)

    async def on_done(cid: str) -> None:
        future = finished.get(cid)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    gate = asyncio.Semaphore(concurrency)

    async def one() -> float:
        async with gate:
            cid = uuid.uuid4().hex
            finished[cid] = asyncio.get_running_loop().create_future()
            began = time.perf_counter()
            await producer.send_and_wait(start, key=cid.encode(), value=cid.encode())
            handle = client.get_workflow_handle(f"bench-{cid}")
            for _ in range(2):

                async def decide() -> bool:
                    try:
                        await handle.execute_update(EmptyComplaint.decide)
                    except Exception:  # not started yet: like intake's 409, try again
                        return False
                    return True

                await _until(decide, "empty workflow decided")
            return await finished[cid] - began

    tasks = [
        asyncio.create_task(consume(t, h))
        for t, h in ((start, on_start), (request, on_request), (answer, on_answer), (done, on_done))
    ]
    try:
        async with Worker(
            client, task_queue=queue, workflows=[EmptyComplaint], activities=[noop, publish]
        ):
            await one()
            began = time.perf_counter()
            samples = await asyncio.gather(*(one() for _ in range(complaints)))
            wall = time.perf_counter() - began
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await producer.stop()
    return {
        "complaints": complaints,
        "complaints_per_second": round(complaints / wall, 2),
        "activities_per_complaint": activities,
        **latency(samples),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_e2e")
    parser.add_argument("--complaints", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    with real_stack() as (stack, connections), tempfile.TemporaryDirectory() as logs:
        log_dir = Path(logs)
        with ExitStack() as running:
            lapor = running.enter_context(standin("lapor", log_dir))
            services_stack, services = start_services(
                connections,
                log_dir,
                SLRT_NOTIFIER_LAPOR_URL=f"http://127.0.0.1:{lapor}",
                SLRT_LOG_LEVEL="WARNING",
            )
            running.enter_context(services_stack)
            real = asyncio.run(run_real(services, connections, args.complaints, args.concurrency))
        print(f"complaint path: {real}")
        baseline = asyncio.run(
            run_baseline(
                stack,
                connections,
                args.complaints,
                args.concurrency,
                real["activities_per_complaint"],
            )
        )
        print(f"empty workflow: {baseline}")
    result = {
        "concurrency": args.concurrency,
        "kafka_hops": KAFKA_HOPS,
        "complaint_path": real,
        "empty_workflow": baseline,
        "throughput_ratio": round(
            real["complaints_per_second"] / baseline["complaints_per_second"], 3
        ),
        "p50_ratio": round(real["p50_ms"] / baseline["p50_ms"], 2),
        "p99_ratio": round(real["p99_ms"] / baseline["p99_ms"], 2),
    }
    out = write_result("routing_e2e", result)
    print(
        f"throughput x{result['throughput_ratio']}, p50 x{result['p50_ratio']}, "
        f"p99 x{result['p99_ratio']}; written {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
