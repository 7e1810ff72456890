"""The intake service in-process on the real stack, with tokens of a local issuer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.intake.app import create_app
from services.routing.app import create_app as create_routing
from services.routing.settings import RoutingSettings
from slrt.auth.tokens import AuthSettings
from slrt.contracts.topics import ALL_TOPICS, dead_letter_topic
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from slrt_dev.sandbox.groups import SERVICE_GROUPS, start_at_end, with_new_prefix
from tests.support.harness import RealStack
from tests.support.intake import ANSWER_LINK_KEY, ISSUER, WEBHOOK_KEY, Intake, settings_for


@pytest.fixture(scope="session")
async def intake_topics(real_stack: RealStack) -> None:
    await real_stack.create_topics(
        *ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS), partitions=2
    )


@pytest.fixture
def issuer(tmp_path: Path) -> DevIssuer:
    issuer = DevIssuer(tmp_path / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    return issuer


@pytest.fixture
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "secrets"
    folder.mkdir()
    (folder / "answer-links").write_text(ANSWER_LINK_KEY)
    (folder / "pkh-callbacks").write_text(WEBHOOK_KEY)
    monkeypatch.setenv("SLRT_SECRETS_DIR", str(folder))
    return folder


@pytest.fixture
async def intake(
    intake_topics: None,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    secrets_dir: Path,
) -> AsyncIterator[Intake]:
    settings = settings_for(connections, tracking_limit_per_minute=5, max_body_bytes=65536)
    app = create_app(
        settings, AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake.test"
        ) as client,
        EventProducer(connections, "/slrt/test") as producer,
    ):
        yield Intake(app, client, settings, issuer, producer)


@pytest.fixture
async def routing(connections: ConnectionSettings) -> AsyncIterator[None]:
    """The routing service (its Temporal worker and consumers) in-process, on a task queue of
    its own so that no other test's worker takes its complaints, in consumer groups of its own
    that start at the topics' ends (complaints other tests left on the topic are not its)."""
    own = with_new_prefix(
        connections.model_copy(update={"temporal_task_queue": f"complaints-{uuid.uuid4().hex[:8]}"})
    )
    await start_at_end(own, SERVICE_GROUPS["routing"])
    app = create_routing(RoutingSettings(connections=own))
    async with app.router.lifespan_context(app):
        yield
