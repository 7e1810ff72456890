"""``slrt-demo load`` loads the demo district once; ``slrt-demo play`` plays a working week at
it through every path and prints each complaint's timeline and the totals."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from slrt.settings import ConnectionSettings
from slrt_dev.demo import load as loader
from slrt_dev.demo.paths import PATHS, Who, week
from slrt_dev.demo.people import Person, registered, unregistered
from slrt_dev.demo.play import Player
from slrt_dev.demo.played import Played
from slrt_dev.demo.report import timeline_table, totals, totals_table
from slrt_dev.demo.settings import DemoSettings
from slrt_dev.issuer import DevIssuer, default_issuer

console = Console(width=max(Console().width, 140))


async def people(
    connections: ConnectionSettings, district: str, count: int
) -> dict[Who, list[Person]]:
    conn = await asyncpg.connect(connections.postgres_dsn.get_secret_value())
    try:
        members = await registered(conn, district, count)
        if not members:
            raise SystemExit("the demo district is not loaded: run `slrt-demo load` first")
        outsiders = await unregistered(conn, members[0].village_code, count)
    finally:
        await conn.close()
    return {Who.REGISTERED: members, Who.UNREGISTERED: outsiders, Who.ANONYMOUS: []}


async def play_week(
    settings: DemoSettings,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    complaints: int,
    *,
    concurrency: int = 8,
    show_progress: bool = True,
) -> tuple[list[Played], Counter[str]]:
    paths = week(complaints)
    who = await people(connections, settings.district, complaints)
    columns = (
        TextColumn("playing the week"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not show_progress) as bar:
        task = bar.add_task("week", total=len(paths))
        async with httpx.AsyncClient(timeout=30) as http:
            played = await Player(settings, issuer, http).play(
                paths,
                who,
                concurrency=concurrency,
                on_done=lambda _: bar.advance(task),
            )
    return played, totals(played)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slrt-demo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("load", help="generate and import the demo district (once)")
    play = sub.add_parser("play", help="play a working week at the district")
    play.add_argument(
        "--complaints",
        type=int,
        default=3 * len(PATHS),
        help=f"how many complaints (paths repeat; default {3 * len(PATHS)})",
    )
    play.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    settings = DemoSettings()
    connections = ConnectionSettings()
    if args.command == "load":
        if asyncio.run(loader.loaded(connections, settings)):
            console.print(f"demo district {settings.district} already loaded")
            return 0
        extract = loader.load(settings)
        console.print(f"demo district {settings.district} loaded from {extract}")
        return 0
    issuer = default_issuer()
    played, counts = asyncio.run(
        play_week(settings, connections, issuer, args.complaints, concurrency=args.concurrency)
    )
    console.print(timeline_table(played))
    console.print(totals_table(counts))
    return 0 if counts["as expected"] == len(played) else 1


if __name__ == "__main__":
    sys.exit(main())
