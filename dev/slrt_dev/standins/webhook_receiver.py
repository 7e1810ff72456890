"""Stand-in: a program manager's system receiving signed referral webhooks.

Verifies each delivery's Standard Webhooks signature with its own HMAC-SHA256 code (so a test
checks the sender against an independent implementation), remembers what arrived, and behaves
as told through ``PUT /_control``: ``ok`` (200), ``fail`` (500), ``slow`` (answers after
``delay`` seconds), ``throttle`` (429 with ``Retry-After``), ``gone`` (410), ``down`` (503).
With ``answer`` set it also answers each referral on the payload's callback URL, signed the same
way, as ``{"decision", "note", "expected_date"}``, and forwards the W3C trace context
(``traceparent``, ``tracestate``) the delivery came with, as a traced system would: the answer
then continues the complaint's trace. Real systems may not; intake works either way.

``POST /_control/referrals/{referral_id}/answer`` with ``{"decision", "note", "expected_date"}``
makes the program's system answer one referral it received (verified) now, signed, on that
referral's callback URL, and returns intake's status code and body: the demo's program manager
answers this way. ``GET /_received`` lists the deliveries (webhook id, verified, referral id,
payload), ``GET /_answers`` the answers sent. The keys are ``whsec_`` keys separated by spaces,
from ``--secret-file`` (the local stack's secret file) or ``STANDIN_WEBHOOK_SECRET``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel

from slrt_dev.standins.server import LOOPBACK

Mode = Literal["ok", "fail", "slow", "throttle", "gone", "down"]
TOLERANCE_SECONDS = 300
TRACE_HEADERS = ("traceparent", "tracestate")


class Control(BaseModel):
    mode: Mode = "ok"
    delay: float = 0.0
    retry_after: int = 1
    answer: Literal["accepted", "rejected", "under_review", "not_responsible"] | None = None


class Answer(BaseModel):
    decision: Literal["accepted", "rejected", "under_review", "not_responsible"]
    note: str | None = None
    expected_date: date | None = None


@dataclass
class Received:
    webhook_id: str
    timestamp: int
    body: bytes
    signatures: list[str]
    verified: bool
    at: float
    trace_headers: dict[str, str] = field(default_factory=dict)

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class ReceiverState:
    secrets: list[str]
    control: Control = field(default_factory=Control)
    received: list[Received] = field(default_factory=list)
    answers_sent: list[dict[str, Any]] = field(default_factory=list)

    def unique_ids(self) -> set[str]:
        return {r.webhook_id for r in self.received if r.verified}


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_") + "==")


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def verify(secrets: list[str], webhook_id: str, timestamp: str, header: str, body: bytes) -> bool:
    """True when one of the header's ``v1,`` signatures matches one of our secrets and the
    timestamp is within the replay window."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - stamp) > TOLERANCE_SECONDS:
        return False
    offered = [s.split(",", 1)[1] for s in header.split() if s.startswith("v1,")]
    expected = [signature(secret, webhook_id, stamp, body) for secret in secrets]
    return any(hmac.compare_digest(o, e) for o in offered for e in expected)


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    webhook_id = f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time())
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": "v1," + signature(secret, webhook_id, stamp, body),
    }


def create_app(state: ReceiverState) -> FastAPI:
    app = FastAPI(title="Stand-in: program manager's webhook receiver")

    async def send_answer(
        payload: dict[str, Any], given: Answer, trace_headers: dict[str, str]
    ) -> httpx.Response:
        body = given.model_dump_json().encode()
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                payload["answer"]["callback_url"],
                content=body,
                headers={**signed_headers(state.secrets[0], body), **trace_headers},
            )
        state.answers_sent.append(
            {
                "referral_id": payload["referral_id"],
                "decision": given.decision,
                "status": response.status_code,
            }
        )
        return response

    async def answer(payload: dict[str, Any], decision: str, trace_headers: dict[str, str]) -> None:
        expected = date.today() if decision == "under_review" else None
        given = Answer.model_validate(
            {"decision": decision, "note": "stand-in answer", "expected_date": expected}
        )
        await send_answer(payload, given, trace_headers)

    @app.post("/webhooks/referrals")
    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = request.headers
        webhook_id = headers.get("webhook-id", "")
        ok = verify(
            state.secrets,
            webhook_id,
            headers.get("webhook-timestamp", ""),
            headers.get("webhook-signature", ""),
            body,
        )
        control = state.control
        trace_headers = {k: headers[k] for k in TRACE_HEADERS if k in headers}
        state.received.append(
            Received(
                webhook_id,
                int(headers.get("webhook-timestamp", "0") or 0),
                body,
                headers.get("webhook-signature", "").split(),
                ok,
                time.time(),
                trace_headers,
            )
        )
        if not ok:
            return Response(status_code=401)
        if control.mode == "slow":
            await asyncio.sleep(control.delay)
        if control.mode == "fail":
            return Response(status_code=500)
        if control.mode == "down":
            return Response(status_code=503)
        if control.mode == "gone":
            return Response(status_code=410)
        if control.mode == "throttle":
            return Response(status_code=429, headers={"retry-after": str(control.retry_after)})
        if control.answer is not None:
            asyncio.get_running_loop().create_task(
                answer(json.loads(body), control.answer, trace_headers)
            )
        return Response(status_code=200)

    @app.put("/_control")
    async def set_control(control: Control) -> Control:
        state.control = control
        return control

    @app.post("/_control/referrals/{referral_id}/answer")
    async def answer_now(referral_id: str, given: Answer) -> dict[str, Any]:
        """The program's system answers a referral it received, as its staff decided."""
        delivered = [r for r in state.received if r.verified and _referral_of(r) == referral_id]
        if not delivered:
            raise HTTPException(404, "no verified delivery of this referral arrived")
        response = await send_answer(delivered[-1].payload, given, delivered[-1].trace_headers)
        try:
            answered: Any = response.json()
        except ValueError:
            answered = response.text
        return {"status": response.status_code, "body": answered}

    @app.get("/_received")
    async def received() -> list[dict[str, Any]]:
        return [
            {
                "webhook_id": r.webhook_id,
                "verified": r.verified,
                "referral_id": _referral_of(r),
                "payload": r.payload,
            }
            for r in state.received
        ]

    @app.get("/_answers")
    async def answers() -> list[dict[str, Any]]:
        return state.answers_sent

    return app


def _referral_of(received: Received) -> str | None:
    try:
        payload = received.payload
    except ValueError:
        return None
    found = payload.get("referral_id") if isinstance(payload, dict) else None
    return str(found) if found else None


def run() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m slrt_dev.standins.webhook_receiver", description=__doc__
    )
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--secret-file", type=Path, help="the whsec_ keys (space-separated)")
    args = parser.parse_args()
    if args.secret_file:
        keys = args.secret_file.read_text().split()
    else:
        keys = os.environ.get(
            "STANDIN_WEBHOOK_SECRET", "whsec_" + base64.b64encode(b"demo" * 8).decode()
        ).split()
    uvicorn.run(create_app(ReceiverState(keys)), host=LOOPBACK, port=args.port)


if __name__ == "__main__":
    run()
