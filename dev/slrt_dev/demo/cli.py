"""``slrt-demo load`` loads the demo district once; ``slrt-demo play`` plays a working week at
it through every path, checks every outward effect against what each path must produce, and
prints each complaint's timeline, its effects, and the totals."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
from collections import Counter

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from slrt.settings import ConnectionSettings
from slrt_dev.demo import load as loader
from slrt_dev.demo import programs
from slrt_dev.demo.effects import AlsoPlayed, Figure, Oracle
from slrt_dev.demo.handover import Handover, HandoverPlayed
from slrt_dev.demo.paths import PATHS, Who, week
from slrt_dev.demo.people import Person, registered, unregistered
from slrt_dev.demo.play import Player, demo_client
from slrt_dev.demo.played import Played
from slrt_dev.demo.report import timeline_table, totals, totals_table
from slrt_dev.demo.settings import DemoSettings
from slrt_dev.issuer import DevIssuer, default_issuer
from slrt_dev.stack.config import StackSettings

console = Console(width=max(Console().width, 140))


async def people(
    conn: asyncpg.Connection, district: str, count: int, run: int
) -> dict[Who, list[Person]]:
    members = await registered(conn, district, count, run)
    if not members:
        raise SystemExit("the demo district is not loaded: run `slrt-demo load` first")
    outsiders = await unregistered(conn, members[0].village_code, count, run)
    return {Who.REGISTERED: members, Who.UNREGISTERED: outsiders, Who.ANONYMOUS: []}


async def play_week(
    settings: DemoSettings,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    complaints: int,
    *,
    concurrency: int = len(PATHS),
    show_progress: bool = True,
    also: AlsoPlayed | None = None,
    started: asyncio.Event | None = None,
) -> tuple[list[Played], Counter[str], list[str]]:
    """Play the week, then check its outward effects; returns every complaint played, the
    totals, and the dashboard figures that differ from what was played (with ``also``, the
    figures of complaints played beside the week, which wait for ``started``: set once the
    dashboard's figures before the week are read)."""
    paths = week(complaints)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    conn = await asyncpg.connect(connections.postgres_dsn.get_secret_value())
    try:
        who = await people(conn, settings.district, complaints, random.randrange(100_000))
        async with demo_client() as http:
            oracle = Oracle(settings, issuer, http, conn)
            before = await oracle.figures()
            if started is not None:
                started.set()
            with Progress(*columns, console=console, disable=not show_progress) as bar:
                task = bar.add_task("playing the week", total=len(paths))
                played = await Player(settings, issuer, http).play(
                    paths,
                    who,
                    concurrency=concurrency,
                    on_done=lambda _: bar.advance(task),
                )
                checking = bar.add_task("checking the outside world", total=1)
                figures_wrong = await oracle.check(played, before, also)
                bar.advance(checking)
    finally:
        await conn.close()
    return played, totals(played), figures_wrong


async def week_with_handover(
    settings: DemoSettings,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    complaints: int,
    *,
    concurrency: int,
) -> tuple[tuple[list[Played], Counter[str], list[str]], HandoverPlayed]:
    """The week, and mid-week one facilitator's handover (``slrt_dev.demo.handover``); the
    week's dashboard check counts the handover's complaints too."""
    async with demo_client() as http:
        handover = Handover(settings, issuer, http)
        started = asyncio.Event()

        async def mid_week() -> HandoverPlayed:
            await started.wait()  # after the week's "before" figures: its complaints count once
            return await handover.play()

        playing = asyncio.create_task(mid_week())

        async def handover_figures() -> Counter[Figure]:
            return await handover.figures(await asyncio.shield(playing))

        try:
            week_played = await play_week(
                settings,
                connections,
                issuer,
                complaints,
                concurrency=concurrency,
                also=handover_figures,
                started=started,
            )
            return week_played, await playing
        finally:
            playing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await playing


def handover_line(handed: HandoverPlayed) -> str:
    if handed.problem is not None:
        return f"handover: not as expected ({handed.problem})"
    return (
        f"handover: {handed.leaving} -> {handed.successor} ({', '.join(handed.villages)}): "
        f"{handed.moved} of {len(handed.complaints)} open visits moved, "
        f"{handed.closed} closed under the successor"
    )


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
    play.add_argument(
        "--concurrency",
        type=int,
        default=len(PATHS),
        help=f"complaints in flight at once (default {len(PATHS)}: one per path)",
    )
    args = parser.parse_args(argv)
    settings = DemoSettings()
    connections = ConnectionSettings()
    if args.command == "load":
        stack = StackSettings()
        try:
            programs.seed(
                f"http://127.0.0.1:{stack.registry_port}",
                default_issuer(),
                settings.district,
                settings.webhook_receiver_url,
            )
            console.print(f"demo programs: {', '.join(programs.specs(settings.district, '', ''))}")
        except httpx.HTTPError:
            console.print("the registry is not running: the demo programs wait for `make up`")
        if asyncio.run(loader.loaded(connections, settings)):
            console.print(f"demo district {settings.district} already loaded")
            return 0
        extract = loader.load(settings)
        console.print(f"demo district {settings.district} loaded from {extract}")
        return 0
    issuer = default_issuer()
    (played, counts, figures_wrong), handed = asyncio.run(
        week_with_handover(
            settings, connections, issuer, args.complaints, concurrency=args.concurrency
        )
    )
    console.print(timeline_table(played))
    console.print(totals_table(counts, figures_wrong))
    console.print(handover_line(handed))
    week_ok = counts["as expected"] == len(played) and not figures_wrong
    return 0 if week_ok and handed.as_expected else 1


if __name__ == "__main__":
    sys.exit(main())
