"""Registry requests that name the complainant by reference (``complainant:<complaint id>``):
the registry redeems the reference at the real intake (served on loopback) with its service
token, answers the check and records the pre-list entry with what intake released, and intake
audits each redemption. While intake is down a request waits in the topic (retried) and is
answered once intake is back: never a dead letter."""

from __future__ import annotations

import csv
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake.app import create_app as create_intake
from services.registry.app import create_app
from services.registry.extract import COLUMNS
from services.registry.settings import RegistrySettings
from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings
from slrt.contracts.complainants import complainant_reference
from slrt.contracts.envelope import Envelope, from_kafka
from slrt.contracts.events import (
    PrelistEntryRequested,
    RegistryCheckCompleted,
    RegistryCheckRequested,
    RegistryProposalUpdated,
)
from slrt.contracts.topics import Topic, dead_letter_topic
from slrt.contracts.vocabulary import LookupKind
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from slrt_dev.sandbox.groups import new_prefix
from slrt_dev.standins.server import free_port, serving
from tests.support.intake import settings_for, walk_in
from tests.support.kafka_tools import read_topic
from tests.support.polling import poll
from tests.support.registry import ISSUER, KNOWN, REGISTRY_TOPICS, import_file, known_rows
from tests.support.registry import fresh_nik as new_nik

VILLAGE_DOTTED = "32.04.05.2001"


@asynccontextmanager
async def intake_at(
    connections: ConnectionSettings, issuer: DevIssuer, port: int
) -> AsyncIterator[str]:
    """The real intake service, in-process, listening on loopback at ``port``."""
    app = create_intake(
        settings_for(connections),
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file),
    )
    async with app.router.lifespan_context(app), serving(app, port) as url:
        yield url


@asynccontextmanager
async def registry_at(
    registry_dsn: str, kafka_bootstrap: str, issuer: DevIssuer, intake_url: str, path: Path
) -> AsyncIterator[asyncpg.Pool]:
    """The registry in-process (its request consumer running), redeeming at ``intake_url``,
    with the known household imported."""
    settings = RegistrySettings(
        connections=ConnectionSettings(
            postgres_dsn=registry_dsn,
            kafka_bootstrap=kafka_bootstrap,
            kafka_consumer_group_prefix=new_prefix(),
        ),
        intake_url=intake_url,
    )
    app = create_app(
        settings, AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)
    )
    async with app.router.lifespan_context(app):
        pool: asyncpg.Pool = app.state.runtime.pool
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(known_rows())
        await import_file(pool, path)
        yield pool


async def submit(url: str, issuer: DevIssuer, complainant: dict[str, Any]) -> uuid.UUID:
    token = issuer.token("front-office-1", [Role.FRONT_OFFICE], "3204")
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            "/v1/complaints",
            json=walk_in(village_code=VILLAGE_DOTTED, complainant=complainant),
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["complaint_id"])


async def _on(bootstrap: str, topic: str, event_ids: set[str]) -> list[Envelope]:
    records = await read_topic(bootstrap, topic, expect=0, timeout=1)
    envelopes = [from_kafka(r.key, r.headers, r.value) for r in records]
    return [e for e in envelopes if e.id in event_ids or e.data.get("request_id") in event_ids]


async def _answers(bootstrap: str, request_ids: set[uuid.UUID]) -> list[Envelope]:
    return await _on(bootstrap, Topic.REGISTRY_RESULTS.value, {str(r) for r in request_ids})


@pytest.fixture
async def topics(real_stack: Any) -> None:
    await real_stack.create_topics(
        *REGISTRY_TOPICS, *(dead_letter_topic(t) for t in REGISTRY_TOPICS), partitions=2
    )


