"""``python -m services.dashboard [serve|rebuild]``: run the dashboard service, or rebuild its
read model from the lifecycle and catalog topics."""

from __future__ import annotations

import argparse
import asyncio

from services.dashboard.app import create_app
from services.dashboard.rebuild import RebuildStalled, rebuild
from services.dashboard.settings import DashboardSettings
from slrt.db import create_pool
from slrt.db.migrations import migrate_service
from slrt.service import run


async def _rebuild(settings: DashboardSettings) -> int:
    dsn = settings.connections.postgres_dsn.get_secret_value()
    await migrate_service(dsn, "dashboard")
    pool = await create_pool(settings.connections, "dashboard")
    try:
        return await rebuild(settings, pool)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="slrt-dashboard")
    parser.add_argument("command", nargs="?", default="serve", choices=("serve", "rebuild"))
    command = parser.parse_args().command
    settings = DashboardSettings()
    if command == "rebuild":
        try:
            applied = asyncio.run(_rebuild(settings))
        except (RebuildStalled, ValueError) as error:  # nothing committed: the old figures stay
            parser.exit(1, f"rebuild failed, the read model is unchanged: {error}\n")
        print(f"read model rebuilt from {applied} events")
        return
    run("dashboard", settings, create_app(settings))


if __name__ == "__main__":
    main()
