"""Benchmark (not a test): complaints per second from submission to referral delivered, and
p50/p99 of that interval, through the four services as separate processes (the LAPOR! stand-in
files the referral at once), as ratios to an empty workflow with the same number of activities,
the same Kafka hops and the same two human decisions (as updates) on the same Temporal server
and Kafka broker.

    .venv/bin/python -m bench.routing_e2e [--complaints 40] [--concurrency 8] [--trace 8]
    .venv/bin/python -m bench.routing_e2e --small     # 16 complaints at 4: ~2-3 min here

``--trace N`` then runs N more complaints through services that export their spans (a run of
its own, so exporting never slows the measured one) and prints where each second goes, hop by
hop (``bench/_hops.py``); the table lands in the result file under ``hops``.

The human steps (back office refers, manager approves) are taken the moment the complaint
reaches them, through intake's API: the benchmark learns it from the step's transition on
``slrt.complaint.lifecycle`` (:class:`StepWatch`, a notification, as the baseline's driver learns
its end from a topic) rather than by retrying the action, each refused try of which was an
update the workflow had to validate, load the baseline's driver does not add. "Delivered" is
the ``referral_delivered`` entry in intake's timeline (what a user sees), polled every 0.1 s;
the baseline's driver looks at its end every 0.1 s as well (both sides see their end the same
way). Prints the figures, writes ``bench/results/routing_e2e.json``. Never asserts times.
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
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench._cpu import CpuWatch
from bench._empty_workflow import EmptyComplaint, noop
from bench._hops import Marks, hop_table, markdown, segments
from bench._stack import latency, real_stack, write_result
from slrt.contracts.envelope import from_kafka
from slrt.contracts.temporal import complaint_workflow_id
from slrt.contracts.topics import Topic
from slrt.settings import ConnectionSettings
from slrt_dev.otlp_receiver import SpanStore, otlp_receiver
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


class StepWatch:
    """The steps the benchmark's complaints reach, read from ``slrt.complaint.lifecycle`` (the
    transitions routing publishes): the driver acts when told, as a person notified would.
    Reads every partition from its end at start, outside any consumer group."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._reached: dict[tuple[str, str], asyncio.Event] = {}
        self._task: asyncio.Task[None] | None = None

    def _event(self, complaint_id: str, step: str) -> asyncio.Event:
        return self._reached.setdefault((complaint_id, step), asyncio.Event())

    async def reached(self, complaint_id: str, step: str, timeout: float = 120) -> None:
        try:
            await asyncio.wait_for(self._event(complaint_id, step).wait(), timeout)
        except TimeoutError:
            raise TimeoutError(f"a complaint did not reach {step} within {timeout:.0f} s") from None

    async def __aenter__(self) -> StepWatch:
        topic = Topic.COMPLAINT_LIFECYCLE.value
        async with AIOKafkaProducer(bootstrap_servers=self._bootstrap) as metadata:
            partitions = await metadata.partitions_for(topic)
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, fetch_max_wait_ms=100)
        await consumer.start()
        try:
            assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_end(*assigned)
            for tp in assigned:
                await consumer.position(tp)  # fixed now: nothing after this is missed
        except BaseException:
            await consumer.stop()
            raise
        self._task = asyncio.create_task(self._read(consumer))
        return self

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        try:
            async for record in consumer:
                try:
                    envelope = from_kafka(record.key, record.headers, record.value)
                except ValueError:
                    continue
                step = envelope.data.get("to_step")
                if isinstance(step, str):
                    self._event(envelope.subject, step).set()
        finally:
            await consumer.stop()

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def real_complaint(
    http: httpx.AsyncClient,
    services: Stack,
    trace_id: str | None = None,
    steps: StepWatch | None = None,
) -> tuple[float, str, Marks]:
    """One complaint from submission to its delivery seen in the timeline. With ``steps`` the
    human steps are taken when the lifecycle says the step is reached; without (the soak), by
    retrying the action every 0.1 s until intake takes it."""
    began = time.perf_counter()
    submitted_ns = time.time_ns()
    headers = {**services.auth("front_office"), "Idempotency-Key": str(uuid.uuid4())}
    if trace_id is not None:
        headers["traceparent"] = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    submitted = await http.post("/v1/complaints", json=BODY, headers=headers)
    submitted.raise_for_status()
    cid = submitted.json()["complaint_id"]
    manager = services.auth("manager")

    async def act(path: str, role: str, body: dict[str, Any]) -> bool:
        try:
            response = await http.post(
                f"/v1/complaints/{cid}/{path}",
                json=body,
                headers={**services.auth(role), "Idempotency-Key": str(uuid.uuid4())},
            )
        except httpx.TransportError:  # a kept-alive connection closed under load: ask again
            return False
        return response.status_code == 200

    if steps is not None:
        await steps.reached(cid, "back_office")
    await _until(
        lambda: act(
            "back-office-action", "back_office", {"kind": "refer", "destination_program": "BPNT"}
        ),
        "back office refers",
    )
    referred_ns = time.time_ns()
    if steps is not None:
        await steps.reached(cid, "manager_approval")
    await _until(lambda: act("manager-decision", "manager", {"decision": "approve"}), "approval")
    approved_ns = time.time_ns()

    async def delivered() -> bool:
        try:
            read = await http.get(f"/v1/complaints/{cid}", headers=manager)
        except httpx.TransportError:
            return False
        timeline = read.json().get("timeline") or []
        return any(t["reason"] == "referral_delivered" for t in timeline)

    await _until(delivered, "referral delivered")
    marks = Marks(submitted_ns, referred_ns, approved_ns, time.time_ns())
    return time.perf_counter() - began, cid, marks


