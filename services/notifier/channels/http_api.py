"""JSON-over-HTTPS adapters: LAPOR! reports, SIKS-NG submissions and the SMS gateway.

Each POSTs one JSON document with a bearer token and an ``Idempotency-Key`` and reads the
id the other side gives it back (LAPOR!'s tracking id, SIKS-NG's submission id, the gateway's
message id) as the delivery's external reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from services.notifier.channels.base import ChannelName, Outgoing
from services.notifier.domain import SendResult, Verdict, classify_http
from slrt import text


class JsonApiChannel:
    def __init__(
        self,
        name: ChannelName,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        path: str,
        id_field: str,
        token: str | None = None,
    ) -> None:
        self.name = name
        self._http = http
        self._url = base_url.rstrip("/") + path
        self._id_field = id_field
        self._token = token

    def body(self, message: Outgoing) -> dict[str, Any]:
        return message.payload

    async def send(self, message: Outgoing) -> SendResult:
        headers = {"idempotency-key": message.message_id}
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        try:
            response = await self._http.post(self._url, json=self.body(message), headers=headers)
        except httpx.TimeoutException:
            return SendResult.retry("timeout")
        except httpx.HTTPError as exc:
            return SendResult.retry(f"connection failed: {type(exc).__name__}")
        result = classify_http(
            response.status_code, response.headers.get("retry-after"), now=datetime.now(UTC)
        )
        if result.verdict is not Verdict.DELIVERED:
            return result
        try:
            reference = text.storable(str(response.json()[self._id_field]))
        except (ValueError, KeyError, TypeError):
            return SendResult.retry(f"answer without {self._id_field}", response.status_code)
        return SendResult.delivered(reference, response.status_code)


class SmsChannel(JsonApiChannel):
    def __init__(
        self, http: httpx.AsyncClient, *, base_url: str, sender: str, token: str | None = None
    ) -> None:
        super().__init__(
            ChannelName.SMS,
            http,
            base_url=base_url,
            path="/api/v1/messages",
            id_field="message_id",
            token=token,
        )
        self._sender = sender

    def body(self, message: Outgoing) -> dict[str, Any]:
        return {
            "from": self._sender,
            "to": message.to,
            "text": message.text,
            "reference": message.message_id,
        }


def lapor_channel(http: httpx.AsyncClient, base_url: str, token: str | None) -> JsonApiChannel:
    return JsonApiChannel(
        ChannelName.LAPOR,
        http,
        base_url=base_url,
        path="/api/v1/reports",
        id_field="tracking_id",
        token=token,
    )


def siks_ng_channel(http: httpx.AsyncClient, base_url: str, token: str | None) -> JsonApiChannel:
    return JsonApiChannel(
        ChannelName.SIKS_NG,
        http,
        base_url=base_url,
        path="/api/v1/submissions",
        id_field="submission_id",
        token=token,
    )
