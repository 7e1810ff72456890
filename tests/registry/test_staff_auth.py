"""The directory mode of authorisation across real services: the registry publishes the
directory on the real Kafka, intake (``SLRT_AUTH_DIRECTORY``) keeps its copy, and a token that
carries only ``sub`` is authorised by the directory's roles and areas there."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.intake.app import create_app as create_intake
from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from tests.support.intake import settings_for
from tests.support.polling import poll
from tests.support.registry import ISSUER, Registry

V1 = "3208012001"
V2 = "3208022001"


@pytest.fixture
async def intake_with_directory(
    connections: ConnectionSettings,
    issuer: DevIssuer,
    registry_intake: str,  # made the contract topics
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_intake(
        settings_for(connections),
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file, directory=True),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake.test"
        ) as client,
    ):
        yield client


async def _create(registry: Registry, body: dict[str, Any]) -> dict[str, Any]:
    admin = registry.auth(Role.ADMINISTRATOR, "3208", subject="admin-3208")
    response = await registry.client.post("/v1/staff/persons", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_subject_only_token_is_authorised_by_the_directory(
    registry: Registry, intake_with_directory: httpx.AsyncClient
) -> None:
    intake, issuer = intake_with_directory, registry.issuer
    tag = uuid.uuid4().hex[:8]
    facilitator = await _create(
        registry,
        {
            "subject": f"kc-fac-{tag}",
            "display_name": "Ani Lestari",
            "email": "ani@dinsos.kuningankab.example",
            "roles": ["facilitator"],
            "areas": [V1, V2],
        },
    )
    back_office = await _create(
        registry,
        {
            "subject": f"kc-bo-{tag}",
            "display_name": "Dewi Anggraini",
            "email": "dewi@dinsos.kuningankab.example",
            "roles": ["back_office"],
            "areas": ["3208"],
        },
    )
    fac_token = _bearer(issuer.subject_token(facilitator["subject"]))

    async def tasks_answer() -> int:
        return (await intake.get("/v1/tasks", headers=fac_token)).status_code

    # The facilitator's record reaches intake's copy: the task feed (facilitators only) opens.
    assert await poll(tasks_answer, lambda code: code == 200, timeout=60) == 200
    # The back office of the directory is no facilitator there; the complaint list is theirs.
    bo_token = _bearer(issuer.subject_token(back_office["subject"]))
    assert (await intake.get("/v1/tasks", headers=bo_token)).status_code == 403
    listed = await intake.get("/v1/complaints", headers=bo_token)
    assert listed.status_code == 200, listed.text
    # A token with claims works as it always has.
    claims = _bearer(issuer.token(f"kc-claims-{tag}", [Role.FACILITATOR], V1))
    assert (await intake.get("/v1/tasks", headers=claims)).status_code == 200
    # An unknown subject is refused.
    unknown = await intake.get("/v1/tasks", headers=_bearer(issuer.subject_token(f"kc-x-{tag}")))
    assert unknown.status_code == 403, unknown.text

    # The facilitator leaves: the same token is refused as soon as intake's copy has it.
    ended = await registry.client.post(
        f"/v1/staff/persons/{facilitator['person_id']}/end",
        json={},
        headers=registry.auth(Role.ADMINISTRATOR, "3208", subject="admin-3208"),
    )
    assert ended.status_code == 200, ended.text

    assert await poll(tasks_answer, lambda code: code == 403, timeout=60) == 403
