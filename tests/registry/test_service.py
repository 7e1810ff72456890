"""The registry as its own process, the way the local stack and the cluster run it."""

from __future__ import annotations

from pathlib import Path

import httpx

from slrt.auth.principal import Role
from slrt_dev.issuer import DevIssuer
from slrt_dev.sandbox.groups import PREFIX_ENV, new_prefix
from tests.support.harness import service_process
from tests.support.registry import ISSUER


async def test_the_service_starts_prepares_its_schema_and_serves(
    registry_topics: None,
    registry_dsn: str,
    kafka_bootstrap: str,
    issuer: DevIssuer,
    tmp_path: Path,
) -> None:
    env = {
        "SLRT_POSTGRES_DSN": registry_dsn,
        "SLRT_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "SLRT_AUTH_ISSUER": ISSUER,
        "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
        PREFIX_ENV: new_prefix(),  # groups of its own, read from the start
    }
    with service_process("registry", env, tmp_path) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            token = issuer.token("fo-1", [Role.FRONT_OFFICE], "3204")
            programs = await client.get(
                "/v1/programs", headers={"Authorization": f"Bearer {token}"}
            )
            assert programs.status_code == 200
            assert len(programs.json()) == 6
            assert (await client.get("/v1/programs")).status_code == 401
            openapi = (await client.get("/openapi.json")).json()
            assert "/v1/persons/lookup" in openapi["paths"]
            assert "/v1/siks-ng/batches/{batch_id}/results" in openapi["paths"]
