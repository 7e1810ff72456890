"""Loads the demo district once: the registry generator writes a synthetic DT-PPFM extract of
one regency (its real sub-districts and villages), the registry importer loads it. A second
run finds the import recorded and does nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import asyncpg

from slrt.settings import ConnectionSettings
from slrt_dev.demo.settings import DemoSettings

IMPORTED_BY = "demo-loader"


def extract_name(settings: DemoSettings) -> str:
    return f"demo-{settings.district}-{settings.individuals}-{settings.seed}.csv"


async def loaded(connections: ConnectionSettings, settings: DemoSettings) -> bool:
    conn = await asyncpg.connect(connections.postgres_dsn.get_secret_value())
    try:
        if not await conn.fetchval("SELECT to_regclass('registry.imports') IS NOT NULL"):
            return False
        return bool(
            await conn.fetchval(
                "SELECT 1 FROM registry.imports WHERE file_name = $1 AND started_by = $2",
                extract_name(settings),
                IMPORTED_BY,
            )
        )
    finally:
        await conn.close()


def load(settings: DemoSettings, env: dict[str, str] | None = None) -> Path:
    """Generate and import the district (the caller checked :func:`loaded`)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    extract = settings.data_dir / extract_name(settings)
    run = [sys.executable, "-m"]
    subprocess.run(
        [
            *run,
            "slrt_dev.synthetic",
            "--district",
            settings.district,
            "--individuals",
            str(settings.individuals),
            "--seed",
            str(settings.seed),
            "--out",
            str(extract),
        ],
        check=True,
        env=env,
    )
    subprocess.run(
        [
            *run,
            "services.registry.importer",
            str(extract),
            "--errors",
            str(extract.with_suffix(".errors.csv")),
            "--as",
            IMPORTED_BY,
        ],
        check=True,
        env=env,
    )
    return extract
