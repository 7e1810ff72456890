"""The four services as separate processes on the real stack, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from slrt.auth.dev_issuer import DevIssuer
from slrt.contracts.topics import ALL_TOPICS, dead_letter_topic
from slrt.devstack.config import REPO_ROOT
from slrt.devstack.process import free_port
from slrt.settings import ConnectionSettings
from tests.support.harness import TEST_NAMESPACE, RealStack
from tests.support.services import dev_issuer, service_process

WEBHOOK_KEY = "whsec_" + "ZTJlLXByb2dyYW0tbWFuYWdlci1rZXktMDEyMzQ1Njc="
ANSWER_LINK_KEY = "e2e-answer-link-key-0123456789abcdef"
SERVICES = ("registry", "routing", "notifier", "intake")

T = TypeVar("T")


@pytest.fixture
async def e2e_topics(real_stack: RealStack) -> None:
    await real_stack.create_topics(
        *ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS), partitions=2
    )


@dataclass
class Stack:
    urls: dict[str, str]
    issuer: DevIssuer
    env: dict[str, str]

    def auth(
        self, role: str, area: str = "3204", programs: list[str] | None = None
    ) -> dict[str, str]:
        token = self.issuer.token(f"{role}-{area}", [role], area, programs)
        return {"Authorization": f"Bearer {token}"}


def service_env(connections: ConnectionSettings, **extra: str) -> dict[str, str]:
    """What every service process needs: this test's database, Kafka, its own task queue."""
    return {
        "SLRT_POSTGRES_DSN": connections.postgres_dsn.get_secret_value(),
        "SLRT_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        "SLRT_TEMPORAL_ADDRESS": connections.temporal_address,
        "SLRT_TEMPORAL_NAMESPACE": TEST_NAMESPACE,
        "SLRT_TEMPORAL_TASK_QUEUE": f"complaints-{uuid.uuid4().hex[:8]}",
        "SLRT_LOG_JSON": "true",
        "SLRT_SECRET_ANSWER_LINKS": ANSWER_LINK_KEY,
        "SLRT_SECRET_E2E_CALLBACKS": WEBHOOK_KEY,
        "SLRT_SECRETS_DIR": "/nonexistent",
        **extra,
    }


def start_services(
    connections: ConnectionSettings, log_dir: Path, **extra: str
) -> tuple[ExitStack, Stack]:
    """Start the four services (intake first: the notifier needs its public URL)."""
    env = service_env(connections, **extra)
    stack = ExitStack()
    urls: dict[str, str] = {}
    try:
        urls["intake"] = stack.enter_context(service_process("intake", env, log_dir))
        env["SLRT_NOTIFIER_INTAKE_PUBLIC_URL"] = urls["intake"]
        for name in ("registry", "routing", "notifier"):
            urls[name] = stack.enter_context(service_process(name, env, log_dir))
    except BaseException:
        stack.close()
        raise
    return stack, Stack(urls, dev_issuer(log_dir), env)


async def until(check: Callable[[], Awaitable[T | None]], timeout: float = 90.0) -> T:
    """Wait for ``check`` to return something truthy (an effect becoming visible)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected effect did not become visible in time")
        await asyncio.sleep(0.2)


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder


@contextmanager
def standin(
    name: str, log_dir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[int]:
    """Start ``python -m standins.<name>`` on a free port (``env`` added to ours); yields the
    port once it listens."""
    port = free_port()
    with (log_dir / f"standin-{name}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"standins.{name}", "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
        )
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"stand-in {name} did not start")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
