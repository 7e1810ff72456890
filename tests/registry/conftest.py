"""Registry fixtures: a migrated registry schema (places and catalog seed loaded) per test.

The schema is built once per session in a template database; each test gets its own copy
(``CREATE DATABASE … TEMPLATE``), which is much faster than loading 91,599 places per test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from services.intake.app import create_app as create_intake
from services.registry.app import create_app
from services.registry.places_loader import ensure_places
from services.registry.settings import RegistrySettings
from services.registry.store.catalog import ensure_seed
from slrt.auth.tokens import AuthSettings
from slrt.contracts.topics import ALL_TOPICS, dead_letter_topic
from slrt.db import create_pool
from slrt.db.migrations import migrate_service
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import REGISTRY_TOKEN_ENV, DevIssuer, registry_service_token
from slrt_dev.sandbox.groups import new_prefix
from slrt_dev.standins.server import free_port, serving
from slrt_dev.synthetic import write_extract
from tests.support.harness import TEST_NAMESPACE, RealStack
from tests.support.intake import settings_for
from tests.support.registry import ISSUER, REGISTRY_TOPICS, TODAY, Registry, database_dsn


@pytest.fixture(scope="session")
async def registry_template(postgres_dsn: str, real_stack: RealStack) -> AsyncIterator[str]:
    name = f"registry_tpl_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = database_dsn(postgres_dsn, name)
    await migrate_service(dsn, "registry")
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "registry,public"})
    try:
        await ensure_places(conn)
    finally:
        await conn.close()
    yield name
    # As a superuser: only one may end an autovacuum worker still in the database.
    admin = await asyncpg.connect(real_stack.postgres_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def registry_dsn(
    postgres_dsn: str, registry_template: str, real_stack: RealStack
) -> AsyncIterator[str]:
    """A database of this test's own with the registry schema migrated and places loaded
    (the catalog is not seeded yet: seeding writes catalog events to the outbox)."""
    name = f"t_reg_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{registry_template}"')
    finally:
        await admin.close()
    yield database_dsn(postgres_dsn, name)
    # As a superuser: only one may end an autovacuum worker still in the database.
    admin = await asyncpg.connect(real_stack.postgres_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def pool(registry_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the registry schema with the national catalog seeded."""
    pool = await create_pool(ConnectionSettings(postgres_dsn=registry_dsn), "registry")
    async with pool.acquire() as conn:
        await ensure_seed(conn, changed_by="seed", source="/slrt/registry")
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def small_district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 3,000-individual extract of Kabupaten Bandung (3204), seed 7."""
    out = tmp_path_factory.mktemp("extract") / "district-3204.csv"
    write_extract(out, "3204", 3000, 7, error_rate=0.01, today=TODAY)
    return out


@pytest.fixture(scope="session")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    issuer = DevIssuer(tmp_path_factory.mktemp("issuer"), ISSUER, "slrt")
    issuer.ensure_keys()
    return issuer


@pytest.fixture(scope="session")
async def registry_topics(real_stack: RealStack) -> None:
    await real_stack.create_topics(
        *REGISTRY_TOPICS, *(dead_letter_topic(t) for t in REGISTRY_TOPICS), partitions=2
    )


@pytest.fixture(scope="session")
async def registry_intake(
    postgres_dsn: str,
    kafka_bootstrap: str,
    temporal_address: str,
    real_stack: RealStack,
    issuer: DevIssuer,
) -> AsyncIterator[str]:
    """The real intake service (its own database), in-process on loopback, where the registry
    redeems complainant references with its service token. One per session: the request topic
    is shared, and each test's consumer reads it from the start, so requests other tests (the
    end-to-end ones) left there are redeemed here too, and refused (unknown reference).

    Intake's consumers read its own topics: they exist before it starts (a consumer whose topic
    is missing dies, and a dead loop stops the process that runs the in-process intake)."""
    await real_stack.create_topics(
        *ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS), partitions=2
    )
    name = f"t_intake_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    connections = ConnectionSettings(
        postgres_dsn=database_dsn(postgres_dsn, name),
        kafka_bootstrap=kafka_bootstrap,
        temporal_address=temporal_address,
        temporal_namespace=TEST_NAMESPACE,
    )
    app = create_intake(
        settings_for(connections),
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file),
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv(REGISTRY_TOKEN_ENV, registry_service_token(issuer))
        async with app.router.lifespan_context(app), serving(app, free_port()) as url:
            yield url
    admin = await asyncpg.connect(real_stack.postgres_admin_dsn)
    try:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def registry(
    registry_topics: None,
    registry_dsn: str,
    kafka_bootstrap: str,
    issuer: DevIssuer,
    registry_intake: str,
    tmp_path: Path,
) -> AsyncIterator[Registry]:
    connections = ConnectionSettings(
        postgres_dsn=registry_dsn,
        kafka_bootstrap=kafka_bootstrap,
        kafka_consumer_group_prefix=new_prefix(),
    )
    settings = RegistrySettings(
        connections=connections,
        intake_url=registry_intake,
        public_url="http://registry.test",
        attachment_dir=tmp_path / "attachments",
    )
    app = create_app(
        settings, AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://registry.test"
        ) as client,
    ):
        yield Registry(app, client, app.state.runtime.pool, settings, issuer)