def _cpu_group(process: psutil.Process) -> str | None:
    """The CPU group of a descendant of the benchmark (``bench._cpu``)."""
    line = " ".join(process.cmdline())
    for needle in ("intake", "registry", "routing", "notifier", "lapor", "kafka", "temporal"):
        if f"services.{needle}" in line or (needle in ("kafka", "temporal") and needle in line):
            return needle
    return "other"


async def run_real(
    services: Stack, connections: ConnectionSettings, complaints: int, concurrency: int
) -> dict[str, Any]:
    gate = asyncio.Semaphore(concurrency)
    async with (
        StepWatch(connections.kafka_bootstrap) as steps,
        httpx.AsyncClient(base_url=services.urls["intake"], timeout=60) as http,
    ):

        async def one() -> tuple[float, str, Marks]:
            async with gate:
                return await real_complaint(http, services, steps=steps)

        await one()  # warm-up: catalog copies, connections, workflow cache
        watch = CpuWatch(connections.postgres_dsn.get_secret_value(), _cpu_group)
        cpu_before = await asyncio.to_thread(watch.snapshot)
        began = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(complaints)))
        wall = time.perf_counter() - began
        cpu = CpuWatch.since(cpu_before, await asyncio.to_thread(watch.snapshot))
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
        # CPU milliseconds per complaint by process group (``bench._cpu``): steadier than the
        # wall figures on a shared machine; reported, not part of the ratios.
        "cpu_ms_per_complaint": {g: round(1000 * v / complaints, 1) for g, v in cpu.items()},
    }


async def run_traced(
    services: Stack,
    store: SpanStore,
    connections: ConnectionSettings,
    complaints: int,
    concurrency: int,
) -> dict[str, Any]:
    """``complaints`` complaints, each with a trace id of its own; the hop table of their
    traces once every span has arrived."""
    gate = asyncio.Semaphore(concurrency)
    async with (
        StepWatch(connections.kafka_bootstrap) as steps,
        httpx.AsyncClient(base_url=services.urls["intake"], timeout=60) as http,
    ):

        async def one() -> tuple[str, Marks]:
            trace_id = uuid.uuid4().hex
            async with gate:
                _, _, marks = await real_complaint(http, services, trace_id, steps)
            return trace_id, marks

        await one()  # warm-up
        done = await asyncio.gather(*(one() for _ in range(complaints)))

    async def cut() -> list[list[float]] | None:
        spans = store.spans()
        found = []
        for trace_id, marks in done:
            cut = segments([s for s in spans if s.trace_id == trace_id], marks)
            if cut is None:
                return None
            found.append(cut)
        return found

    per_complaint = await _until(cut, "every traced complaint's spans exported", timeout=60)
    rows = hop_table(per_complaint)
    return {"complaints": complaints, "table": rows, "markdown": markdown(rows, complaints)}


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

            async def seen() -> bool:  # looked at every 0.1 s, as the real path's timeline
                return finished[cid].done()

            await _until(seen, "empty workflow done")
            return time.perf_counter() - began

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


