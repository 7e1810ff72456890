"""The demo as a test, with a small district: the four services as processes, the notifier's
stand-ins for the outside world, every path of the week played through the public APIs. Every
path reaches its expected end state and every submitted complaint is accounted for."""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack
from pathlib import Path

import asyncpg

from slrt.settings import ConnectionSettings
from slrt_dev.demo import load as loader
from slrt_dev.demo.cli import console, play_week
from slrt_dev.demo.paths import PATHS
from slrt_dev.demo.report import timeline_table, totals_table
from slrt_dev.demo.settings import DemoSettings
from slrt_dev.stack.config import StackSettings
from tests.support.harness import standin, start_services


async def test_the_week_at_a_small_district_ends_every_path_where_it_should(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path, tmp_path: Path
) -> None:
    settings = DemoSettings(district="3204", individuals=300, data_dir=tmp_path / "demo")
    dsn = connections.postgres_dsn.get_secret_value()
    assert not await loader.loaded(connections, settings)
    env = {**os.environ, "SLRT_POSTGRES_DSN": dsn}
    await asyncio.to_thread(loader.load, settings, env)
    assert await loader.loaded(connections, settings)

    with ExitStack() as outside:
        lapor = outside.enter_context(standin("lapor", log_dir))
        sms = outside.enter_context(standin("sms_gateway", log_dir))
        smtp = outside.enter_context(standin("smtp_sink", log_dir, "--folder", str(tmp_path)))
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_LAPOR_URL=f"http://127.0.0.1:{lapor}",
            SLRT_NOTIFIER_LAPOR_POLL_SECONDS="1",
            SLRT_NOTIFIER_SMS_GATEWAY_URL=f"http://127.0.0.1:{sms}",
            SLRT_NOTIFIER_SMTP_PORT=str(smtp),
            # The local stack's sped-up SLA clock: the no-response referral expires in ~70 s.
            SLRT_ROUTING_SLA_CLOCK_SPEED=str(StackSettings.model_fields["sla_clock_speed"].default),
        )
        with stack:
            demo = settings.model_copy(
                update={
                    "intake_url": services.urls["intake"],
                    "notifier_url": services.urls["notifier"],
                    "lapor_url": f"http://127.0.0.1:{lapor}",
                }
            )
            played, counts = await play_week(
                demo, connections, services.issuer, len(PATHS), show_progress=False
            )

    # The demo's printout, shown with ``pytest -s``.
    console.print(timeline_table(played))
    console.print(totals_table(counts))
    problems = {p.path.key: (p.step, p.outcome, p.problem) for p in played if not p.as_expected}
    assert problems == {}
    assert {p.path.key for p in played} == {p.key for p in PATHS}
    assert counts["submitted"] == len(PATHS)
    assert counts["not submitted"] == 0
    ended = sum(n for key, n in counts.items() if key.startswith("ended "))
    assert ended == counts["submitted"]
    # Every complaint the demo submitted is in intake's records, and no other.
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM intake.complaints")
        prelist = await conn.fetchval("SELECT count(*) FROM registry.prelist_entries")
    finally:
        await conn.close()
    assert stored == len(PATHS)
    assert prelist == 1
