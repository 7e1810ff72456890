"""The read audit survives a crash: every lookup the registry answered has its audit row.

The registry runs as its own process under concurrent lookups and is killed with SIGKILL in the
middle of the load (no shutdown, no drain). The audit rows are written by group commit
(``services.registry.audit_log``), and a request answers only after its rows are committed: so
the set of answered lookups must be a subset of the audited ones, whatever the kill interrupted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from pathlib import Path

import asyncpg
import httpx
import psutil

from slrt.auth.principal import Role
from slrt_dev.issuer import DevIssuer
from slrt_dev.sandbox.groups import PREFIX_ENV, new_prefix
from tests.support.harness import service_process
from tests.support.registry import ISSUER, import_file

CLIENTS = 16
KILL_AFTER = 200
"""Answered lookups before the kill (the clients keep going until the connection drops)."""


def _registry_pid() -> int:
    pid: int = next(
        p.pid
        for p in psutil.Process().children(recursive=True)
        if "services.registry" in " ".join(p.cmdline())
    )
    return pid


async def test_every_answered_lookup_has_its_audit_row_after_a_sigkill(
    registry_topics: None,
    registry_dsn: str,
    pool: asyncpg.Pool,
    small_district: Path,
    kafka_bootstrap: str,
    issuer: DevIssuer,
    tmp_path: Path,
) -> None:
    await import_file(pool, small_district)
    niks = [r["nik"] for r in await pool.fetch("SELECT nik FROM individuals LIMIT 500")]
    env = {
        "SLRT_POSTGRES_DSN": registry_dsn,
        "SLRT_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "SLRT_AUTH_ISSUER": ISSUER,
        "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
        PREFIX_ENV: new_prefix(),  # groups of its own, read from the start
    }
    token = issuer.token("fo-kill", [Role.FRONT_OFFICE], "3204")
    answered: list[uuid.UUID] = []
    failed: list[str] = []
    with service_process("registry", env, tmp_path) as url:
        pid = _registry_pid()
        killed = asyncio.Event()

        async def client(http: httpx.AsyncClient, n: int) -> None:
            index = n
            while True:
                complaint = uuid.uuid4()
                try:
                    response = await http.post(
                        "/v1/persons/lookup",
                        json={"nik": niks[index % len(niks)], "complaint_id": str(complaint)},
                    )
                except httpx.HTTPError as exc:
                    failed.append(type(exc).__name__)
                    return
                index += CLIENTS
                if response.status_code == 200:
                    answered.append(complaint)
                    if len(answered) == KILL_AFTER and not killed.is_set():
                        os.kill(pid, signal.SIGKILL)
                        killed.set()
                elif killed.is_set():
                    failed.append(str(response.status_code))
                    return
                else:
                    raise AssertionError(f"lookup answered {response.status_code} before the kill")

        async with httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            limits=httpx.Limits(max_connections=CLIENTS),
        ) as http:
            await asyncio.gather(*(client(http, n) for n in range(CLIENTS)))
    assert killed.is_set()
    assert len(answered) >= KILL_AFTER
    assert failed, "the kill interrupted no request: it did not land mid-load"
    audited = {
        r["complaint_id"]
        for r in await pool.fetch(
            "SELECT complaint_id FROM audit_log WHERE action = 'person_lookup' AND actor = $1",
            "fo-kill",
        )
    }
    lost = [c for c in answered if c not in audited]
    assert lost == [], f"{len(lost)} answered lookups have no audit row"
