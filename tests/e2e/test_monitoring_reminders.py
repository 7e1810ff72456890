"""A monitoring round left in draft past its due day reaches the district's managers in their
daily digest: the dashboard (its own process, the schedule loop) asks through its outbox, the
notifier (its own process) keeps it for the digest, and at the digest hour the email arrives at
the SMTP stand-in — at the contacts file's mailbox for a district whose managers are not in the
staff directory (3204 here), at the manager's own address for a district whose manager the
directory knows (3212: a person added through the registry's ``/v1/staff``)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
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
# Kabupaten Indramayu: no other test works there. The manager added here reaches the session's
# shared ``slrt.staff.directory`` topic and stays active: in a district other tests use (3273)
# they would become the addressee of those tests' reminders and escalations.
DIRECTORY_DISTRICT = "3212"


async def _directory_manager(
    registry: str, auth: Callable[[str, str], dict[str, str]]
) -> dict[str, Any]:
    """Indramayu's administrator adds the district's manager to the staff directory."""
    tag = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(timeout=30) as http:
        created = await http.post(
            f"{registry}/v1/staff/persons",
            headers=auth("administrator", DIRECTORY_DISTRICT),
            json={
                "subject": f"kc-manajer-{tag}",
                "display_name": "Hendra Gunawan",
                "email": f"manajer-{tag}@dinsos.indramayukab.example",
                "roles": ["manager"],
                "areas": [DIRECTORY_DISTRICT],
            },
        )
    assert created.status_code == 201, created.text
    person: dict[str, Any] = created.json()
    return person


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
            "SLRT_DASHBOARD_MONITORING_AREAS": json.dumps(["3204", DIRECTORY_DISTRICT]),
            "SLRT_DASHBOARD_REPORT_CHECK_SECONDS": "1",
        }
        with stack:
            manager = await _directory_manager(services.urls["registry"], services.auth)
            person = f"person:{manager['person_id']}"
            conn = await asyncpg.connect(dsn)
            try:
                # The notifier's copy of the directory holds the manager before the dashboard
                # asks for its first reminder.
                await poll(
                    lambda: conn.fetchval(
                        "SELECT count(*) FROM notifier.staff_persons WHERE person_id = $1",
                        uuid.UUID(manager["person_id"]),
                    ),
                    lambda n: n == 1,
                )
                with service_process("dashboard", env, log_dir) as dashboard:
                    mails = await _reminded(dashboard, conn, services.issuer.token, person)
                    async with httpx.AsyncClient(timeout=30) as http:

                        def arrived(to: str, ticket: str) -> Callable[[], Any]:
                            async def ours() -> list[dict[str, Any]]:
                                got = await http.get(f"http://127.0.0.1:{smtp_http}/_received")
                                return [
                                    m for m in got.json() if m["to"] == to and ticket in m["text"]
                                ]

                            return ours

                        (mail,) = await poll(
                            arrived(MAILBOX, "Kuesioner pemantauan 2026-Q1 Kabupaten Bandung"),
                            bool,
                        )
                        # The directory's manager, at their own address, not a mailbox.
                        (personal,) = await poll(
                            arrived(
                                manager["email"], "Kuesioner pemantauan 2026-Q1 Kabupaten Indramayu"
                            ),
                            bool,
                        )
                    assert mails >= 1
            finally:
                await conn.close()
    # One email for the person (the digest), whatever else was due for them that day.
    for sent in (mail, personal):
        assert sent["subject"] in ("Rekap harian SLRT", "Pengingat pemantauan SLRT")
        assert "terlambat 2026-04-10" in sent["text"]


async def _reminded(
    dashboard: str,
    conn: asyncpg.Connection,
    token_of: Callable[..., str],
    person: str,
) -> int:
    """Open 2026-Q1's rounds (overdue), see the reminders wait for the digests (the contacts
    file's mailbox of 3204, the directory's manager of 3212), bring the digest hour forward and
    see them delivered; how many of the person's deliveries went out."""
    token = token_of("setnas-1", [Role.MANAGER], "")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=30) as http:
        opened = await http.post(
            f"{dashboard}/v1/monitoring/rounds/open",
            json={"quarter": "2026-Q1"},  # due 10 April 2026: overdue
            headers=headers,
        )
        assert opened.status_code == 200, opened.text
        assert len(opened.json()["opened"]) == 2
        listed = await http.get(
            f"{dashboard}/v1/monitoring/rounds", params={"quarter": "2026-Q1"}, headers=headers
        )
        rounds = {r["area"]: r["round_id"] for r in listed.json()["rounds"]}
        assert set(rounds) == {"3204", DIRECTORY_DISTRICT}
        # The schedule opened the last completed quarter's rounds by itself.
        last = rules.quarter_label(
            last_completed("quarterly", datetime.now(ZoneInfo("Asia/Jakarta")).date())
        )
        scheduled = await poll(
            lambda: http.get(
                f"{dashboard}/v1/monitoring/rounds", params={"quarter": last}, headers=headers
            ),
            lambda r: len(r.json()["rounds"]) == 2,
        )
        assert {r["area"] for r in scheduled.json()["rounds"]} == {"3204", DIRECTORY_DISTRICT}

    to_mailbox = uuid.uuid5(uuid.UUID(rounds["3204"]), "overdue:manager:3204")
    # The notifier keeps them for the daily digests: the mailbox's, and the person's (the
    # reminder addressed `manager:3212` resolved to the directory's manager) ...
    status = await poll(
        lambda: conn.fetchval(
            "SELECT status FROM notifier.deliveries WHERE request_id = $1", to_mailbox
        ),
        lambda s: s == "digest",
    )
    assert status == "digest"
    ticket = "Kuesioner pemantauan 2026-Q1 Kabupaten Indramayu%"
    personal = await poll(
        lambda: conn.fetch(
            "SELECT status, request->'params'->>'addressed_to' AS addressed_to "
            "FROM notifier.deliveries WHERE destination = $1 "
            "AND request->'params'->>'ticket' LIKE $2",
            person,
            ticket,
        ),
        lambda rows: len(rows) == 1 and rows[0]["status"] == "digest",
    )
    assert personal[0]["addressed_to"] == f"manager:{DIRECTORY_DISTRICT}"
    # ... and the digest hour arrives (07:00 in Jakarta, brought forward).
    await conn.execute(
        "UPDATE notifier.deliveries SET next_attempt_at = now() "
        "WHERE status = 'digest' AND destination = ANY($1::text[])",
        ["manager:3204", person],
    )
    await poll(
        lambda: conn.fetchval(
            "SELECT status FROM notifier.deliveries WHERE request_id = $1", to_mailbox
        ),
        lambda s: s == "delivered",
    )
    delivered: int = await poll(
        lambda: conn.fetchval(
            "SELECT count(*) FROM notifier.deliveries WHERE destination = $1 "
            "AND status = 'delivered'",
            person,
        ),
        lambda n: n >= 1,
    )
    return delivered
