"""Everything the notifier runs in the background, built from its settings: the request and
catalog consumers, the delivery dispatcher, the LAPOR! and SIKS-NG pollers and the outbox relay."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import asyncpg
import httpx

from services.notifier.channels.base import Channel, ChannelName
from services.notifier.channels.email import EmailChannel
from services.notifier.channels.http_api import SmsChannel, lapor_channel, siks_ng_channel
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.consumers import consumers
from services.notifier.contacts import ContactDirectory
from services.notifier.dispatcher import Dispatcher
from services.notifier.household import IntakeContacts
from services.notifier.lapor_poller import LaporPoller
from services.notifier.settings import NotifierSettings
from services.notifier.siks_ng_poller import SiksNgPoller
from slrt import secrets
from slrt.contracts.topics import Topic
from slrt.kafka import EventProducer
from slrt.outbox import OutboxRelay
from slrt.service import Runtime


def _secret(ref: str | None) -> str | None:
    return secrets.resolve(ref) if ref else None


def build_channels(
    settings: NotifierSettings, http: httpx.AsyncClient
) -> dict[ChannelName, Channel]:
    return {
        ChannelName.WEBHOOK: WebhookChannel(http),
        ChannelName.LAPOR: lapor_channel(
            http, settings.lapor_url, _secret(settings.lapor_token_ref)
        ),
        ChannelName.SIKS_NG: siks_ng_channel(
            http, settings.siks_ng_url, _secret(settings.siks_ng_token_ref)
        ),
        ChannelName.SMS: SmsChannel(
            http,
            base_url=settings.sms_gateway_url,
            sender=settings.sms_sender,
            token=_secret(settings.sms_gateway_token_ref),
        ),
        ChannelName.EMAIL: EmailChannel(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_sender,
            start_tls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=_secret(settings.smtp_password_ref),
            timeout=settings.attempt_timeout_seconds,
        ),
    }


class Notifier:
    def __init__(
        self,
        settings: NotifierSettings,
        pool: asyncpg.Pool,
        producer: EventProducer,
        *,
        requests_topic: str = Topic.NOTIFICATION_REQUESTS,
        catalog_topic: str = Topic.PROGRAM_CATALOG,
        lifecycle_topic: str = Topic.COMPLAINT_LIFECYCLE,
        staff_topic: str = Topic.STAFF_DIRECTORY,
    ) -> None:
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.attempt_timeout_seconds),
            limits=httpx.Limits(max_connections=settings.max_in_flight),
            follow_redirects=False,
        )
        self.dispatcher = Dispatcher(
            pool,
            build_channels(settings, self.http),
            settings,
            ContactDirectory.from_file(settings.contacts_file),
            IntakeContacts(
                self.http,
                settings.intake_url or settings.intake_public_url,
                settings.intake_token_ref,
            ),
        )
        runtime = Runtime.of("notifier", settings, pool=pool, producer=producer)
        self.requests, self.catalog, self.lifecycle, self.staff = consumers(
            runtime,
            settings,
            on_new=self.dispatcher.wake.set,
            requests_topic=requests_topic,
            catalog_topic=catalog_topic,
            lifecycle_topic=lifecycle_topic,
            staff_topic=staff_topic,
        )
        self.lapor = LaporPoller(
            pool,
            self.http,
            base_url=settings.lapor_url,
            token=_secret(settings.lapor_token_ref),
            interval=settings.lapor_poll_seconds,
        )
        self.siks_ng = SiksNgPoller(
            pool,
            self.http,
            base_url=settings.siks_ng_url,
            token=_secret(settings.siks_ng_token_ref),
            interval=settings.siks_ng_poll_seconds,
        )
        self.relay = OutboxRelay(pool, producer, schema="notifier")

    def loops(self, stop: asyncio.Event) -> dict[str, Coroutine[Any, Any, None]]:
        return {
            "notification-requests": self.requests.run(stop),
            "catalog-copy": self.catalog.run(stop),
            "referral-cancellations": self.lifecycle.run(stop),
            "staff-directory-copy": self.staff.run(stop),
            "deliveries": self._deliver(stop),
            "outbox-relay": self.relay.run(stop),
        }

    async def _deliver(self, stop: asyncio.Event) -> None:
        """The dispatcher and the LAPOR! and SIKS-NG pollers share the HTTP client: close it
        after all three."""
        try:
            await asyncio.gather(
                self.dispatcher.run(stop), self.lapor.run(stop), self.siks_ng.run(stop)
            )
        finally:
            await self.http.aclose()