async def test_the_registry_redeems_references_to_check_and_pre_list(
    topics: None,
    connections: ConnectionSettings,
    registry_dsn: str,
    kafka_bootstrap: str,
    issuer: DevIssuer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from slrt_dev.issuer import REGISTRY_TOKEN_ENV, registry_service_token

    monkeypatch.setenv(REGISTRY_TOKEN_ENV, registry_service_token(issuer))
    known = KNOWN[0]
    stranger_nik = new_nik("male")
    async with (
        intake_at(connections, issuer, free_port()) as intake_url,
        registry_at(registry_dsn, kafka_bootstrap, issuer, intake_url, tmp_path / "k.csv") as pool,
    ):
        found_id = await submit(
            intake_url, issuer, {"nik": known.nik, "name": known.name, "sex": "female"}
        )
        stranger_id = await submit(
            intake_url, issuer, {"nik": stranger_nik, "name": "Asep Saepudin", "sex": "male"}
        )
        check = RegistryCheckRequested(
            request_id=uuid.uuid4(),
            complaint_id=found_id,
            lookup=LookupKind.NIK,
            complainant_ref=complainant_reference(found_id),
        )
        prelist = PrelistEntryRequested(
            request_id=uuid.uuid4(),
            complaint_id=stranger_id,
            ticket_number="SLRT-3204-2026-000999",
            complainant_ref=complainant_reference(stranger_id),
        )
        async with EventProducer(connections, "/slrt/routing") as producer:
            await producer.publish(check, subject=str(found_id), id=str(uuid.uuid4()))
            await producer.publish(prelist, subject=str(stranger_id), id=str(uuid.uuid4()))

        answers = await poll(
            lambda: _answers(kafka_bootstrap, {check.request_id, prelist.request_id}),
            lambda found: len(found) == 2,
            timeout=60,
        )
        by_request = {uuid.UUID(a.data["request_id"]): a for a in answers}
        answer = by_request[check.request_id].parse(RegistryCheckCompleted)
        assert answer.found
        assert answer.welfare_decile == 2
        update = by_request[prelist.request_id].parse(RegistryProposalUpdated)
        assert (update.kind, update.status, update.complaint_id) == (
            "prelist",
            "proposed",
            stranger_id,
        )
        entry = await pool.fetchrow(
            "SELECT nik, name, sex, village_code FROM prelist_entries WHERE complaint_id = $1",
            stranger_id,
        )
        assert entry is not None
        assert tuple(entry) == (stranger_nik, "Asep Saepudin", "male", "3204052001")
        # Intake audited each redemption: the registry's account, why, what it released.
        intake_pool = await asyncpg.connect(connections.postgres_dsn.get_secret_value())
        try:
            # This test's registry reads the shared request topic from its start: earlier
            # tests' requests are redeemed here too (refused: unknown here). Ours:
            rows = await intake_pool.fetch(
                "SELECT caller, complaint_id, purpose, outcome, released "
                "FROM intake.contact_redemptions WHERE complaint_id = ANY($1::uuid[]) ORDER BY id",
                [found_id, stranger_id],
            )
        finally:
            await intake_pool.close()
        released = ["nik", "name", "sex"]
        # The two requests may sit on different partitions: redeemed in either order.
        assert sorted(tuple(r) for r in rows) == sorted(
            [
                ("service:registry", found_id, "registry_check", "released", released),
                ("service:registry", stranger_id, "prelist", "released", released),
            ]
        )


async def test_a_request_waits_while_intake_is_down_and_is_never_dead_lettered(
    topics: None,
    connections: ConnectionSettings,
    registry_dsn: str,
    kafka_bootstrap: str,
    issuer: DevIssuer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from slrt_dev.issuer import REGISTRY_TOKEN_ENV, registry_service_token

    monkeypatch.setenv(REGISTRY_TOKEN_ENV, registry_service_token(issuer))
    caplog.set_level(logging.WARNING, logger="slrt.kafka")
    port = free_port()
    known = KNOWN[0]
    async with intake_at(connections, issuer, port) as intake_url:
        complaint_id = await submit(
            intake_url, issuer, {"nik": known.nik, "name": known.name, "sex": "female"}
        )
    # intake is down now: nothing listens on its port.
    check = RegistryCheckRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint_id,
        lookup=LookupKind.NIK,
        complainant_ref=complainant_reference(complaint_id),
    )
    event_id = str(uuid.uuid4())
    async with registry_at(
        registry_dsn, kafka_bootstrap, issuer, f"http://127.0.0.1:{port}", tmp_path / "k.csv"
    ):
        async with EventProducer(connections, "/slrt/routing") as producer:
            await producer.publish(check, subject=str(complaint_id), id=event_id)

        async def waiting() -> bool:
            # The consumer reads the topic from the start: it may be waiting on an earlier
            # test's request first; either way it waits, it does not dead-letter.
            return any(r.getMessage() == "dependency unavailable, waiting" for r in caplog.records)

        # The request is retried (intake unreachable), not answered and not dead-lettered.
        await poll(waiting, timeout=60)
        assert not await _answers(kafka_bootstrap, {check.request_id})
        dlq = dead_letter_topic(Topic.REGISTRY_REQUESTS.value)
        assert not await _on(kafka_bootstrap, dlq, {event_id})

        # intake is back (same database, same port): the waiting request is answered.
        async with intake_at(connections, issuer, port):
            answers = await poll(lambda: _answers(kafka_bootstrap, {check.request_id}), timeout=90)
        assert answers[0].parse(RegistryCheckCompleted).found
        assert not await _on(kafka_bootstrap, dlq, {event_id})
