"""The notifier in tests: its stand-ins in-process, the running service, request builders."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer

from services.notifier.runner import Notifier
from services.notifier.settings import NotifierSettings
from slrt.contracts.envelope import Envelope, EventData, from_kafka
from slrt.contracts.events import NotificationRequested, ProgramCatalogEntry
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import Category, NotificationKind, ProgramChannel
from slrt.kafka import EventProducer
from slrt_dev.standins import lapor, siks_ng, sms_gateway, webhook_receiver
from slrt_dev.standins.smtp_sink import SmtpSink
from tests.support.polling import poll

WEBHOOK_SECRET_REF = "pkh-direct"
ANSWER_LINK_KEY = "answer-link-test-key-that-is-long-enough-for-hs256"


def whsec() -> str:
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@dataclass
class StandIns:
    receiver: webhook_receiver.ReceiverState
    receiver_url: str
    slow_receiver: webhook_receiver.ReceiverState
    slow_receiver_url: str
    lapor: lapor.LaporState
    lapor_url: str
    siks_ng: siks_ng.SiksNgState
    siks_ng_url: str
    sms: sms_gateway.GatewayState
    sms_url: str
    smtp: SmtpSink
    keys: list[str]


def program(
    code: str, channel: ProgramChannel, version: int = 1, **fields: Any
) -> ProgramCatalogEntry:
    return ProgramCatalogEntry(
        code=code,
        name=f"Program {code}",
        level="national",
        owner_agency="Kementerian Sosial",
        channel=channel,
        categories=[Category.IMPLEMENTATION],
        sla_working_days=10,
        version=version,
        **fields,
    )


def referral(destination: str, **fields: Any) -> NotificationRequested:
    values: dict[str, Any] = {
        "request_id": uuid.uuid4(),
        "complaint_id": uuid.uuid4(),
        "referral_id": uuid.uuid4(),
        "kind": NotificationKind.REFERRAL,
        "destination": destination,
        "template": "referral",
        "place_code": "3204052001",
        "params": {
            "ticket_number": "SLRT-3204-000123",
            "category": "implementation",
            "summary": "Bantuan PKH tahap 3 belum diterima; NIK 3204054101800002 terdaftar.",
            "nik": "3204054101800002",
            "registry": {"found": True, "welfare_decile": 2, "programs": ["PKH"]},
            "due_date": "2026-12-15",
        },
    }
    values.update(fields)
    return NotificationRequested(**values)


@dataclass
class RunningNotifier:
    settings: NotifierSettings
    pool: asyncpg.Pool
    producer: EventProducer
    notifier: Notifier
    requests_topic: str
    catalog_topic: str
    stop: asyncio.Event
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    lifecycle_topic: str = Topic.COMPLAINT_LIFECYCLE.value
    """Where the test's complaint transitions go (the notifier cancels referrals from them)."""
    staff_topic: str = Topic.STAFF_DIRECTORY.value
    """The test's staff-directory topic (the notifier addresses staff messages to persons)."""

    async def send(
        self, topic: str, data: EventData, subject: str, event_id: str | None = None
    ) -> None:
        envelope = Envelope.wrap(data, source="/test", subject=subject, id=event_id)
        await (await self.producer.send(topic, envelope))

    async def request(self, request: NotificationRequested, event_id: str | None = None) -> None:
        subject = str(request.complaint_id or request.request_id)
        await self.send(self.requests_topic, request, subject, event_id)

    async def catalog(self, entry: ProgramCatalogEntry) -> None:
        await self.send(self.catalog_topic, entry, entry.code)

    async def until(
        self,
        query: str,
        *args: Any,
        check: Callable[[Any], bool] = bool,
        timeout: float = 60.0,
    ) -> Any:
        """Wait until ``query``'s value passes ``check`` (the notifier's state is the event)."""
        return await poll(
            lambda: self.pool.fetchval(query, *args),
            check,
            timeout=timeout,
            interval=0.05,
            explain=lambda last: f"timed out waiting; last value {last!r}",
        )

    async def status(
        self, request: NotificationRequested, *wanted: str, timeout: float = 60.0
    ) -> str:
        value: str = await self.until(
            "SELECT status FROM deliveries WHERE request_id = $1",
            request.request_id,
            check=lambda v: v in wanted,
            timeout=timeout,
        )
        return value

    async def attempts(self, request: NotificationRequested) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.pool.fetch(
            "SELECT a.* FROM attempts a JOIN deliveries d ON d.id = a.delivery_id "
            "WHERE d.request_id = $1 ORDER BY a.round, a.number",
            request.request_id,
        )
        return rows


StartNotifier = Callable[..., Awaitable[RunningNotifier]]


async def outcomes_for(
    bootstrap: str, request_id: uuid.UUID, *, expect: int, topic: str = Topic.NOTIFICATION_OUTCOMES
) -> list[tuple[bytes | None, Envelope]]:
    """The events on ``topic`` about ``request_id`` (waits for ``expect``, then one more second
    for any duplicate)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[tuple[bytes | None, Envelope]] = []
    loop = asyncio.get_running_loop()
    try:
        deadline = loop.time() + 60
        grace: float | None = None
        while loop.time() < deadline and (grace is None or loop.time() < grace):
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    envelope = from_kafka(record.key, record.headers, record.value)
                    if envelope.data.get("request_id") == str(request_id) or envelope.data.get(
                        "referral_id"
                    ) == str(request_id):
                        found.append((record.key, envelope))
            if len(found) >= expect and grace is None:
                grace = loop.time() + 1.0
    finally:
        await consumer.stop()
    return found
