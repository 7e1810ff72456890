"""The real service process, logging at DEBUG, never writes personal data to its log."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import httpx

from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from tests.support.harness import service_process
from tests.support.intake import ISSUER, transition, walk_in
from tests.support.polling import until

PERSONAL = ("Siti Aminah", "3204054107850003", "081234567890", "Sukamaju")


async def test_a_debug_log_holds_no_personal_data(
    intake_topics: None,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    secrets_dir: Path,
    tmp_path: Path,
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    env = {
        "SLRT_POSTGRES_DSN": dsn,
        "SLRT_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        "SLRT_TEMPORAL_ADDRESS": connections.temporal_address,
        "SLRT_TEMPORAL_NAMESPACE": connections.temporal_namespace,
        "SLRT_AUTH_ISSUER": ISSUER,
        "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
        "SLRT_SECRETS_DIR": str(secrets_dir),
        "SLRT_LOG_LEVEL": "DEBUG",
    }
    token = issuer.token("fo-1", [Role.FRONT_OFFICE], "3204")
    headers = {"Authorization": f"Bearer {token}"}
    with service_process("intake", env, tmp_path) as url:
        async with httpx.AsyncClient(base_url=url, headers=headers) as client:
            accepted = await client.post("/v1/complaints", json=walk_in())
            refused = await client.post("/v1/complaints", json=walk_in(occurred_on="2999-01-01"))
            tracked = await client.post(
                "/v1/tracking",
                json={"ticket_number": accepted.json()["ticket_number"], "verifier": "7890"},
            )
        assert (accepted.status_code, refused.status_code, tracked.status_code) == (202, 422, 200)
        complaint_id = uuid.UUID(accepted.json()["complaint_id"])
        async with EventProducer(connections, "/slrt/test") as producer:
            await producer.publish(
                transition(
                    complaint_id, accepted.json()["ticket_number"], 1, ComplaintStep.REGISTERED
                ),
                subject=str(complaint_id),
            )
        conn = await asyncpg.connect(dsn)
        try:

            async def settled() -> bool:
                published = await conn.fetchval(
                    "SELECT bool_and(published_at IS NOT NULL) FROM intake.outbox"
                )
                projected = await conn.fetchval(
                    "SELECT count(*) FROM intake.complaint_timeline WHERE complaint_id = $1",
                    complaint_id,
                )
                return bool(published and projected == 1)

            await until(settled)
        finally:
            await conn.close()
    log = (tmp_path / "intake.log").read_text()
    assert '"level": "DEBUG"' in log  # the service really logged at DEBUG
    assert "lifecycle event projected" in log
    for value in PERSONAL:
        assert value not in log
