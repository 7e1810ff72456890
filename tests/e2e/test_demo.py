"""The demo as a test and as the oracle, with a small district: the five services as
processes, the notifier's stand-ins for the outside world (LAPOR!, SIKS-NG, the SMS gateway,
the SMTP sink, a program's own system behind a signed webhook), the demo district's programs in the
catalog, every path of the week played through the public APIs. Every path reaches its
expected end state, every submitted complaint is accounted for, and every outward effect is
what its path must produce (``slrt_dev.demo.effects``): the household's messages, each
referral at its destination and its answer, the public tracking page, the dashboard's
figures."""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack
from pathlib import Path

import asyncpg
import pytest

from slrt.settings import ConnectionSettings
from slrt_dev.demo import load as loader
from slrt_dev.demo import programs
from slrt_dev.demo.cli import console, play_week
from slrt_dev.demo.paths import PATHS
from slrt_dev.demo.played import EFFECTS
from slrt_dev.demo.report import timeline_table, totals_table
from slrt_dev.demo.settings import DemoSettings
from slrt_dev.stack.config import StackSettings
from slrt_dev.stack.process import free_port
from slrt_dev.stack.standins import write_contacts
from tests.support.harness import WEBHOOK_KEY, service_process, standin, start_services

WEBHOOK_SECRET_REF = "e2e-callbacks"
"""The secret reference under which the harness gives the services WEBHOOK_KEY."""


@pytest.mark.timeout(600)  # the district, five services, the week (a referral expiring: ~80 s)
async def test_the_week_at_a_small_district_ends_every_path_where_it_should_with_its_effects(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path, tmp_path: Path
) -> None:
    settings = DemoSettings(district="3204", individuals=300, data_dir=tmp_path / "demo")
    dsn = connections.postgres_dsn.get_secret_value()
    assert not await loader.loaded(connections, settings)
    env = {**os.environ, "SLRT_POSTGRES_DSN": dsn}
    await asyncio.to_thread(loader.load, settings, env)
    assert await loader.loaded(connections, settings)

    smtp_http = free_port()
    contacts = tmp_path / "notifier-contacts.json"
    write_contacts(contacts, settings.district)  # the facilitators' tasks reach the SMTP sink
    with ExitStack() as outside:
        lapor = outside.enter_context(standin("lapor", log_dir))
        siks_ng = outside.enter_context(standin("siks_ng", log_dir))
        sms = outside.enter_context(standin("sms_gateway", log_dir))
        smtp = outside.enter_context(
            standin("smtp_sink", log_dir, "--folder", str(tmp_path), "--http-port", str(smtp_http))
        )
        receiver = outside.enter_context(
            standin("webhook_receiver", log_dir, env={"STANDIN_WEBHOOK_SECRET": WEBHOOK_KEY})
        )
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_LAPOR_URL=f"http://127.0.0.1:{lapor}",
            SLRT_NOTIFIER_LAPOR_POLL_SECONDS="1",
            SLRT_NOTIFIER_SIKS_NG_URL=f"http://127.0.0.1:{siks_ng}",
            SLRT_NOTIFIER_SIKS_NG_POLL_SECONDS="1",
            SLRT_NOTIFIER_SMS_GATEWAY_URL=f"http://127.0.0.1:{sms}",
            SLRT_NOTIFIER_SMTP_PORT=str(smtp),
            SLRT_NOTIFIER_CONTACTS_FILE=str(contacts),
            SLRT_REGISTRY_PLAIN_HTTP_CALLBACK_HOSTS='["127.0.0.1"]',
            SLRT_INTAKE_TRACKING_LIMIT_PER_MINUTE="1000",
            # The local stack's sped-up SLA clock: the no-response referral expires in ~70 s.
            SLRT_ROUTING_SLA_CLOCK_SPEED=str(StackSettings.model_fields["sla_clock_speed"].default),
        )
        with stack:
            dashboard = stack.enter_context(
                service_process(
                    "dashboard",
                    {
                        # The stack's consumer-group prefix: the dashboard, too, counts
                        # this week only (its group starts where the others' do).
                        **services.env,
                        "SLRT_DASHBOARD_REGISTRY_URL": services.urls["registry"],
                        "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": services.urls["intake"],
                    },
                    log_dir,
                )
            )
            webhook_url = f"http://127.0.0.1:{receiver}"
            seeded = await asyncio.to_thread(
                programs.seed,
                services.urls["registry"],
                services.issuer,
                settings.district,
                webhook_url,
                WEBHOOK_SECRET_REF,
            )
            assert set(seeded) == {programs.WEBHOOK_PROGRAM, programs.ANSWER_LINK_PROGRAM}
            demo = settings.model_copy(
                update={
                    "intake_url": services.urls["intake"],
                    "notifier_url": services.urls["notifier"],
                    "registry_url": services.urls["registry"],
                    "dashboard_url": dashboard,
                    "lapor_url": f"http://127.0.0.1:{lapor}",
                    "siks_ng_url": f"http://127.0.0.1:{siks_ng}",
                    "webhook_receiver_url": webhook_url,
                    "sms_gateway_url": f"http://127.0.0.1:{sms}",
                    "smtp_sink_url": f"http://127.0.0.1:{smtp_http}",
                }
            )
            played, counts, figures_wrong = await play_week(
                demo, connections, services.issuer, len(PATHS), show_progress=False
            )

    # The demo's printout, shown with ``pytest -s``.
    console.print(timeline_table(played))
    console.print(totals_table(counts, figures_wrong))
    assert {p.path.key for p in played} == {p.key for p in PATHS}
    assert counts["submitted"] == len(PATHS)
    assert counts["not submitted"] == 0
    ended = sum(n for key, n in counts.items() if key.startswith("ended "))
    assert ended == counts["submitted"]
    # Every path ends where it must, and shows every effect its path must produce: one list
    # of all that differs, so that a failure names every path and effect at once.
    differs = {
        p.path.key: {
            **(
                {"end": [f"{p.step} ({p.outcome}) {p.problem or ''}"]}
                if not p.ended_as_expected
                else {}
            ),
            **{effect: p.wrong[effect] for effect in EFFECTS if p.wrong.get(effect)},
        }
        for p in played
        if not p.as_expected
    }
    assert differs == {}
    assert figures_wrong == []
    # Every complaint the demo submitted is in intake's records, and no other.
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetchval("SELECT count(*) FROM intake.complaints")
        # The stack's consumer groups are its own and start at the topics' ends: requests
        # other tests left on the shared topic are no pre-list entries here.
        prelist = await conn.fetchval("SELECT count(*) FROM registry.prelist_entries")
    finally:
        await conn.close()
    assert stored == len(PATHS)
    assert prelist == 1
