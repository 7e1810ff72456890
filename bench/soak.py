"""Benchmark (not a test): a soak. Steady load at half the measured capacity (from
``bench/results/routing_e2e.json``, or ``--rate``) through the four services as separate
processes — each complaint submitted, referred, approved and delivered to the LAPOR! stand-in —
with every minute each service's resident memory and the summed Kafka consumer lag (from the
services' ``/metrics``) recorded. A leak shows as memory growing minute after minute; a service
that cannot keep up as lag growing.

    .venv/bin/python -m bench.soak [--minutes 30] [--rate R] [--cached-workflows N]

Prints one line a minute, writes ``bench/results/soak.json``. Never asserts anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._hops import Marks
from bench._stack import RESULTS, real_stack, write_result
from bench.routing_e2e import real_complaint
from slrt_dev.sandbox.processes import SERVICES, Stack, standin, start_services


def capacity_rate() -> float | None:
    found = RESULTS / "routing_e2e.json"
    if not found.exists():
        return None
    measured: float = json.loads(found.read_text())["complaint_path"]["complaints_per_second"]
    return measured / 2


def service_memory() -> dict[str, float]:
    """Resident memory (MiB) of each service process this benchmark started."""
    found: dict[str, float] = {}
    for child in psutil.Process().children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            rss = child.memory_info().rss
        except psutil.Error:
            continue
        for name in SERVICES:
            if f"services.{name}" in command:
                found[name] = round(rss / 2**20, 1)
    return found


async def consumer_lag(http: httpx.AsyncClient, services: Stack) -> float:
    lag = 0.0
    for url in services.urls.values():
        text = (await http.get(f"{url}/metrics")).text
        for line in text.splitlines():
            if line.startswith("slrt_kafka_consumer_lag{"):
                lag += float(line.rsplit(" ", 1)[1])
    return lag


async def soak(services: Stack, minutes: int, rate: float) -> dict[str, Any]:
    samples: list[dict[str, Any]] = []
    failures = 0
    why_failed: list[dict[str, Any]] = []
    completed = 0
    in_flight: set[asyncio.Task[tuple[float, str, Marks]]] = set()
    async with (
        httpx.AsyncClient(base_url=services.urls["intake"], timeout=60) as http,
        httpx.AsyncClient(timeout=10) as scraper,
    ):

        def settled(task: asyncio.Task[tuple[float, str, Marks]]) -> None:
            nonlocal failures, completed
            in_flight.discard(task)
            if task.cancelled() or task.exception() is not None:
                failures += 1
                # What went wrong, for the record (tickets and ids only, never personal data).
                error = None if task.cancelled() else task.exception()
                why_failed.append(
                    {
                        "minute": int((time.monotonic() - began) // 60) + 1,
                        "error": type(error).__name__ if error else "cancelled",
                        "detail": str(error)[:300] if error else "",
                        "load_average_1min": round(os.getloadavg()[0], 2),
                    }
                )
            else:
                completed += 1

        began = time.monotonic()
        next_sample = began + 60
        submitted = 0
        while time.monotonic() - began < minutes * 60:
            # Open-loop arrivals at a steady rate: a slow system does not slow the load down.
            due = began + submitted / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            task = asyncio.create_task(real_complaint(http, services))
            task.add_done_callback(settled)
            in_flight.add(task)
            submitted += 1
            if time.monotonic() >= next_sample:
                next_sample += 60
                sample = {
                    "minute": len(samples) + 1,
                    "rss_mib": service_memory(),
                    "consumer_lag": await consumer_lag(scraper, services),
                    "submitted": submitted,
                    "completed": completed,
                    "in_flight": len(in_flight),
                    "failed": failures,
                    "load_average_1min": round(os.getloadavg()[0], 2),
                }
                samples.append(sample)
                print(json.dumps(sample), flush=True)
        await asyncio.gather(*in_flight, return_exceptions=True)
    return {
        "minutes": minutes,
        "rate_per_second": rate,
        "submitted": submitted,
        "completed": completed,
        "failed": failures,
        "failures": why_failed,
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--rate", type=float, help="complaints per second (default: half capacity)")
    parser.add_argument(
        "--cached-workflows",
        type=int,
        default=100,
        help="routing's SLRT_ROUTING_WORKER_MAX_CACHED_WORKFLOWS (default 100: small enough "
        "for the cache to fill within minutes, so a leak beyond it shows)",
    )
    args = parser.parse_args(argv)
    rate = args.rate or capacity_rate()
    if not rate:
        parser.error("no --rate and no bench/results/routing_e2e.json to take half capacity from")
    with real_stack() as (_, connections), tempfile.TemporaryDirectory() as logs:
        log_dir = Path(logs)
        with ExitStack() as running:
            lapor = running.enter_context(standin("lapor", log_dir))
            services_stack, services = start_services(
                connections,
                log_dir,
                SLRT_NOTIFIER_LAPOR_URL=f"http://127.0.0.1:{lapor}",
                SLRT_LOG_LEVEL="WARNING",
                SLRT_ROUTING_WORKER_MAX_CACHED_WORKFLOWS=str(args.cached_workflows),
            )
            running.enter_context(services_stack)
            result = asyncio.run(soak(services, args.minutes, rate))
            result["routing_max_cached_workflows"] = args.cached_workflows
    out = write_result(f"soak_{args.minutes}min", result)
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
