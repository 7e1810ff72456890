"""Program managers' answers to referrals: verifying signed callbacks (Standard Webhooks) and
recording an answer once per idempotency key with its ``referral.answered`` event."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.intake import store
from services.intake.schemas import ReferralAnswerIn
from slrt import outbox
from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.events import ReferralAnswered
from slrt.errors import Conflict

SOURCE = "/slrt/intake"
AWAITING_ANSWER = frozenset({ComplaintStep.REFERRED.value, ComplaintStep.UNDER_REVIEW.value})


class BadSignature(Exception):
    """The callback is not signed by the destination, or not now (the reason, never the body)."""


def verify_callback(
    body: bytes, headers: dict[str, str], keys: list[str], tolerance_seconds: int
) -> str:
    """Check a Standard Webhooks signature with any of the destination's keys; returns the
    webhook id. The timestamp must lie within ``tolerance_seconds`` of now."""
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    if not webhook_id or not stamp or not lowered.get("webhook-signature"):
        raise BadSignature("webhook-id, webhook-timestamp and webhook-signature are required")
    if len(webhook_id) > 100:
        raise BadSignature("webhook-id is too long")
    try:
        sent = int(stamp)
    except ValueError:
        raise BadSignature("webhook-timestamp is not a Unix time") from None
    if abs(time.time() - sent) > tolerance_seconds:
        raise BadSignature("webhook-timestamp is outside the tolerance")
    for key in keys:
        try:
            Webhook(key).verify(body, lowered, json_parse=False)
        except WebhookVerificationError:
            continue
        return webhook_id
    raise BadSignature("no signature matches this destination's keys")


@dataclass(frozen=True)
class Recorded:
    answer_id: str
    referral_id: UUID
    decision: str
    replayed: bool


async def record(
    pool: asyncpg.Pool,
    *,
    answer_id: str,
    referral: asyncpg.Record,
    answer: ReferralAnswerIn,
    via: str,
    now: datetime | None = None,
) -> Recorded:
    """Record ``answer`` to ``referral`` (a status row) once; a repeated id returns the first."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        existing = await store.answer(conn, answer_id)
        if existing is not None:
            return _replayed(existing, referral["referral_id"])
        if referral["step"] not in AWAITING_ANSWER:
            raise Conflict(
                f"the complaint is at step {referral['step']}",
                kind="wrong-step",
                title="The referral is not waiting for an answer",
                current_step=referral["step"],
            )
        row = await store.record_answer(
            conn,
            answer_id=answer_id,
            referral_id=referral["referral_id"],
            complaint_id=referral["complaint_id"],
            decision=answer.decision.value,
            via=via,
            answered_at=now,
        )
        if row is None:  # the same id committed concurrently
            raced = await store.answer(conn, answer_id)
            assert raced is not None
            return _replayed(raced, referral["referral_id"])
        await outbox.write(
            conn,
            ReferralAnswered(
                answer_id=answer_id,
                complaint_id=referral["complaint_id"],
                referral_id=referral["referral_id"],
                decision=answer.decision,
                note=answer.note,
                expected_date=answer.expected_date,
                suggested_destination=answer.suggested_destination,
                answered_at=now,
            ),
            source=SOURCE,
            subject=str(referral["complaint_id"]),
        )
    return Recorded(answer_id, referral["referral_id"], answer.decision.value, replayed=False)


def _replayed(existing: asyncpg.Record, referral_id: UUID) -> Recorded:
    if existing["referral_id"] != referral_id:
        raise Conflict(
            "this id answered another referral; use a new id",
            kind="idempotency-key-reused",
            title="Answer id already used",
        )
    return Recorded(existing["answer_id"], referral_id, existing["decision"], replayed=True)
