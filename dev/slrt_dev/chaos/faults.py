"""The faults, each injected into the running stack while its batch of complaints goes
through. Stack operations block (subprocesses, readiness waits), so they run in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx
import psutil

from slrt_dev.chaos.driver import Plan
from slrt_dev.stack.cli import Stack
from slrt_dev.stack.process import ManagedProcess

RETRY_SCHEDULE = (2.0, 4.0, 8.0)
"""The notifier's retry delays on the chaos stack: a horizon of about 14 s instead of ~27 h."""
LAPOR_DOWN_SECONDS = sum(RETRY_SCHEDULE) + 16
KAFKA_DOWN_SECONDS = 30.0
OVERLOAD_SECONDS = 90.0
OVERLOAD_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Fault:
    name: str
    information: int
    """Information requests in its batch (closed at registration)."""
    referrals: int
    """Complaints referred to LAPOR! in its batch."""
    spread: float
    """Seconds over which the batch's submissions are spread (0: one burst)."""
    inject: Callable[[Stack, list[Plan]], Coroutine[Any, Any, str]]
    """Breaks and heals the stack while the batch runs; returns a note for the table."""
    offline_batch: bool = False
    """The batch is one tablet sync, sent twice at once, instead of single submissions."""

    def plans(self) -> list[Plan]:
        return [Plan("information") for _ in range(self.information)] + [
            Plan("referral") for _ in range(self.referrals)
        ]


def kill9(part: ManagedProcess) -> None:
    """SIGKILL the process and its children, no warning; its PID file goes as a crash leaves
    it (stale, ignored by ``start``)."""
    proc = part.pid_file.process()
    if proc is None:
        raise RuntimeError(f"{part.name} is not running")
    group = [proc, *proc.children(recursive=True)]
    for p in group:
        with contextlib.suppress(psutil.NoSuchProcess):
            os.kill(p.pid, signal.SIGKILL)
    psutil.wait_procs(group, timeout=10)
    part.pid_file.remove()


def service(stack: Stack, name: str) -> ManagedProcess:
    return next(s for s in stack.services if s.name == name)


def standin(stack: Stack, name: str) -> ManagedProcess:
    return next(s for s in stack.standins if s.name == f"standin-{name}")


async def _until(check: Callable[[], bool], timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if check():
            return
        await asyncio.sleep(0.2)


async def kill_routing_mid_step(stack: Stack, plans: list[Plan]) -> str:
    # Mid-step: once every complaint is in, while their workflows run their activities.
    await _until(lambda: all(p.complaint_ids for p in plans), 60)
    await asyncio.sleep(1.0)
    routing = service(stack, "routing")
    await asyncio.to_thread(kill9, routing)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(routing.start)
    return "routing killed (SIGKILL) with every workflow in flight, restarted after 1 s"


async def kafka_down(stack: Stack, plans: list[Plan]) -> str:
    await asyncio.sleep(3.0)
    await asyncio.to_thread(stack.kafka.stop)
    await asyncio.sleep(KAFKA_DOWN_SECONDS)
    await asyncio.to_thread(stack.kafka.start)
    return f"Kafka stopped {KAFKA_DOWN_SECONDS:.0f} s while submissions went on"


async def postgres_restart(stack: Stack, plans: list[Plan]) -> str:
    await asyncio.sleep(3.0)
    await asyncio.to_thread(stack.postgres.stop)
    await asyncio.sleep(3.0)
    await asyncio.to_thread(stack.postgres.start)
    return "PostgreSQL stopped (fast mode) for 3 s and started again"


async def lapor_down(stack: Stack, plans: list[Plan]) -> str:
    lapor = standin(stack, "lapor")
    await asyncio.to_thread(lapor.stop)
    await asyncio.sleep(LAPOR_DOWN_SECONDS)
    await asyncio.to_thread(lapor.start)
    return f"LAPOR! down {LAPOR_DOWN_SECONDS:.0f} s (retry horizon {sum(RETRY_SCHEDULE):.0f} s)"


async def lapor_overloaded_past_expiry(stack: Stack, plans: list[Plan]) -> str:
    # Up, but refusing every report with 503 and a long Retry-After: the notifier's next
    # attempt comes after the workflow's referral clock (40,000× real time) has expired the
    # referral as no_response. That delivery must be cancelled, never filed at LAPOR! later.
    control = f"{standin(stack, 'lapor').url}/_control/availability"
    async with httpx.AsyncClient(timeout=10) as http:
        refusing = {"status": 503, "retry_after": int(OVERLOAD_RETRY_AFTER)}
        (await http.put(control, json=refusing)).raise_for_status()
        await asyncio.sleep(OVERLOAD_SECONDS)
        (await http.put(control, json={"status": 200})).raise_for_status()
    return (
        f"LAPOR! answered 503 (Retry-After {OVERLOAD_RETRY_AFTER:.0f} s) for "
        f"{OVERLOAD_SECONDS:.0f} s, past the referrals' expiry"
    )


async def kill_intake_after_burst(stack: Stack, plans: list[Plan]) -> str:
    await _until(lambda: all(p.complaint_ids for p in plans), 60)
    intake = service(stack, "intake")
    await asyncio.to_thread(kill9, intake)  # the relay may hold committed, unpublished rows
    await asyncio.sleep(1.0)
    await asyncio.to_thread(intake.start)
    return "intake killed (SIGKILL) right after the burst's 202s, restarted after 1 s"


async def nothing_broken(stack: Stack, plans: list[Plan]) -> str:
    return "one tablet batch sent twice at once"


async def temporal_restart(stack: Stack, plans: list[Plan]) -> str:
    await asyncio.sleep(3.0)
    await asyncio.to_thread(stack.temporal.stop)
    await asyncio.sleep(2.0)
    await asyncio.to_thread(stack.temporal.start)
    return "Temporal server stopped and started again on its SQLite file"


FAULTS: tuple[Fault, ...] = (
    Fault("kill -9 routing mid-step", 2, 4, 2.0, kill_routing_mid_step),
    Fault("Kafka down 30 s", 4, 3, 35.0, kafka_down),
    Fault("PostgreSQL restart", 3, 3, 10.0, postgres_restart),
    Fault("LAPOR! down for the retry horizon", 0, 4, 2.0, lapor_down),
    Fault("LAPOR! 503 past the referral's expiry", 0, 3, 2.0, lapor_overloaded_past_expiry),
    Fault("kill -9 intake after a burst", 5, 3, 0.0, kill_intake_after_burst),
    Fault("offline batch sent twice", 6, 0, 0.0, nothing_broken, offline_batch=True),
    Fault("Temporal server restart", 3, 3, 8.0, temporal_restart),
)
