"""The registry in tests: the in-process app, imports of generated extracts, a household of
known people, fixed dates."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI

from services.registry.api import aggregates
from services.registry.domain.identity import make_kk, make_nik
from services.registry.importer import ImportReport, import_extract
from services.registry.settings import RegistrySettings
from slrt import problems
from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings, TokenVerifier
from slrt.contracts.topics import Topic
from slrt.db.migrations import migrate_service
from slrt.deps import attach
from slrt.service import Runtime
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
    Topic.PROGRAM_INFO.value,
    Topic.STAFF_DIRECTORY.value,
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
        with path.open("rb") as f:
            return await import_extract(conn, f, file_name=path.name, started_by="test", area=area)


VILLAGE = "3204052001"  # Cileunyi Kulon, Kecamatan Cileunyi, Kabupaten Bandung


@dataclass(frozen=True)
class Known:
    name: str
    nik: str
    sex: str
    born: date


KNOWN = [
    Known(
        "Nurhalizah Putri",
        make_nik("320405", date(1990, 4, 2), "female", 901),
        "P",
        date(1990, 4, 2),
    ),
    Known(
        "Muhammad Rizki Pratama",
        make_nik("320405", date(1988, 1, 9), "male", 902),
        "L",
        date(1988, 1, 9),
    ),
    Known(
        "Nurhayati Putri",
        make_nik("320405", date(1970, 6, 5), "female", 903),
        "P",
        date(1970, 6, 5),
    ),
    Known(
        "Nur Halimah", make_nik("320405", date(1975, 7, 6), "female", 904), "P", date(1975, 7, 6)
    ),
    # Recorded as male while the NIK says female: a data-quality warning, not a rejection.
    Known(
        "Siti Rahmawati", make_nik("320405", date(1982, 3, 3), "female", 905), "L", date(1982, 3, 3)
    ),
]
KK = make_kk("320405", date(2020, 5, 5), 901)


def known_rows() -> list[dict[str, str]]:
    """One household of people with known names and NIKs, as extract rows (added to a
    generated district, so that lookups have someone to find)."""
    rows = []
    for index, person in enumerate(KNOWN):
        rows.append(
            {
                "household_ref": "3204KNOWN00001",
                "village_code": VILLAGE,
                "address": "Jl. Cileunyi No. 1, RT 001/RW 002",
                "welfare_decile": "2",
                "kk_number": KK,
                "nik": person.nik,
                "name": person.name,
                "sex": person.sex,
                "birth_date": person.born.isoformat(),
                "relation": "head" if index == 0 else "other_relative",
                "disability": "",
                "school_status": "graduated",
                "pmks": "",
                "household_programs": "PKH;BPNT" if index == 0 else "",
                "individual_programs": "PIS_PBI",
                "period": "2026",
            }
        )
    return rows


async def migrate_registry(dsn: str) -> None:
    await migrate_service(dsn, "registry")


def registry_app(pool: asyncpg.Pool, issuer: DevIssuer) -> FastAPI:
    """The aggregates router as the registry mounts it (its pool on the app's runtime)."""
    app = FastAPI()
    problems.install(app)
    verifier = TokenVerifier(
        AuthSettings(jwks_file=issuer.jwks_file, issuer=issuer.issuer, audience=issuer.audience)
    )
    attach(app, Runtime.of("registry", RegistrySettings(), pool=pool, verifier=verifier))
    app.include_router(aggregates.router)
    return app


def fresh_nik(sex: str = "male") -> str:
    """A valid NIK (Cileunyi) no other test uses. Registry tests share the request topic and
    each test's consumer reads it from the start: a request another test published reaches
    this test's database too, so a person a test pre-lists or checks must be its own."""
    born = date(1950, 1, 1) + timedelta(days=secrets.randbelow(365 * 50))
    return make_nik(
        "320405", born, "female" if sex == "female" else "male", 1000 + secrets.randbelow(9000)
    )


def own_household(name: str) -> tuple[list[dict[str, str]], str]:
    """Extract rows of a one-person household no other test has (a fresh NIK, KK and ref), and
    the person's NIK: for tests whose requests must not match in other tests' registries."""
    nik = fresh_nik()
    kk = make_kk("320405", date(2020, 5, 5), 1000 + secrets.randbelow(9000))
    row = {
        **known_rows()[0],
        "household_ref": f"3204OWN{secrets.token_hex(4).upper()}",
        "kk_number": kk,
        "nik": nik,
        "name": name,
        "sex": "L",
        "birth_date": f"19{nik[10:12]}-{nik[8:10]}-{nik[6:8]}",
        "household_programs": "PKH",
        "individual_programs": "",
    }
    return [row], nik
