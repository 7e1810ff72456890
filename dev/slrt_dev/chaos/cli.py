"""``slrt-chaos`` (``make chaos``): the standing fault suite. Starts a local stack of its own
(its own data folder and ports, so it runs beside ``make up``), then for each fault drives a
batch of complaints through while the fault is injected and healed, and accounts for every
complaint: at its expected end exactly once, one workflow, one LAPOR! report per delivered
referral and none for a referral that no longer waits, no new dead letters, and the clients saw
answers or a 503 with Retry-After (never a hang or a 500). Prints the accounting table; exits
non-zero if any complaint was lost, doubled or stuck, or any of the rest did not hold."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Coroutine, Iterable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from rich.console import Console
from rich.table import Table
from temporalio.client import Client as TemporalClient
from temporalio.service import RPCError

from slrt.contracts.temporal import complaint_workflow_id
from slrt.contracts.topics import DEAD_LETTER_SUFFIX
from slrt_dev.chaos.accounting import (
    Calls,
    Row,
    Seen,
    referral_summary,
    row,
    stray_reports,
)
from slrt_dev.chaos.driver import Client, Plan
from slrt_dev.chaos.faults import FAULTS, RETRY_SCHEDULE, Fault
from slrt_dev.stack.config import REPO_ROOT

console = Console(width=max(Console().width, 200))

CHAOS_STACK = {
    "SLRT_STACK_DATA_DIR": str(REPO_ROOT / ".slrt-chaos"),
    "SLRT_STACK_POSTGRES_PORT": "25432",
    "SLRT_STACK_KAFKA_PORT": "29092",
    "SLRT_STACK_KAFKA_CONTROLLER_PORT": "29093",
    "SLRT_STACK_TEMPORAL_PORT": "27233",
    "SLRT_STACK_TEMPORAL_UI_PORT": "28233",
    "SLRT_STACK_INTAKE_PORT": "28001",
    "SLRT_STACK_REGISTRY_PORT": "28002",
    "SLRT_STACK_NOTIFIER_PORT": "28003",
    "SLRT_STACK_ROUTING_PORT": "28004",
    "SLRT_STACK_DASHBOARD_PORT": "28005",
    "SLRT_STACK_CONSOLE_PORT": "28006",
    "SLRT_STACK_WEBHOOK_RECEIVER_PORT": "28090",
    "SLRT_STACK_LAPOR_PORT": "28091",
    "SLRT_STACK_SIKS_NG_PORT": "28092",
    "SLRT_STACK_SMS_GATEWAY_PORT": "28093",
    "SLRT_STACK_SMTP_SINK_PORT": "28025",
    "SLRT_STACK_SMTP_SINK_HTTP_PORT": "28026",
}
"""The chaos stack's folder and ports (each ``SLRT_STACK_*`` set in the environment wins)."""

NOTIFIER = {
    "SLRT_NOTIFIER_RETRY_SCHEDULE_SECONDS": json.dumps(list(RETRY_SCHEDULE)),
    "SLRT_NOTIFIER_BREAKER_COOLDOWN_SECONDS": "3",
    "SLRT_NOTIFIER_DESTINATION_PROBE_SECONDS": "2",
    "SLRT_NOTIFIER_LAPOR_POLL_SECONDS": "1",
}
"""A short retry horizon, so the LAPOR! fault outlasts it within the run."""

SETTLE_SECONDS = 240.0
"""How long after its fault healed a batch may take to reach its ends before it counts stuck."""


def configure() -> None:
    from slrt_dev.stack.config import StackSettings

    # The Kafka jars the default stack already fetched serve this one too.
    os.environ.setdefault("SLRT_STACK_CACHE_DIR", str(StackSettings().cache))
    for key, value in CHAOS_STACK.items():
        os.environ.setdefault(key, value)


