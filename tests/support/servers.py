"""What counts as needing a server in the tests, and the guard that keeps ``unit`` tests (the
ones ``make test-fast`` runs) from reaching one."""

from __future__ import annotations

from typing import Any, NoReturn

import aiokafka
import asyncpg
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from slrt_dev.sandbox import infra, processes
from slrt_dev.stack import process
from slrt_dev.stack.postgres import Postgres

SERVER_FIXTURES = frozenset({"real_stack", "time_skipping_env"})
"""Fixtures that start (or connect to) PostgreSQL, Kafka or Temporal: every server fixture in
the suite is built on one of these."""


def forbid_servers(monkeypatch: pytest.MonkeyPatch, test: str) -> None:
    """Make every way to start or reach a server fail with a message naming the fix."""

    def refuse(*_: Any, **__: Any) -> NoReturn:
        raise AssertionError(
            f"{test} is a unit test (make test-fast) but reaches a server: ask for the "
            f"real_stack fixture (or one built on it) or mark it @pytest.mark.stack"
        )

    async def refuse_async(*_: Any, **__: Any) -> NoReturn:
        refuse()

    for name in (
        "start_postgres",
        "start_kafka",
        "start_temporal",
        "start_s3",
        "docker_available",
    ):
        monkeypatch.setattr(infra, name, refuse)
    monkeypatch.setattr(processes, "free_port", refuse)  # service_process, standin
    monkeypatch.setattr(process, "spawn", refuse)  # Kafka, Temporal, the stack's parts
    monkeypatch.setattr(Postgres, "start", refuse)
    monkeypatch.setattr(WorkflowEnvironment, "start_time_skipping", refuse_async)
    monkeypatch.setattr(WorkflowEnvironment, "start_local", refuse_async)
    monkeypatch.setattr(Client, "connect", refuse_async)
    monkeypatch.setattr(asyncpg, "connect", refuse_async)
    monkeypatch.setattr(asyncpg, "create_pool", refuse)
    monkeypatch.setattr(aiokafka.AIOKafkaProducer, "start", refuse_async)
    monkeypatch.setattr(aiokafka.AIOKafkaConsumer, "start", refuse_async)
