"""Household messages on the real stack: the notifier redeems the contact reference at the real
intake (served on loopback, its own schema), the SMS and the email copy arrive at the stand-ins,
intake audits each redemption, intake being down only delays the message, an unknown reference
fails, and a household without phone or email is told by its village facilitator."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.intake.app import create_app
from slrt.auth.principal import Role
from slrt.auth.tokens import AuthSettings
from slrt.contracts.contacts import FACILITATOR_CHANNEL, household_reference
from slrt.contracts.events import NotificationRequested, ProgramCatalogEntry
from slrt.contracts.topics import ALL_TOPICS, dead_letter_topic
from slrt.contracts.vocabulary import Category, NotificationKind, ProgramChannel
from slrt.deps import runtime_of
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import NOTIFIER_TOKEN_ENV, DevIssuer, notifier_service_token
from slrt_dev.standins.server import free_port, serving
from tests.support.harness import RealStack
from tests.support.intake import ISSUER, settings_for, walk_in
from tests.support.notifier import StandIns, StartNotifier, outcomes_for
from tests.support.polling import poll

PHONE = "081234567890"
E164 = "+6281234567890"
FACILITATOR_MAIL = "fasilitator.3204052001@example.id"


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DevIssuer:
    issuer = DevIssuer(tmp_path / "issuer", ISSUER, "slrt")
    issuer.ensure_keys()
    monkeypatch.setenv(NOTIFIER_TOKEN_ENV, notifier_service_token(issuer))
    return issuer


@pytest.fixture
async def topics(real_stack: RealStack) -> None:
    await real_stack.create_topics(
        *ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS), partitions=2
    )


@asynccontextmanager
async def intake_at(
    connections: ConnectionSettings, issuer: DevIssuer, port: int
) -> AsyncIterator[str]:
    """The real intake service, in-process, listening on loopback at ``port``."""
    app = create_app(
        settings_for(connections),
        AuthSettings(issuer=ISSUER, audience="slrt", jwks_file=issuer.jwks_file),
    )
    async with app.router.lifespan_context(app), serving(app, port) as url:
        await program_known(app, "PKH")
        yield url


async def program_known(app: FastAPI, code: str) -> None:
    """Intake refuses a program its catalog copy lacks: publish ``code`` on the (session-shared)
    catalog topic and wait until this intake holds it, whatever other tests published."""
    runtime = runtime_of(app)
    entry = ProgramCatalogEntry(
        code=code,
        name=code,
        level="national",
        owner_agency="Kementerian Sosial",
        channel=ProgramChannel.DIRECT,
        categories=list(Category),
        sla_working_days=10,
        version=1,
    )
    await runtime.producer.publish(entry, subject=code)

    async def held() -> bool:
        return bool(await runtime.pool.fetchval("SELECT true FROM programs WHERE code = $1", code))

    await poll(held)


async def submit(url: str, issuer: DevIssuer, **overrides: Any) -> dict[str, Any]:
    token = issuer.token("front-office-1", [Role.FRONT_OFFICE], "3204")
    async with httpx.AsyncClient(base_url=url) as client:
        response = await client.post(
            "/v1/complaints",
            json=walk_in(**overrides),
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 202, response.text
    found: dict[str, Any] = response.json()
    return found


def household_message(
    submitted: dict[str, Any], template: str, **params: Any
) -> NotificationRequested:
    complaint_id = uuid.UUID(submitted["complaint_id"])
    return NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint_id,
        kind=NotificationKind.HOUSEHOLD_MESSAGE,
        destination=household_reference(complaint_id),
        template=template,
        params={"ticket": submitted["ticket_number"], "place_code": "3204052001", **params},
    )


async def test_the_sms_and_the_email_copy_arrive_and_intake_audits_each_redemption(
    start_notifier: StartNotifier,
    standins: StandIns,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    topics: None,
) -> None:
    async with intake_at(connections, issuer, free_port()) as url:
        complainant = {**walk_in()["complainant"], "email": "siti.aminah@example.id"}
        submitted = await submit(url, issuer, complainant=complainant)
        notifier = await start_notifier(intake_url=url)
        request = household_message(submitted, "household_registered")
        await notifier.request(request)

        assert await notifier.status(request, "delivered", "failed") == "delivered"
        ticket = submitted["ticket_number"]
        sms = [m for m in standins.sms.messages if ticket in m["text"]]
        assert [m["to"] for m in sms] == [E164]
        assert sms[0]["text"].startswith(f"SLRT: pengaduan Anda tercatat, nomor {ticket}.")
        assert "/track" in sms[0]["text"]

        async def mails_about_the_ticket() -> list[EmailMessage]:
            return [m for m in standins.smtp.messages if ticket in str(m["Subject"])]

        mails = await poll(mails_about_the_ticket, lambda found: len(found) == 1, timeout=30)
        assert mails[0]["To"] == "siti.aminah@example.id"
        # The email copy is settled once the sink has answered: wait for that, not a moment.
        settled = await notifier.until(
            "SELECT array_agg(status ORDER BY status) FROM deliveries",
            check=lambda v: v is not None and "pending" not in v and "retrying" not in v,
        )
        assert settled == ["delivered", "delivered"]
        async with notifier.pool.acquire() as conn:
            stored = await conn.fetch("SELECT status, request::text AS request FROM deliveries")
        assert not any(PHONE[1:] in r["request"] or "siti.aminah" in r["request"] for r in stored)
        rows = await notifier.pool.fetch(
            "SELECT caller, purpose, released, outcome FROM intake.contact_redemptions "
            "WHERE complaint_id = $1",
            request.complaint_id,
        )
        assert [tuple(r.values()) for r in rows] == [
            ("service:notifier", "household_registered", ["phone", "email"], "released")
        ] * 2


async def test_intake_down_delays_the_message_and_loses_nothing(
    start_notifier: StartNotifier,
    standins: StandIns,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    topics: None,
) -> None:
    port = free_port()
    async with intake_at(connections, issuer, port) as url:
        submitted = await submit(url, issuer)
    # Intake is down now: the attempt fails as a transient error and is retried.
    notifier = await start_notifier(intake_url=url, retry_schedule_seconds=[0.5] * 240)
    request = household_message(
        submitted,
        "household_outcome",
        outcome="resolved_locally",
        decided_by="slrt",
        note="Dibayar susulan",
        reopenable=True,
    )
    await notifier.request(request)
    assert await notifier.status(request, "retrying") == "retrying"
    error = await notifier.pool.fetchval(
        "SELECT last_error FROM deliveries WHERE request_id = $1", request.request_id
    )
    assert error.startswith("intake unreachable for the contact")
    assert standins.sms.messages == []

    async with intake_at(connections, issuer, port):
        assert await notifier.status(request, "delivered", "failed") == "delivered"
    attempts = await notifier.attempts(request)
    assert [a["outcome"] for a in attempts][-1] == "delivered"
    assert {a["outcome"] for a in attempts[:-1]} == {"retry"}
    ticket = submitted["ticket_number"]
    assert [m["text"] for m in standins.sms.messages] == [
        f"SLRT: pengaduan {ticket} telah diselesaikan oleh SLRT. Dibayar susulan. "
        f"Tidak puas? Sampaikan ke fasilitator desa atau http://intake.test/track"
    ]


async def test_an_unknown_reference_fails_without_sending(
    start_notifier: StartNotifier,
    standins: StandIns,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    topics: None,
) -> None:
    async with intake_at(connections, issuer, free_port()) as url:
        notifier = await start_notifier(intake_url=url)
        request = household_message(
            {"complaint_id": str(uuid.uuid4()), "ticket_number": "3204-26-999999"},
            "household_registered",
        )
        await notifier.request(request)
        assert await notifier.status(request, "failed", "delivered") == "failed"
    error = await notifier.pool.fetchval(
        "SELECT last_error FROM deliveries WHERE request_id = $1", request.request_id
    )
    assert error == "unknown contact reference"
    assert standins.sms.messages == []


async def test_no_phone_and_no_email_hands_the_message_to_the_village_facilitator(
    start_notifier: StartNotifier,
    standins: StandIns,
    connections: ConnectionSettings,
    issuer: DevIssuer,
    topics: None,
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    directory = tmp_path / "contacts.json"
    directory.write_text(json.dumps({"facilitator:3204052001": {"email": FACILITATOR_MAIL}}))
    async with intake_at(connections, issuer, free_port()) as url:
        submitted = await submit(
            url,
            issuer,
            complainant={"name": "Ibu Sari"},
            category="implementation",
            program_code="PKH",
        )
        notifier = await start_notifier(intake_url=url, contacts_file=directory)
        request = household_message(
            submitted, "household_information_needed", question="Bulan apa bantuan belum diterima?"
        )
        await notifier.request(request)
        status = await notifier.status(request, "handed_to_facilitator", "failed", "delivered")
        assert status == "handed_to_facilitator"
        task = await notifier.until(
            "SELECT status FROM deliveries WHERE kind = 'facilitator_task' AND complaint_id = $1",
            request.complaint_id,
            check=lambda v: v in ("delivered", "failed"),
        )
        assert task == "delivered"
    ticket = submitted["ticket_number"]
    mails = [m for m in standins.smtp.messages if m["To"] == FACILITATOR_MAIL]
    assert len(mails) == 1
    body = mails[0].get_content()
    assert f"SLRT: rumah tangga pengaduan {ticket} tanpa HP/email. Mohon sampaikan:" in body
    assert "Bulan apa bantuan belum diterima?" in body
    assert standins.sms.messages == []
    outcomes = await outcomes_for(kafka_bootstrap, request.request_id, expect=1)
    assert [(e.type, e.data["channel"]) for _, e in outcomes] == [
        ("slrt.notification.delivered.v1", FACILITATOR_CHANNEL)
    ]
    failed = await notifier.pool.fetchval("SELECT count(*) FROM deliveries WHERE status = 'failed'")
    assert failed == 0
