"""Benchmark (not a test): what the routing service keeps per complaint. Routing runs in this
process (``services.routing.app.create_app`` driven through its lifespan: the Temporal worker
and the Kafka consumers) against the real stack; a child process plays the rest of the system
over the real Kafka topics and Temporal — intake (``ComplaintSubmitted`` as its outbox
publishes it, the back-office and manager updates), the registry (an answer to every check) and
the notifier (every notification delivered) — and keeps ``--in-flight`` complaints moving until
each is ``referred`` with its referral delivered, where it then waits (nobody answers), as in
``bench/soak.py``.

    .venv/bin/python -m bench.routing_memory [--checkpoints 100,200,600] [--cached-workflows 20]
                                             [--frames 12 | --frames 0]

At each checkpoint (complaints referred so far) it collects garbage and records the process's
resident memory, glibc's heap (in use by C, Rust and large Python allocations; free but held),
Python's small-object allocator (live bytes, arenas), the memory ``tracemalloc`` traces and live
objects by type; then prints the growth per complaint between checkpoints, the allocation sites
(by traceback) and object types that grew most between the last two, and what RSS falls to after
``malloc_trim(0)``. RSS growing while the live figures stay flat is memory the allocators hold,
not memory anything keeps. ``tracemalloc`` (on unless ``--frames 0``) costs RSS of its own and
slows the worker several times over: read RSS from an untraced run. Writes
``bench/results/routing_memory.json``. Never asserts anything.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import itertools
import json
import os
import re
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench._stack import real_stack, service_env, write_result
from slrt.settings import ConnectionSettings

MIB = 2**20
VILLAGE = "3204052001"


# --- The routing service, in this process ------------------------------------------------


def rss_mib() -> float:
    rss: int = psutil.Process().memory_info().rss
    return round(rss / MIB, 1)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def native_heap_mib() -> dict[str, float]:
    """glibc's own account of the C heap (every arena): what is in use by C, Rust and Python
    allocations alike, and what is free but held. Empty where ``mallinfo2`` is missing."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except AttributeError:
        return {}
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return {
        "malloc_in_use_mib": round((info.uordblks + info.hblkhd) / MIB, 1),
        "malloc_free_held_mib": round(info.fordblks / MIB, 1),
    }


def pymalloc_mib() -> dict[str, float]:
    """Python's small-object allocator (its arenas come from mmap, so glibc does not count
    them): bytes in live blocks, and arenas held. Empty while tracemalloc wraps it (CPython
    reports nothing then)."""
    if tracemalloc.is_tracing():
        return {}
    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)  # _debugmallocstats writes to the C stderr
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode()
    found = dict(
        re.findall(
            r"^# (bytes in allocated blocks|arenas allocated current) +=\s+([\d,]+)", text, re.M
        )
    )
    used = int(found.get("bytes in allocated blocks", "0").replace(",", ""))
    arenas = int(found.get("arenas allocated current", "0").replace(",", ""))
    return {"pymalloc_in_use_mib": round(used / MIB, 1), "pymalloc_arenas": arenas}


