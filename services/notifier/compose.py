"""Which channel a delivery takes and what it says: pure, given the request, the program's
catalog entry and the keys. A request that can never be sent comes back as a final
:class:`SendResult`; one that may become sendable (catalog not yet copied) as a retry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.notifier import payloads, templates
from services.notifier.channels.base import ChannelName, Outgoing
from services.notifier.contacts import ContactDirectory
from services.notifier.domain import SendResult, digest_groups
from services.notifier.phones import InvalidPhone, normalise
from services.notifier.settings import NotifierSettings
from services.notifier.store import Delivery, Program
from slrt import answer_links, secrets
from slrt.contracts.events import NotificationRequested, Recipient
from slrt.contracts.vocabulary import NotificationKind, ProgramChannel

PROGRAM_KINDS = frozenset({NotificationKind.REFERRAL, NotificationKind.ANSWER_LINK})
SMS_GATEWAY = "sms-gateway"
SMTP_RELAY = "smtp"
DIGEST_LABELS = {
    "id": ("Lewat tenggat", "Berisiko terlambat"),
    "en": ("Overdue", "At risk"),
}
"""How a digest heads its two groups, per language."""


@dataclass(frozen=True)
class Composer:
    settings: NotifierSettings
    contacts: ContactDirectory = field(default_factory=ContactDirectory)

    @property
    def track_url(self) -> str:
        """The public tracking page households are pointed to."""
        return f"{self.settings.intake_public_url.rstrip('/')}/track"

    def compose(
        self, group: list[Delivery], program: Program | None, now: datetime
    ) -> Outgoing | SendResult:
        first = group[0].request
        if len(group) > 1:
            return self._digest([d.request for d in group], program, now)
        if first.kind in PROGRAM_KINDS:
            return self._to_program(first, program, now)
        contact = self._contact(first, program)
        return self._to_person(first, first.template, self._text_params(first), contact)

    def _contact(self, request: NotificationRequested, program: Program | None) -> Recipient | None:
        """The request's own recipient, else the directory's, else (reminders about a
        referral) the program manager's contact from the catalog."""
        if request.recipient is not None:
            return request.recipient
        if (found := self.contacts.lookup(request.destination)) is not None:
            return found
        if program is not None:
            return Recipient(email=program.entry.contact_email, phone=program.entry.contact_phone)
        return None

    def _to_program(
        self, request: NotificationRequested, program: Program | None, now: datetime
    ) -> Outgoing | SendResult:
        if program is None:
            return SendResult.retry("destination is not (yet) in the program catalog")
        entry = program.entry
        if not entry.active:
            return SendResult.final("program is inactive in the catalog")
        if request.referral_id is None or request.complaint_id is None:
            return SendResult.final("referral without referral_id or complaint_id")
        message_id = str(request.request_id)
        if entry.channel is ProgramChannel.LAPOR:
            payload = payloads.lapor_report(request, entry)
            return Outgoing(ChannelName.LAPOR, "lapor", message_id, "", payload=payload)
        if entry.channel is ProgramChannel.SIKS_NG:
            payload = payloads.siks_ng_submission(request, entry)
            return Outgoing(ChannelName.SIKS_NG, "siks-ng", message_id, "", payload=payload)
        if program.endpoint_disabled:
            return SendResult.final("destination endpoint disabled after HTTP 410")
        if entry.callback_url and request.kind is NotificationKind.REFERRAL:
            if not entry.webhook_secret_ref:
                return SendResult.final("destination has no webhook secret reference")
            try:
                keys = tuple(secrets.webhook_keys(entry.webhook_secret_ref))
            except secrets.SecretNotFound:
                return SendResult.final("destination's webhook secret is not available")
            payload = payloads.referral_webhook(
                request, entry, intake_public_url=self.settings.intake_public_url, sent_at=now
            )
            return Outgoing(
                ChannelName.WEBHOOK,
                f"program:{entry.code}",
                message_id,
                entry.callback_url,
                payload=payload,
                signing_keys=keys,
            )
        try:
            link = self._answer_link(request, entry.code, now)
        except secrets.SecretNotFound:
            return SendResult.final("the answer-link secret is not available")
        params = {**self._text_params(request), "program": entry.name, "link": link}
        contact = Recipient(email=entry.contact_email, phone=entry.contact_phone)
        return self._to_person(request, "referral_answer_link", params, contact, prefer_email=True)

    def _answer_link(self, request: NotificationRequested, program: str, now: datetime) -> str:
        assert request.referral_id is not None
        assert request.complaint_id is not None
        token = answer_links.sign(
            secrets.resolve(answer_links.SECRET_REF),
            referral_id=request.referral_id,
            complaint_id=request.complaint_id,
            program=program,
            valid_for=timedelta(days=self.settings.answer_link_valid_days),
            now=now,
        )
        return f"{self.settings.intake_public_url.rstrip('/')}/v1/answer/{token}"

    def _text_params(self, request: NotificationRequested) -> dict[str, Any]:
        params = dict(request.params)
        params.setdefault("ticket", params.get("ticket_number", "-"))
        params.setdefault("due_date", params.get("due_on", "-"))
        return params

    def _to_person(
        self,
        request: NotificationRequested,
        template_name: str,
        params: dict[str, Any],
        contact: Recipient | None,
        *,
        prefer_email: bool | None = None,
    ) -> Outgoing | SendResult:
        if contact is None or not (contact.email or contact.phone):
            return SendResult.final("no contact for this recipient")
        if prefer_email is None:
            # Households are reached by SMS; staff read email (their digests are long).
            prefer_email = request.kind is not NotificationKind.HOUSEHOLD_MESSAGE
        language = contact.language
        template = templates.template_for(template_name, request.kind)
        if template_name in templates.HOUSEHOLD_TEMPLATES:
            params = templates.household_params(params, language, self.track_url)
        message_id = str(request.request_id)
        if contact.email and (prefer_email or not contact.phone):
            return Outgoing(
                ChannelName.EMAIL,
                SMTP_RELAY,
                message_id,
                contact.email,
                subject=templates.render_subject(template, params, language),
                text=templates.render_text(template, params, language),
            )
        assert contact.phone is not None
        try:
            phone = normalise(contact.phone)
        except InvalidPhone:
            return SendResult.final("recipient's phone number is not valid")
        text = templates.render_sms(template, params, language, self.settings.sms_max_length)
        return Outgoing(ChannelName.SMS, SMS_GATEWAY, message_id, phone, text=text)

    def _digest(
        self, requests: list[NotificationRequested], program: Program | None, now: datetime
    ) -> Outgoing | SendResult:
        """One message for a person's due reminders: their steps overdue, then at risk."""
        today = now.astimezone(ZoneInfo(self.settings.digest_timezone)).date()
        overdue, at_risk = digest_groups(requests, today)
        contact = self._contact(requests[0], program)
        language = contact.language if contact is not None else "id"
        labels = DIGEST_LABELS[language]
        parts = [
            f"{label}: {', '.join(tickets)}."
            for label, tickets in ((labels[0], overdue), (labels[1], at_risk))
            if tickets
        ]
        params = {"count": len(overdue) + len(at_risk), "tickets": " ".join(parts)}
        digest_id = uuid.uuid5(
            uuid.NAMESPACE_URL, ",".join(sorted(str(r.request_id) for r in requests))
        )
        first = requests[0]
        outgoing = self._to_person(first, "digest", params, contact)
        if isinstance(outgoing, SendResult):
            return outgoing
        return Outgoing(
            outgoing.channel,
            outgoing.destination,
            f"digest-{digest_id}",
            outgoing.to,
            subject=outgoing.subject,
            text=outgoing.text,
        )
