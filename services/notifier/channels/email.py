"""Email through SMTP (aiosmtplib): answer links, staff digests, household messages."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from services.notifier.channels.base import ChannelName, Outgoing
from services.notifier.domain import SendResult


class EmailChannel:
    name = ChannelName.EMAIL

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        start_tls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._start_tls = start_tls
        self._username = username
        self._password = password
        self._timeout = timeout

    async def send(self, message: Outgoing) -> SendResult:
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(idstring=message.message_id, domain="slrt.local")
        email["X-SLRT-Message-Id"] = message.message_id
        email.set_content(message.text)
        try:
            await aiosmtplib.send(
                email,
                hostname=self._host,
                port=self._port,
                start_tls=self._start_tls,
                username=self._username,
                password=self._password,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx is a temporary refusal, 5xx (unknown mailbox, policy) a final one.
            verdict = SendResult.retry if 400 <= exc.code < 500 else SendResult.final
            return verdict(f"SMTP {exc.code}", exc.code)
        except aiosmtplib.SMTPRecipientsRefused:
            return SendResult.final("recipient refused")
        except (aiosmtplib.SMTPException, OSError) as exc:
            return SendResult.retry(f"SMTP connection failed: {type(exc).__name__}")
        return SendResult.delivered(email["Message-ID"])