SMALL = {"complaints": 16, "concurrency": 4}
"""``--small``: the size ``make bench`` runs (about 2-3 minutes on the 2 shared cores)."""


def run(
    complaints: int, concurrency: int, trace: int = 0, also_activities: int = 0
) -> dict[str, Any]:
    """Measure both sides (and, with ``trace``, the hop table); write and return the result.

    ``also_activities``: measure the empty workflow a second time with that many activities
    (the baseline follows the complaint's own count, so a complaint path that needs fewer
    activities also gets a cheaper baseline; this keeps the old yardstick in view)."""
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
            real = asyncio.run(run_real(services, connections, complaints, concurrency))
        print(f"complaint path: {real}")
        baseline = asyncio.run(
            run_baseline(
                stack, connections, complaints, concurrency, real["activities_per_complaint"]
            )
        )
        print(f"empty workflow: {baseline}")
        other = None
        if also_activities:
            other = asyncio.run(
                run_baseline(stack, connections, complaints, concurrency, also_activities)
            )
            print(f"empty workflow at {also_activities} activities: {other}")
        hops = None
        if trace:
            (log_dir / "traced").mkdir()
            with ExitStack() as running:
                endpoint, store = running.enter_context(otlp_receiver())
                lapor = running.enter_context(standin("lapor", log_dir / "traced"))
                services_stack, services = start_services(
                    connections,
                    log_dir / "traced",
                    SLRT_NOTIFIER_LAPOR_URL=f"http://127.0.0.1:{lapor}",
                    SLRT_LOG_LEVEL="WARNING",
                    SLRT_OTLP_ENDPOINT=endpoint,
                    OTEL_BSP_SCHEDULE_DELAY="500",
                )
                running.enter_context(services_stack)
                hops = asyncio.run(run_traced(services, store, connections, trace, concurrency))
            print(hops["markdown"])
    result = {
        "concurrency": concurrency,
        "kafka_hops": KAFKA_HOPS,
        "complaint_path": real,
        "empty_workflow": baseline,
        "throughput_ratio": round(
            real["complaints_per_second"] / baseline["complaints_per_second"], 3
        ),
        "p50_ratio": round(real["p50_ms"] / baseline["p50_ms"], 2),
        "p99_ratio": round(real["p99_ms"] / baseline["p99_ms"], 2),
        **({"hops": hops} if hops else {}),
    }
    if other is not None:
        result["empty_workflow_other_activities"] = other
        result["throughput_ratio_vs_other"] = round(
            real["complaints_per_second"] / other["complaints_per_second"], 3
        )
        result["p50_ratio_vs_other"] = round(real["p50_ms"] / other["p50_ms"], 2)
    out = write_result("routing_e2e", result)
    print(
        f"throughput x{result['throughput_ratio']}, p50 x{result['p50_ratio']}, "
        f"p99 x{result['p99_ratio']}; written {out}"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_e2e")
    parser.add_argument("--complaints", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--small", action="store_true", help="16 complaints at concurrency 4 (for make bench)"
    )
    parser.add_argument(
        "--trace", type=int, default=0, help="then trace this many complaints: the hop table"
    )
    parser.add_argument(
        "--also-activities",
        type=int,
        default=0,
        help="also measure the empty workflow with this many activities (e.g. the old 14)",
    )
    args = parser.parse_args(argv)
    size = SMALL if args.small else {"complaints": args.complaints, "concurrency": args.concurrency}
    run(size["complaints"], size["concurrency"], args.trace, args.also_activities)
    return 0


if __name__ == "__main__":
    sys.exit(main())
