"""Messages to persons (issue 19), on the real stack: the notifier as its own process, the SMTP
sink stand-in as its own, the staff directory's records on ``slrt.staff.directory`` as the
registry publishes them, and the complaint workflow's reminders on
``slrt.notification.requests`` as it sends them (addressed ``facilitator:<village>``). The
facilitator holding both villages (two sub-districts) gets one email at the local digest time,
addressed to them, grouping their step overdue and their step at risk; nothing before."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx

from slrt.auth.principal import Role
from slrt.contracts.events import NotificationRequested
from slrt.contracts.vocabulary import NotificationKind
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.sandbox.groups import SERVICE_GROUPS, own_groups
from slrt_dev.stack.process import free_port
from tests.support import staff
from tests.support.harness import service_env, service_process, standin
from tests.support.polling import until

RUN = uuid.uuid4().hex[:6]
# Kabupaten Bandung Barat (Pagerwangi, Lembang; Karyawangi, Parongpong): no other test works
# there. The directory's records go on the session's one ``slrt.staff.directory`` topic, which
# every later test's notifier and intake copy; in villages other tests use, this facilitator
# would take their reminders and tasks.
V1, V2 = "3217012001", "3217022001"
ZONE = "Asia/Jakarta"
SINCE = datetime.now(UTC) - timedelta(days=30)


def _digest_moment(lead: timedelta) -> datetime:
    """The first whole minute at least ``lead`` from now (UTC)."""
    soonest = datetime.now(UTC) + lead
    return datetime.fromtimestamp(math.ceil(soonest.timestamp() / 60) * 60, UTC)


async def test_a_digest_reaches_a_person_by_email_at_the_local_digest_time(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    facilitator = staff.person(
        [Role.FACILITATOR],
        ["321701", "321702"],
        since=SINCE,
        subject=f"fasilitator-{RUN}",
        display_name="Fasilitator Uji",
        email=f"fasilitator-{RUN}@example.go.id",
        phone="+6281234500009",
    )
    villages = [staff.village(v, staff.spell(facilitator, SINCE), at=SINCE) for v in (V1, V2)]
    moment = _digest_moment(timedelta(seconds=45))
    local = moment.astimezone(ZoneInfo(ZONE))
    smtp_http = free_port()
    today = datetime.now(ZoneInfo(ZONE)).date()
    overdue_ticket, at_risk_ticket = f"3217-26-{RUN}-1", f"3217-26-{RUN}-2"
    reminders = [
        NotificationRequested(
            request_id=uuid.uuid4(),
            complaint_id=uuid.uuid4(),
            place_code=village,
            kind=NotificationKind.REMINDER,
            destination=f"facilitator:{village}",
            template="step_at_risk",
            params={
                "ticket": ticket,
                "clock": "step",
                "step": "feedback",
                "due_on": due.isoformat(),
            },
        )
        for village, ticket, due in (
            (V1, overdue_ticket, today - timedelta(days=1)),
            (V2, at_risk_ticket, today + timedelta(days=2)),
        )
    ]
    with (
        standin("smtp_sink", log_dir, "--http-port", str(smtp_http)) as smtp,
        service_process(
            "notifier",
            service_env(
                # groups of its own from now on: the requests other tests left on the shared
                # topics are not this notifier's to send
                own_groups(connections, SERVICE_GROUPS["notifier"]),
                SLRT_NOTIFIER_SMTP_PORT=str(smtp),
                SLRT_NOTIFIER_SMS_GATEWAY_URL="http://127.0.0.1:9",
                SLRT_NOTIFIER_LAPOR_URL="http://127.0.0.1:9",
                SLRT_NOTIFIER_SIKS_NG_URL="http://127.0.0.1:9",
                SLRT_NOTIFIER_DISPATCH_POLL_SECONDS="0.5",
                SLRT_NOTIFIER_DIGEST_TIMEZONE=ZONE,
                SLRT_NOTIFIER_DIGEST_HOUR=str(local.hour),
                SLRT_NOTIFIER_DIGEST_MINUTE=str(local.minute),
            ),
            log_dir,
        ),
    ):
        # And the facilitator ends when the test is done, whatever happens: nothing of this
        # test stays active on the shared topic.
        try:
            await staff.publish(connections, facilitator, *villages)

            async def copied() -> bool:
                conn = await asyncpg.connect(dsn)
                try:
                    return bool(
                        await conn.fetchval(
                            "SELECT count(*) = 2 FROM notifier.staff_village_assignments "
                            "WHERE village_code = ANY($1)",
                            [V1, V2],
                        )
                    )
                finally:
                    await conn.close()

            await until(copied, timeout=60)
            async with EventProducer(connections, "/slrt/routing") as events:
                for reminder in reminders:
                    await events.publish(reminder, subject=str(reminder.complaint_id))

            async def waiting() -> list[asyncpg.Record] | None:
                conn = await asyncpg.connect(dsn)
                try:
                    rows = await conn.fetch(
                        "SELECT destination, status, next_attempt_at FROM notifier.deliveries "
                        "WHERE request_id = ANY($1)",
                        [r.request_id for r in reminders],
                    )
                finally:
                    await conn.close()
                return rows if len(rows) == 2 else None

            rows = await until(waiting, timeout=30)
            assert datetime.now(UTC) < moment, (
                "the reminders must be recorded before the digest time"
            )
            assert {r["destination"] for r in rows} == {f"person:{facilitator.person_id}"}
            assert {r["status"] for r in rows} == {"digest"}
            assert {r["next_attempt_at"] for r in rows} == {moment}

            async def received() -> list[dict[str, Any]]:
                async with httpx.AsyncClient(timeout=10) as http:
                    got: list[dict[str, Any]] = (
                        await http.get(f"http://127.0.0.1:{smtp_http}/_received")
                    ).json()
                return got

            assert await received() == []

            async def digest() -> dict[str, Any] | None:
                mine = [m for m in await received() if overdue_ticket in m["text"]]
                return mine[0] if mine else None

            email = await until(digest, timeout=180)
            assert datetime.now(UTC) >= moment
            assert email["to"] == facilitator.email
            assert email["subject"] == "Rekap harian SLRT"
            assert f"Lewat tenggat: {overdue_ticket}." in email["text"]
            assert f"Berisiko terlambat: {at_risk_ticket}." in email["text"]
            assert len(await received()) == 1, "one digest for both reminders"
        finally:
            await staff.end(connections, facilitator)
