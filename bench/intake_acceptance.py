"""Benchmark (not a test): complaints accepted per second by intake and p50/p99 latency at 16
and 64 concurrent clients, as ratios to a bare FastAPI + asyncpg endpoint inserting the same
row, measured in the same run against the same PostgreSQL.

    .venv/bin/python -m bench.intake_acceptance [--requests 1500] [--profile]

With ``--profile`` it then records where intake's process spends its time under 16 clients
(py-spy, sampling, idle frames dropped) and writes the collapsed stacks to
``bench/results/intake_profile.txt`` and the heaviest functions to the JSON.

Both servers get the same warm-up (``--warmup`` requests each) and the first level starts once
the stack is calm; each load also reports the CPU milliseconds per accepted request of every
process of the run (``bench._cpu``: the load generator, the servers, their PostgreSQL backends,
Kafka), which a shared machine disturbs far less than the throughput.

Intake runs as its own process (``python -m services.intake``: token verification, validation,
idempotency, ticket counter, complaint + status + outbox rows in one transaction, the outbox
relay publishing to Kafka); the baseline (``bench/_bare_intake.py``) too. Prints the figures and
writes ``bench/results/intake_acceptance.json``. Never asserts times.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench._cpu import CpuWatch
from bench._stack import RESULTS, latency, real_stack, service_env, write_result
from slrt_dev.sandbox.processes import dev_issuer, service_process
from slrt_dev.stack.process import free_port

CONCURRENCY = (16, 64)
BODY = {
    "channel": "puskesos_walk_in",
    "village_code": "3204052001",
    "complainant": {"name": "Warga Uji Beban", "phone": "081234567890"},
    "category": "implementation",
    "program_code": "PKH",
    "description": "Bantuan PKH tahap 3 belum diterima.",
}


async def load(url: str, headers: dict[str, str], clients: int, requests: int) -> dict[str, Any]:
    """``requests`` submissions by ``clients`` concurrent clients; accepted/s and latency.

    Each client has a connection of its own (an ``httpx.AsyncClient`` limited to one), as
    ``clients`` separate callers would. One pool shared by all of them (httpcore's) is not a
    neutral client: each finished response reassigns every waiting request to the same first
    idle connection, all but one are woken for nothing and queue again, so only a handful of
    requests are at the server at a time while the other connections sit idle until their
    5 s keep-alive expires and are opened again. How much of that a run suffers depends on the
    server's latency, so it penalised the slower server more (see docs/benchmarks.md, Intake).
    """
    samples: list[float] = []
    refused = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal refused
        while not queue.empty():
            queue.get_nowait()
            began = time.perf_counter()
            response = await http.post(
                "/v1/complaints",
                json=BODY,
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            if response.status_code == 202:
                samples.append(time.perf_counter() - began)
            else:
                refused += 1

    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    # One TLS context for all (unused over http://, but each client would build its own).
    tls = ssl.create_default_context()
    async with AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=60, limits=one, verify=tls)
            )
            for _ in range(clients)
        ]
        await https[0].post(
            "/v1/complaints",
            json=BODY,
            headers={**headers, "Idempotency-Key": f"warm-{uuid.uuid4()}"},
        )
        began = time.perf_counter()
        await asyncio.gather(*(client(http) for http in https))
        wall = time.perf_counter() - began
    return {
        "clients": clients,
        "accepted": len(samples),
        "refused": refused,
        "accepted_per_second": round(len(samples) / wall, 1),
        **latency(samples),
    }


def _group(process: psutil.Process) -> str | None:
    """The CPU group of a descendant of the benchmark (``bench._cpu``)."""
    line = " ".join(process.cmdline())
    for needle, group in (
        ("services.intake", "intake"),
        ("bench._bare_intake", "bare endpoint"),
        ("py-spy", None),
        ("kafka", "kafka"),
        ("temporal", "temporal"),
    ):
        if needle in line:
            return group
    return "other"


def measured(
    watch: CpuWatch, url: str, headers: dict[str, str], clients: int, requests: int
) -> dict[str, Any]:
    """:func:`load`, with the CPU seconds each process group spent while it ran, and the CPU
    milliseconds per accepted request."""
    before = watch.snapshot()
    result = asyncio.run(load(url, headers, clients, requests))
    cpu = CpuWatch.since(before, watch.snapshot())
    accepted = max(1, result["accepted"])
    return {
        **result,
        "cpu_seconds": cpu,
        "cpu_ms_per_accepted": {g: round(1000 * s / accepted, 2) for g, s in cpu.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_acceptance")
    parser.add_argument("--requests", type=int, default=1500, help="per concurrency level")
    parser.add_argument("--profile", action="store_true", help="py-spy intake under 16 clients")
    parser.add_argument(
        "--profile-requests", type=int, default=3000, help="requests while py-spy samples"
    )
    parser.add_argument(
        "--warmup", type=int, default=100, help="requests to each server before measuring"
    )
    parser.add_argument(
        "--intake-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra setting for intake's process, e.g. SLRT_INTAKE_MANAGEMENT_PORT=PORT "
        "(as the Helm chart runs it); none by default",
    )
    args = parser.parse_args(argv)
    intake_env = dict(e.split("=", 1) for e in args.intake_env)
    with real_stack() as (_, connections), tempfile.TemporaryDirectory() as logs:
        log_dir = Path(logs)
        issuer = dev_issuer(log_dir)
        token = issuer.token("bench-front-office", ["front_office"], "3204")
        headers = {"Authorization": f"Bearer {token}"}
        env = service_env(connections, **intake_env)
        port = free_port()
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench._bare_intake",
                connections.postgres_dsn.get_secret_value(),
                str(port),
            ]
        )
        try:
            with service_process("intake", env, log_dir) as intake_url:
                bare_url = f"http://127.0.0.1:{port}"
                _wait(bare_url)
                levels = []
                profile: dict[str, Any] = {}
                watch = CpuWatch(connections.postgres_dsn.get_secret_value(), _group)
                # The same warm-up for both (intake's first submissions also pay the broker's
                # first produce, its consumers join their groups meanwhile), then measure
                # once the stack is calm.
                for url, auth in ((intake_url, headers), (bare_url, {})):
                    asyncio.run(load(url, auth, CONCURRENCY[0], args.warmup))
                settled = watch.settle()
                for n, clients in enumerate(CONCURRENCY):
                    # Alternate which goes first so that neither always meets a warmer cache.
                    if n % 2 == 0:
                        intake = measured(watch, intake_url, headers, clients, args.requests)
                        baseline = measured(watch, bare_url, {}, clients, args.requests)
                    else:
                        baseline = measured(watch, bare_url, {}, clients, args.requests)
                        intake = measured(watch, intake_url, headers, clients, args.requests)
                    levels.append(
                        {
                            "clients": clients,
                            "intake": intake,
                            "bare_fastapi_asyncpg": baseline,
                            "throughput_ratio": round(
                                intake["accepted_per_second"] / baseline["accepted_per_second"], 3
                            ),
                            "p50_ratio": round(intake["p50_ms"] / baseline["p50_ms"], 2),
                            "p99_ratio": round(intake["p99_ms"] / baseline["p99_ms"], 2),
                        }
                    )
                    print(_line(levels[-1]))
                    print(_cpu_line("intake", intake))
                    print(_cpu_line("bare", baseline))
                if args.profile:
                    profile = _profile(intake_url, headers, args.profile_requests)
        finally:
            bare.terminate()
            bare.wait(10)
    result: dict[str, Any] = {
        "requests_per_level": args.requests,
        "warmup_requests": args.warmup,
        "intake_env": intake_env,
        "settled_seconds": settled,
        "levels": levels,
    }
    if args.profile:
        result["profile_16_clients"] = profile
    out = write_result("intake_acceptance", result)
    print(f"written {out}")
    return 0


def _profile(url: str, headers: dict[str, str], requests: int) -> dict[str, Any]:
    """Sample intake's process with py-spy while 16 clients submit; the heaviest functions by
    their share of the samples (inclusive), and the collapsed stacks in a file."""
    intake = next(
        p
        for p in psutil.Process().children(recursive=True)
        if "services.intake" in " ".join(p.cmdline())
    )
    stacks = RESULTS / "intake_profile.txt"
    RESULTS.mkdir(exist_ok=True)
    spy = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "--pid",
            str(intake.pid),
            "--format",
            "raw",
            "--rate",
            "200",
            "--output",
            str(stacks),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2)  # py-spy attaches
    asyncio.run(load(url, headers, 16, requests))
    spy.send_signal(signal.SIGINT)
    spy.wait(60)
    return heaviest(stacks.read_text())


def heaviest(collapsed: str, top: int = 25) -> dict[str, Any]:
    """Inclusive share of samples per function (``name (file)``) from collapsed stacks."""
    total = 0
    inclusive: Counter[str] = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = {
            f.split(":")[0] + ":" + f.split(":")[1] if ":" in f else f for f in stack.split(";")
        }
        for frame in frames:
            inclusive[frame] += n
    return {
        "samples": total,
        "inclusive_share": {f: round(n / total, 3) for f, n in inclusive.most_common(top)},
    }


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/docs", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the bare endpoint did not start")


def _line(level: dict[str, Any]) -> str:
    i, b = level["intake"], level["bare_fastapi_asyncpg"]
    return (
        f"{level['clients']:>3} clients: intake {i['accepted_per_second']}/s "
        f"p50 {i['p50_ms']} ms p99 {i['p99_ms']} ms | bare {b['accepted_per_second']}/s "
        f"p50 {b['p50_ms']} ms p99 {b['p99_ms']} ms | throughput x{level['throughput_ratio']}"
    )


def _cpu_line(name: str, run: dict[str, Any]) -> str:
    shares = ", ".join(f"{g} {ms}" for g, ms in run["cpu_ms_per_accepted"].items())
    return f"      {name} run, CPU ms per accepted request: {shares}"


if __name__ == "__main__":
    sys.exit(main())
