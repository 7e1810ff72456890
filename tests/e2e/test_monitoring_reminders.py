"""A monitoring round left in draft past its due day reaches the district's managers in their
daily digest: the dashboard (its own process, the schedule loop) asks through its outbox, the
notifier (its own process, with the contact directory) keeps it for the digest, and at the
digest hour the email arrives at the SMTP stand-in."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from services.dashboard.domain import monitoring as rules
from services.dashboard.domain.periods import last_completed
from slrt.auth.principal import Role
from slrt.settings import ConnectionSettings
from slrt_dev.stack.process import free_port
from tests.support.harness import service_process, standin, start_services
from tests.support.polling import poll

MAILBOX = "sekretariat-3204@slrt.example.go.id"


async def test_an_overdue_round_reaches_the_managers_daily_digest(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path, tmp_path: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    contacts = tmp_path / "contacts.json"
    await asyncio.to_thread(
        contacts.write_text, json.dumps({"manager:3204": {"email": MAILBOX, "language": "id"}})
    )
    smtp_http = free_port()
    with standin(
        "smtp_sink", log_dir, "--folder", str(tmp_path), "--http-port", str(smtp_http)
    ) as smtp:
        stack, services = start_services(
            connections,
            log_dir,
            SLRT_NOTIFIER_SMTP_PORT=str(smtp),
            SLRT_NOTIFIER_CONTACTS_FILE=str(contacts),
        )
        env = {
            **services.env,
            "SLRT_DASHBOARD_REGISTRY_URL": services.urls["registry"],
            "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": services.urls["intake"],
            "SLRT_DASHBOARD_CONSUMER_GROUP": f"dashboard-monitoring-{uuid.uuid4().hex[:8]}",
            "SLRT_DASHBOARD_MONITORING_AREAS": '["3204"]',
            "SLRT_DASHBOARD_REPORT_CHECK_SECONDS": "1",
        }
        with stack, service_process("dashboard", env, log_dir) as dashboard:
            token = services.issuer.token("setnas-1", [Role.MANAGER], "")
            async with httpx.AsyncClient(timeout=30) as http:
                opened = await http.post(
                    f"{dashboard}/v1/monitoring/rounds/open",
                    json={"quarter": "2026-Q1"},  # due 10 April 2026: overdue
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert opened.status_code == 200, opened.text
                (round_id,) = opened.json()["opened"]
                # The schedule opened the last completed quarter's round by itself.
                last = rules.quarter_label(
                    last_completed("quarterly", datetime.now(ZoneInfo("Asia/Jakarta")).date())
                )
                scheduled = await poll(
                    lambda: http.get(
                        f"{dashboard}/v1/monitoring/rounds",
                        params={"quarter": last},
                        headers={"Authorization": f"Bearer {token}"},
                    ),
                    lambda r: len(r.json()["rounds"]) == 1,
                )
                assert scheduled.json()["rounds"][0]["area"] == "3204"
                request_id = uuid.uuid5(uuid.UUID(round_id), "overdue:manager:3204")

                conn = await asyncpg.connect(dsn)
                try:
                    # The notifier keeps it for the manager's daily digest ...
                    status = await poll(
                        lambda: conn.fetchval(
                            "SELECT status FROM notifier.deliveries WHERE request_id = $1",
                            request_id,
                        ),
                        lambda s: s == "digest",
                    )
                    assert status == "digest"
                    # ... and the digest hour arrives (07:00 in Jakarta, brought forward).
                    await conn.execute(
                        "UPDATE notifier.deliveries SET next_attempt_at = now() "
                        "WHERE status = 'digest' AND destination = 'manager:3204'"
                    )
                    await poll(
                        lambda: conn.fetchval(
                            "SELECT status FROM notifier.deliveries WHERE request_id = $1",
                            request_id,
                        ),
                        lambda s: s == "delivered",
                    )
                finally:
                    await conn.close()

                async def ours() -> list[dict[str, Any]]:
                    received = await http.get(f"http://127.0.0.1:{smtp_http}/_received")
                    return [
                        m
                        for m in received.json()
                        if m["to"] == MAILBOX
                        and "Kuesioner pemantauan 2026-Q1 Kabupaten Bandung" in m["text"]
                    ]

                (mail,) = await poll(ours, bool)
    # One email for the person (the digest), whatever else was due for them that day.
    assert mail["subject"] in ("Rekap harian SLRT", "Pengingat pemantauan SLRT")
    assert "terlambat 2026-04-10" in mail["text"]
