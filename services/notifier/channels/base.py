"""The one interface every channel adapter implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from services.notifier.domain import SendResult


class ChannelName(StrEnum):
    WEBHOOK = "webhook"
    LAPOR = "lapor"
    SIKS_NG = "siks_ng"
    SMS = "sms"
    EMAIL = "email"


@dataclass(frozen=True)
class Outgoing:
    """One message ready to go. ``destination`` keys rate limits and circuit breakers (a
    program code, or the gateway's name); ``message_id`` is the receiver's idempotency key."""

    channel: ChannelName
    destination: str
    message_id: str
    to: str
    """A URL (webhook), an E.164 number (SMS) or an email address."""
    subject: str = ""
    text: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    signing_keys: tuple[str, ...] = field(default=(), repr=False)


class Channel(Protocol):
    name: ChannelName

    async def send(self, message: Outgoing) -> SendResult: ...
