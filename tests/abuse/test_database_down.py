"""PostgreSQL down: every service answers problem+json 503 with Retry-After, never a 500.

Each service's app runs with its pool pointed at a port where no PostgreSQL listens — what a
service sees while its database is down or restarting (``ConnectionRefusedError`` on every
new connection) — and is asked for something that reads or writes its database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.dashboard.app import create_app as dashboard_app
from services.dashboard.settings import DashboardSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.notifier.app import create_app as notifier_app
from services.notifier.settings import NotifierSettings
from services.registry.app import create_app as registry_app
from services.registry.settings import RegistrySettings
from slrt.auth.tokens import AuthSettings, TokenVerifier
from slrt.deps import runtime_of
from slrt_dev.issuer import DevIssuer
from slrt_dev.stack.process import free_port

pytestmark = pytest.mark.stack

ISSUER = "https://auth.slrt.local/test"


@pytest.fixture
async def dead_pool() -> AsyncIterator[asyncpg.Pool]:
    """A real pool whose PostgreSQL is gone: every connection attempt is refused."""
    pool = await asyncpg.create_pool(
        f"postgresql://slrt@127.0.0.1:{free_port()}/slrt", min_size=0, max_size=2
    )
    assert pool is not None
    yield pool
    await pool.close()


def _auth(issuer: DevIssuer) -> AuthSettings:
    return AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file)


Make = Callable[[AuthSettings], FastAPI]

SERVICES: list[tuple[str, Make, str, str, str, dict[str, Any] | None]] = [
    (
        "intake",
        lambda auth: intake_app(IntakeSettings(), auth),
        "front_office",
        "POST",
        "/v1/complaints",
        {
            "channel": "puskesos_walk_in",
            "village_code": "3204052001",
            "complainant": {"name": "Siti Aminah"},
            "category": "membership",
            "description": "Belum terdaftar.",
        },
    ),
    (
        "intake",
        lambda auth: intake_app(IntakeSettings(), auth),
        "back_office",
        "GET",
        "/v1/complaints",
        None,
    ),
    (
        "registry",
        lambda auth: registry_app(RegistrySettings(), auth),
        "back_office",
        "GET",
        "/v1/programs",
        None,
    ),
    (
        "notifier",
        lambda auth: _with_auth(notifier_app(NotifierSettings()), auth),
        "back_office",
        "GET",
        f"/v1/deliveries?complaint_id={uuid.uuid4()}",
        None,
    ),
    (
        "dashboard",
        lambda auth: dashboard_app(DashboardSettings(), auth),
        "viewer",
        "GET",
        "/dashboard",
        None,
    ),
]


def _with_auth(app: FastAPI, auth: AuthSettings) -> FastAPI:
    runtime_of(app).verifier = TokenVerifier(auth)
    return app


@pytest.mark.parametrize(
    ("service", "make", "role", "method", "path", "body"),
    SERVICES,
    ids=[f"{s[0]}-{s[3]}-{s[4].split('?')[0]}" for s in SERVICES],
)
async def test_a_request_while_postgres_is_down_is_503_with_retry_after(
    service: str,
    make: Make,
    role: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    dead_pool: asyncpg.Pool,
    tmp_path: Path,
) -> None:
    issuer = DevIssuer(tmp_path / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    auth = _auth(issuer)
    app = make(auth)
    runtime = runtime_of(app)
    runtime.verifier = runtime.verifier or TokenVerifier(auth)
    runtime._pool = dead_pool
    token = issuer.token(f"{role}-3204", [role], "3204")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}.test") as client:
        response = await client.request(
            method,
            path,
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
        )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["type"] == "https://slrt.id/problems/unavailable"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_open311_while_postgres_is_down_is_503_in_the_georeport_format(
    fmt: str, dead_pool: asyncpg.Pool
) -> None:
    """The public Open311 routes answer in the spec's error document, not problem+json
    (docs/api.md, "Open311 GeoReport v2"): 503 with Retry-After all the same."""
    app = dashboard_app(DashboardSettings())
    runtime_of(app)._pool = dead_pool
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard.test") as client:
        response = await client.get(f"/open311/v2/requests.{fmt}")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    expected = {"json": "application/json", "xml": "text/xml"}[fmt]
    assert response.headers["content-type"] == f"{expected}; charset=utf-8"
    if fmt == "json":
        assert response.json() == [
            {"code": 503, "description": "database: did not answer; retry later"}
        ]
    else:
        assert "<errors><error><code>503</code><description>database:" in response.text