def malloc_trim() -> dict[str, float]:
    """Hand glibc's free memory back to the system: what RSS falls to was held, not leaked."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except AttributeError:
        return {}
    return {"rss_mib": rss_mib(), **native_heap_mib()}


def object_types() -> Counter[str]:
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def checkpoint(complaints: int, folder: Path) -> tuple[dict[str, Any], Path | None, Counter[str]]:
    gc.collect()
    traced, _ = tracemalloc.get_traced_memory()
    types = object_types()
    figures = {
        "complaints": complaints,
        "rss_mib": rss_mib(),
        "threads": psutil.Process().num_threads(),
        **native_heap_mib(),
        **pymalloc_mib(),
        "traced_mib": round(traced / MIB, 2),
        "tracemalloc_own_mib": round(tracemalloc.get_tracemalloc_memory() / MIB, 1),
        "gc_objects": sum(types.values()),
    }
    if not tracemalloc.is_tracing():
        return figures, None, types
    # Taken last and kept on disk: a snapshot's copy of every trace is untraced memory of its
    # own (about 100 MiB), which would otherwise show as growth in the next checkpoint's RSS.
    dumped = folder / f"{complaints}.snapshot"
    tracemalloc.take_snapshot().dump(str(dumped))
    return figures, dumped, types


def growth_sites(
    before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, complaints: int, top: int
) -> list[dict[str, Any]]:
    """The allocation sites (full traceback) whose live memory grew most."""
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    ]
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "traceback")
    found = []
    for stat in [s for s in stats if s.size_diff > 0][:top]:
        found.append(
            {
                "grew_kib": round(stat.size_diff / 1024, 1),
                "bytes_per_complaint": round(stat.size_diff / complaints),
                "blocks_grew": stat.count_diff,
                "traceback": [f"{f.filename}:{f.lineno}" for f in stat.traceback],
            }
        )
    return found


def growth_types(before: Counter[str], after: Counter[str], top: int) -> dict[str, int]:
    grown = after.copy()
    grown.subtract(before)
    return {name: n for name, n in grown.most_common(top) if n > 0}


async def in_step(process: asyncio.subprocess.Process, total: int) -> None:
    """Ask the driver for ``total`` referred complaints; return once it has them."""
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(f"{total}\n".encode())
    await process.stdin.drain()
    while True:
        line = (await process.stdout.readline()).decode().strip()
        if not line:
            raise RuntimeError("the driver stopped")
        print(f"  driver: {line}", flush=True)
        if line == f"reached {total}":
            return


async def measure(
    connections: ConnectionSettings, task_queue: str, folder: Path, args: argparse.Namespace
) -> dict[str, Any]:
    from services.routing.app import create_app
    from services.routing.settings import RoutingSettings
    from slrt.telemetry import setup_telemetry

    settings = RoutingSettings(
        connections=connections.model_copy(
            update={"temporal_task_queue": task_queue, "log_level": "WARNING"}
        ),
        worker_max_cached_workflows=args.cached_workflows,
    )
    setup_telemetry("routing", settings.connections)
    app = create_app(settings)
    env = {**os.environ, **service_env(connections, SLRT_TEMPORAL_TASK_QUEUE=task_queue)}
    checkpoints: list[dict[str, Any]] = []
    async with app.router.lifespan_context(app):
        driver = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.routing_memory",
            "--drive",
            "--in-flight",
            str(args.in_flight),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        try:
            began = time.monotonic()
            for total in args.checkpoints:
                await in_step(driver, total)
                await asyncio.sleep(args.settle)  # the last transitions' workflow tasks finish
                figures, snapshot, types = checkpoint(total, folder)
                figures["seconds"] = round(time.monotonic() - began, 1)
                print(json.dumps(figures), flush=True)
                checkpoints.append({"figures": figures, "snapshot": snapshot, "types": types})
            trimmed = malloc_trim()
        except BaseException:
            driver.kill()  # interrupted: it would wait for a target forever
            raise
        finally:
            assert driver.stdin is not None
            driver.stdin.close()
            await driver.wait()
    return {**report(checkpoints, args.top), "after_malloc_trim": trimmed}


def report(checkpoints: list[dict[str, Any]], top: int) -> dict[str, Any]:
    steps = []
    for a, b in itertools.pairwise(checkpoints):
        fa, fb = a["figures"], b["figures"]
        n = fb["complaints"] - fa["complaints"]
        steps.append(
            {
                "from": fa["complaints"],
                "to": fb["complaints"],
                "rss_kib_per_complaint": round((fb["rss_mib"] - fa["rss_mib"]) * 1024 / n, 1),
                "traced_kib_per_complaint": round(
                    (fb["traced_mib"] - fa["traced_mib"]) * 1024 / n, 1
                ),
                "gc_objects_per_complaint": round((fb["gc_objects"] - fa["gc_objects"]) / n, 1),
            }
        )
    first, last = checkpoints[-2], checkpoints[-1]
    n = last["figures"]["complaints"] - first["figures"]["complaints"]
    return {
        "checkpoints": [c["figures"] for c in checkpoints],
        "growth": steps,
        "top_growing_sites": growth_sites(
            tracemalloc.Snapshot.load(str(first["snapshot"])),
            tracemalloc.Snapshot.load(str(last["snapshot"])),
            n,
            top,
        )
        if last["snapshot"] is not None
        else [],
        "top_growing_types": growth_types(first["types"], last["types"], top),
    }


def print_report(result: dict[str, Any]) -> None:
    for step in result["growth"]:
        print(json.dumps(step))
    print(f"after malloc_trim(0): {json.dumps(result['after_malloc_trim'])}")
    print("top growing allocation sites (last interval):")
    for site in result["top_growing_sites"]:
        print(
            f"  +{site['grew_kib']} KiB ({site['bytes_per_complaint']} B/complaint, "
            f"{site['blocks_grew']} blocks)"
        )
        for frame in site["traceback"]:
            print(f"      {frame}")
    print("top growing object types (last interval):")
    for name, count in result["top_growing_types"].items():
        print(f"  {name}: +{count}")


# --- The rest of the system, in a child process -------------------------------------------


class Driver:
    """Plays intake, the registry and the notifier for the routing service under test."""

    def __init__(self, connections: ConnectionSettings, in_flight: int) -> None:
        from slrt.kafka import EventProducer

        self.connections = connections
        self.producer = EventProducer(connections, source="/slrt/bench")
        self.slots = asyncio.Semaphore(in_flight)
        self.mine: set[str] = set()
        self.referred = 0
        self.target = 0
        self.reached = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.client: Any = None

    def spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def publish_catalog(self) -> None:
        from services.registry.domain.catalog import SEED, catalog_entry

        for code, spec in SEED.items():
            await self.producer.publish(catalog_entry(code, spec, 1), subject=code)

    async def submit(self) -> None:
        from opentelemetry import trace

        from slrt.contracts.events import Complainant, ComplaintSubmitted
        from slrt.contracts.vocabulary import Category, Channel

        await self.slots.acquire()
        complaint_id = uuid.uuid4()
        self.mine.add(str(complaint_id))
        event = ComplaintSubmitted(
            complaint_id=complaint_id,
            ticket_number=f"SLRT-3204-{complaint_id.hex[:8].upper()}",
            channel=Channel.PUSKESOS_WALK_IN,
            category=Category.IMPLEMENTATION,
            village_code=VILLAGE,
            program_code="BPNT",
            complainant=Complainant(name="Warga Uji Beban", village_code=VILLAGE),
            description="Bantuan BPNT tiga bulan terakhir belum diterima.",
            submitted_at=datetime.now(UTC),
            submitted_by="front_office-3204",
        )
        # Intake's outbox carries the trace context of the request that wrote the row.
        with trace.get_tracer("bench").start_as_current_span("POST /v1/complaints"):
            await self.producer.publish(event, subject=str(complaint_id))

    async def on_event(self, envelope: Any) -> None:
        from slrt.contracts.events import (
            ComplaintTransitioned,
            NotificationRequested,
            PrelistEntryRequested,
            RegistryCheckRequested,
        )

        handlers: dict[str, Callable[[Any], Awaitable[None]]] = {
            RegistryCheckRequested.event_type: self.registry_check,
            PrelistEntryRequested.event_type: self.prelist,
            NotificationRequested.event_type: self.deliver,
            ComplaintTransitioned.event_type: self.transitioned,
        }
        handler = handlers.get(envelope.type)
        if handler is not None and envelope.subject in self.mine:
            await handler(envelope)

    async def registry_check(self, envelope: Any) -> None:
        from slrt.contracts.events import RegistryCheckCompleted, RegistryCheckRequested

        asked = envelope.parse(RegistryCheckRequested)
        answer = RegistryCheckCompleted(
            request_id=asked.request_id, complaint_id=asked.complaint_id, found=False
        )
        await self.producer.publish(answer, subject=envelope.subject)

    async def prelist(self, envelope: Any) -> None:
        from slrt.contracts.events import PrelistEntryRequested, RegistryProposalUpdated

        asked = envelope.parse(PrelistEntryRequested)
        proposed = RegistryProposalUpdated(
            proposal_id=uuid.uuid4(),
            kind="prelist",
            complaint_id=asked.complaint_id,
            request_id=asked.request_id,
            status="proposed",
            at=datetime.now(UTC),
        )
        await self.producer.publish(proposed, subject=envelope.subject)

    async def deliver(self, envelope: Any) -> None:
        from slrt.contracts.events import NotificationDelivered, NotificationRequested

        asked = envelope.parse(NotificationRequested)
        delivered = NotificationDelivered(
            request_id=asked.request_id,
            complaint_id=asked.complaint_id,
            channel="lapor" if asked.kind.value == "referral" else "sms",
            delivered_at=datetime.now(UTC),
            external_ref=f"bench-{uuid.uuid4().hex[:12]}",
        )
        await self.producer.publish(delivered, subject=envelope.subject)

    async def transitioned(self, envelope: Any) -> None:
        from slrt.contracts.complaints import BackOfficeAction, ManagerDecision
        from slrt.contracts.events import ComplaintTransitioned

        moved = envelope.parse(ComplaintTransitioned)
        if moved.reason == "referral_delivered":
            self.referred += 1
            self.slots.release()
            if self.referred >= self.target:
                self.reached.set()
        elif moved.to_step == "back_office" and moved.from_step != "back_office":
            action = BackOfficeAction(
                actor=self.actor("back_office"),
                request_id=str(uuid.uuid4()),
                kind="refer",
                destination_program="BPNT",
            )
            self.spawn(self.update(envelope.subject, "back_office_action", action))
        elif moved.to_step == "manager_approval" and moved.from_step != "manager_approval":
            decision = ManagerDecision(
                actor=self.actor("manager"), request_id=str(uuid.uuid4()), decision="approve"
            )
            self.spawn(self.update(envelope.subject, "manager_decision", decision))

    @staticmethod
    def actor(role: str) -> Any:
        from slrt.auth.principal import Role
        from slrt.contracts.complaints import Actor

        return Actor(user_id=f"{role}-3204", role=Role(role), area="3204")

    async def update(self, complaint_id: str, name: str, action: Any) -> None:
        """Send the update the way intake forwards an action (retried while it does not fit
        yet, as a user would)."""
        from opentelemetry import trace
        from temporalio.client import WorkflowUpdateFailedError

        from slrt.contracts.temporal import complaint_workflow_id

        handle = self.client.get_workflow_handle(complaint_workflow_id(complaint_id))
        for _ in range(50):
            try:
                with trace.get_tracer("bench").start_as_current_span(f"POST {name}"):
                    await handle.execute_update(name, action, id=action.request_id)
                return
            except WorkflowUpdateFailedError:
                await asyncio.sleep(0.2)
        print(f"update {name} never accepted", file=sys.stderr, flush=True)

    async def consume(self) -> None:
        from aiokafka import AIOKafkaConsumer

        from slrt.contracts.envelope import from_kafka
        from slrt.contracts.topics import Topic
        from slrt.kafka import client_options

        consumer = AIOKafkaConsumer(
            Topic.REGISTRY_REQUESTS,
            Topic.NOTIFICATION_REQUESTS,
            Topic.COMPLAINT_LIFECYCLE,
            **client_options(self.connections),
            group_id=f"bench-driver-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            async for record in consumer:
                envelope = from_kafka(record.key, record.headers, record.value)
                await self.on_event(envelope)
        finally:
            await consumer.stop()

    async def run(self) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider

        from slrt import temporal

        trace.set_tracer_provider(TracerProvider())
        self.client = await temporal.connect(self.connections)
        await self.producer.start()
        try:
            await self.publish_catalog()
            consuming = asyncio.create_task(self.consume())
            consuming.add_done_callback(_exit_on_failure)
            submitted = 0
            while line := await asyncio.to_thread(sys.stdin.readline):
                self.target = int(line)
                self.reached.clear()
                while submitted < self.target:
                    await self.submit()
                    submitted += 1
                await self.reached.wait()
                print(f"reached {self.target}", flush=True)
            consuming.cancel()
            await asyncio.gather(consuming, return_exceptions=True)
        finally:
            await self.producer.stop()


async def drive(in_flight: int) -> None:
    # aiokafka objects must be made inside the running loop.
    await Driver(ConnectionSettings(), in_flight).run()


def _exit_on_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        print(f"driver failed: {task.exception()!r}", file=sys.stderr, flush=True)
        os._exit(1)  # the measuring process sees the pipe close


# --- Command --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_memory")
    parser.add_argument(
        "--checkpoints",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[100, 200, 600],
        help="complaints referred at each measurement (comma-separated, increasing)",
    )
    parser.add_argument("--cached-workflows", type=int, default=20)
    parser.add_argument("--in-flight", type=int, default=10, help="complaints moving at once")
    parser.add_argument(
        "--frames", type=int, default=12, help="tracemalloc traceback depth (0: tracemalloc off)"
    )
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.drive:
        asyncio.run(drive(args.in_flight))
        return 0
    if args.frames:
        tracemalloc.start(args.frames)
    with (
        real_stack() as (_, connections),
        tempfile.TemporaryDirectory(prefix="slrt-snapshots-") as snapshots,
    ):
        task_queue = f"complaints-{uuid.uuid4().hex[:8]}"
        result = asyncio.run(measure(connections, task_queue, Path(snapshots), args))
    print_report(result)
    result.update(
        cached_workflows=args.cached_workflows,
        in_flight=args.in_flight,
        tracemalloc_frames=args.frames,
    )
    print(f"written {write_result('routing_memory', result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
