"""Signed webhooks to program managers' systems (Standard Webhooks)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from services.notifier.channels.base import ChannelName, Outgoing
from services.notifier.domain import SendResult, classify_http


def sign(keys: tuple[str, ...], message_id: str, at: datetime, body: str) -> str:
    """``webhook-signature``: one ``v1,<sig>`` per key, space-separated, so a receiver that
    has only the old or only the new key during a rotation still verifies."""
    return " ".join(Webhook(key).sign(message_id, at, body) for key in keys)


class WebhookChannel:
    name = ChannelName.WEBHOOK

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def send(self, message: Outgoing) -> SendResult:
        if not message.signing_keys:
            return SendResult.final("no signing key for this destination")
        now = datetime.now(UTC)
        body = json.dumps(message.payload, separators=(",", ":"), ensure_ascii=False)
        headers = {
            "content-type": "application/json",
            "webhook-id": message.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": sign(message.signing_keys, message.message_id, now, body),
        }
        try:
            response = await self._http.post(message.to, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            return SendResult.retry("timeout")
        except httpx.HTTPError as exc:
            return SendResult.retry(f"connection failed: {type(exc).__name__}")
        return classify_http(
            response.status_code, response.headers.get("retry-after"), now=datetime.now(UTC)
        )
