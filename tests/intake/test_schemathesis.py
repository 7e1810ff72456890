"""schemathesis against the real intake service process on the real stack: no 5xx, and every
response conforms to the OpenAPI document (status codes, content types, headers, bodies)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx

from slrt.auth.principal import Role
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import DevIssuer
from tests.support.harness import service_process
from tests.support.intake import ISSUER

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
STAFF = [Role.FRONT_OFFICE, Role.FACILITATOR, Role.SUPERVISOR, Role.BACK_OFFICE, Role.MANAGER]


def schemathesis_command(url: str, token: str, report_dir: Path) -> list[str]:
    """The same run as documented in docs/api.md."""
    return [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        "25",
        "--seed",
        "20261127",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--report-dir",
        str(report_dir),
    ]


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    intake_topics: None,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    secrets_dir: Path,
    tmp_path: Path,
) -> None:
    env = {
        "SLRT_POSTGRES_DSN": connections.postgres_dsn.get_secret_value(),
        "SLRT_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        "SLRT_TEMPORAL_ADDRESS": connections.temporal_address,
        "SLRT_TEMPORAL_NAMESPACE": connections.temporal_namespace,
        "SLRT_AUTH_ISSUER": ISSUER,
        "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
        "SLRT_SECRETS_DIR": str(secrets_dir),
        "SLRT_INTAKE_UPDATE_TIMEOUT_SECONDS": "3",
        "SLRT_INTAKE_ATTACHMENT_DIR": str(tmp_path / "attachments"),
    }
    token = issuer.token("schemathesis", STAFF, "3204")
    with service_process("intake", env, tmp_path) as url:
        # The run must get past authentication, or it would test only the 401 path.
        async with httpx.AsyncClient(base_url=url) as client:
            listed = await client.get(
                "/v1/complaints", headers={"Authorization": f"Bearer {token}"}
            )
        assert listed.status_code == 200, listed.text
        result = await asyncio.to_thread(
            subprocess.run,
            schemathesis_command(url, token, tmp_path / "report"),
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,  # its cache stays out of the repository
        )
    service_log = (tmp_path / "intake.log").read_text()
    (tmp_path / "schemathesis.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "Traceback" not in service_log, service_log[-4000:]