async def dead_letters(bootstrap: str) -> int:
    """Messages on every dead-letter topic so far (the sum of their end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=15_000)
    await consumer.start()
    try:
        topics = [t for t in await consumer.topics() if t.endswith(DEAD_LETTER_SUFFIX)]
        partitions = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        if not partitions:
            return 0
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()


async def lapor_reports(client: Client) -> Counter[str]:
    found = await client.http.get(f"{client.urls['lapor']}/_received")
    found.raise_for_status()
    return Counter(r["referensi_eksternal"] for r in found.json())


async def observe(client: Client, temporal: TemporalClient, plan: Plan) -> Seen:
    seen = Seen(plan.key, plan.expected_outcome, set(plan.complaint_ids))
    if len(plan.complaint_ids) != 1:
        return seen
    try:
        await _observe(client, temporal, next(iter(plan.complaint_ids)), seen)
    except (httpx.HTTPError, RPCError) as exc:  # what cannot be read counts against it
        seen.unreadable = f"{type(exc).__name__}"
    return seen


async def _observe(client: Client, temporal: TemporalClient, complaint_id: str, seen: Seen) -> None:
    read = await client.http.get(
        f"{client.urls['intake']}/v1/complaints/{complaint_id}", headers=client.auth("manager")
    )
    if read.status_code == 200:
        complaint = read.json()
        seen.step, seen.outcome = complaint["step"], complaint["outcome"]
        timeline = complaint["timeline"] or []
        seen.closings = sum(1 for t in timeline if t["to_step"] == "closed")
        seen.reasons = Counter(t["reason"] for t in timeline if t["reason"])
    counted = await temporal.count_workflows(
        f"WorkflowId = '{complaint_workflow_id(complaint_id)}'"
    )
    seen.workflows = counted.count
    deliveries = await client.http.get(
        f"{client.urls['notifier']}/v1/deliveries",
        params={"complaint_id": complaint_id},
        headers=client.auth("manager"),
    )
    items = deliveries.json()["items"] if deliveries.status_code == 200 else []
    for delivery in items:
        if delivery["kind"] != "referral" or not delivery["referral_id"]:
            continue
        seen.referral_statuses[delivery["status"]] += 1
        if delivery["status"] == "delivered":
            seen.referrals_delivered.append(delivery["referral_id"])
        else:
            seen.referrals_not_delivered.append(delivery["referral_id"])


async def run_fault(
    fault: Fault, stack: object, client: Client, temporal: TemporalClient, serial: int
) -> tuple[Row, list[Plan]]:
    from slrt_dev.stack.cli import Stack

    assert isinstance(stack, Stack)
    bootstrap = stack.settings.kafka_bootstrap
    before = await dead_letters(bootstrap)
    client.calls = calls = Calls()
    plans = fault.plans()
    began = time.monotonic()
    loop = asyncio.get_running_loop()
    settle_by = [math.inf]  # set once the fault has healed

    def deadline() -> float:
        return settle_by[0]

    async def one(i: int, plan: Plan) -> None:
        # Submitted, then driven at once: staff act while the fault is on.
        await asyncio.sleep(fault.spread * i / max(1, len(plans)))
        await client.submit(plan, serial + i, deadline)
        await client.drive(plan, deadline)

    async def offline() -> None:
        # The same batch from two connections at once (a tablet's retry racing its original).
        answers = await asyncio.gather(
            client.submit_batch(plans, serial), client.submit_batch(plans, serial)
        )
        for answer in answers:
            if answer is None or answer.status_code != 200:
                continue
            for item in answer.json()["items"]:
                if item["complaint"]:
                    for plan in plans:
                        if plan.key == item["client_id"]:
                            plan.complaint_ids.add(item["complaint"]["complaint_id"])
        await asyncio.gather(*(client.drive(p, deadline) for p in plans))

    injected = asyncio.create_task(fault.inject(stack, plans))
    batch = asyncio.create_task(
        offline() if fault.offline_batch else _all(one(i, p) for i, p in enumerate(plans))
    )
    broke: list[str] = []
    try:
        note = await injected
    except Exception as exc:  # the batch still settles; the row says what broke and fails
        note = f"injecting the fault failed: {exc!r}"
        broke.append("the fault's injection")
    settle_by[0] = loop.time() + SETTLE_SECONDS
    await batch
    stopped = broke + [p.name for p in [*stack.services, *stack.standins] if p.pid() is None]
    for part in [*stack.services, *stack.standins]:
        if part.name in stopped:  # started again, so that the next faults find a whole stack
            await asyncio.to_thread(part.start)
    reports = await lapor_reports(client)
    seen = [await observe(client, temporal, p) for p in plans]
    after = await dead_letters(bootstrap)
    result = row(fault.name, seen, reports, after - before, calls, time.monotonic() - began)
    result.notes.insert(0, note)
    result.stopped = stopped
    if stopped:
        result.notes.append(f"found stopped after the fault: {', '.join(stopped)}")
    return result, plans


async def _all(coroutines: Iterable[Coroutine[Any, Any, None]]) -> None:
    await asyncio.gather(*coroutines)


async def run(stack: object, only: list[str]) -> list[Row]:
    from slrt_dev.issuer import default_issuer
    from slrt_dev.stack.cli import Stack

    assert isinstance(stack, Stack)
    s = stack.settings
    urls = {
        "intake": f"http://127.0.0.1:{s.intake_port}",
        "notifier": f"http://127.0.0.1:{s.notifier_port}",
        "lapor": f"http://127.0.0.1:{s.lapor_port}",
    }
    client = Client(urls, default_issuer())
    temporal = await TemporalClient.connect(s.temporal_address, namespace=s.temporal_namespace)
    rows: list[Row] = []
    all_plans: list[Plan] = []
    try:
        for n, fault in enumerate(FAULTS):
            if only and not any(o.lower() in fault.name.lower() for o in only):
                continue
            console.print(f"[bold]fault:[/] {fault.name}")
            try:
                result, plans = await run_fault(fault, stack, client, temporal, 1000 * (n + 1))
            except Exception as exc:  # the run goes on: the row says what broke
                rows.append(
                    Row(fault.name, 0, 0, 0, 0, 0, 0, Calls(), 0.0, [f"the run broke: {exc!r}"])
                )
                console.print(f"  [red]the run broke:[/] {exc!r}")
                continue
            all_plans += plans
            rows.append(result)
            console.print(
                f"  {result.as_expected}/{result.complaints} as expected "
                f"in {result.seconds:.0f} s; clients: {result.calls}"
            )
        reports = await lapor_reports(client)
        referrals: set[str] = set()
        for plan in all_plans:
            seen = await observe(client, temporal, plan)
            referrals |= set(seen.referrals_delivered) | set(seen.referrals_not_delivered)
        stray = stray_reports(reports, referrals)
        if stray and rows:
            rows[-1].notes.append(f"{stray} LAPOR! reports name no referral of this run")
            rows[-1].doubled += stray
            rows[-1].as_expected -= min(stray, rows[-1].as_expected)
    finally:
        await client.close()
    return rows


def table(rows: list[Row]) -> Table:
    out = Table(title="make chaos — every complaint accounted for")
    for column in (
        "fault",
        "complaints",
        "as expected",
        "lost",
        "doubled",
        "stuck",
        "new DLQ",
        "clients saw",
        "referrals",
        "time",
        "result",
    ):
        out.add_column(column, overflow="fold")
    for r in rows:
        out.add_row(
            r.fault,
            str(r.complaints),
            str(r.as_expected),
            str(r.lost),
            str(r.doubled),
            str(r.stuck),
            str(r.new_dead_letters),
            str(r.calls),
            referral_summary(r.referrals),
            f"{r.seconds:.0f} s",
            "[green]pass[/]" if r.passed else "[red]FAIL[/]",
        )
    out.add_row(
        "all",
        str(sum(r.complaints for r in rows)),
        str(sum(r.as_expected for r in rows)),
        str(sum(r.lost for r in rows)),
        str(sum(r.doubled for r in rows)),
        str(sum(r.stuck for r in rows)),
        str(sum(r.new_dead_letters for r in rows)),
        "",
        referral_summary(sum((r.referrals for r in rows), Counter())),
        f"{sum(r.seconds for r in rows):.0f} s",
        "[green]pass[/]" if rows and all(r.passed for r in rows) else "[red]FAIL[/]",
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slrt-chaos", description=__doc__)
    parser.add_argument("--only", action="append", default=[], help="run faults naming this")
    parser.add_argument("--keep", action="store_true", help="leave the chaos stack running")
    args = parser.parse_args(argv)
    configure()
    from slrt_dev.stack.cli import Stack
    from slrt_dev.stack.config import StackSettings
    from slrt_dev.stack.process import StackError

    settings = StackSettings()
    stack = Stack(settings)
    stack.down()  # what a previous run left behind, then a fresh folder: a clean count
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    for part in stack.services:
        if part.name == "notifier":
            part.env.update(NOTIFIER)
    began = time.monotonic()
    try:
        console.print(f"[bold]Chaos stack[/] in {settings.data_dir}")
        stack.up(with_demo=False)
        rows = asyncio.run(run(stack, args.only))
    except StackError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    finally:
        if not args.keep:
            stack.down()
    console.print(table(rows))
    for r in rows:
        for note in r.notes:
            console.print(f"  {r.fault}: {note}")
    console.print(f"chaos run: {time.monotonic() - began:.0f} s")
    return 0 if rows and all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
