"""The registry in tests: the in-process app, imports of generated extracts, fixed dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

from services.registry.importer import ImportReport, import_extract
from services.registry.settings import RegistrySettings
from slrt.auth.principal import Role
from slrt.contracts.topics import Topic
from slrt_dev.issuer import DevIssuer

TODAY = date(2026, 11, 27)
"""The generator's "today" in tests, so that a seed always gives the same file."""


def database_dsn(server_dsn: str, name: str) -> str:
    base, _, _ = server_dsn.rpartition("/")
    return f"{base}/{name}"


ISSUER = "https://auth.slrt.test/registry"


REGISTRY_TOPICS = (
    Topic.REGISTRY_REQUESTS.value,
    Topic.REGISTRY_RESULTS.value,
    Topic.PROGRAM_CATALOG.value,
)


@dataclass
class Registry:
    """The registry app in-process (its lifespan running) with a client and token minting."""

    app: FastAPI
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    settings: RegistrySettings
    issuer: DevIssuer

    def auth(self, role: Role, area: str = "3204", subject: str | None = None) -> dict[str, str]:
        token = self.issuer.token(subject or f"{role.value}-{area or 'national'}", [role], area)
        return {"Authorization": f"Bearer {token}"}


async def import_file(pool: asyncpg.Pool, path: Path, area: str = "") -> ImportReport:
    async with pool.acquire() as conn:
        with path.open(newline="", encoding="utf-8") as f:
            return await import_extract(conn, f, file_name=path.name, started_by="test", area=area)
