"""Program managers' answers to referrals: verifying signed callbacks (Standard Webhooks) and
recording an answer once per idempotency key with its ``referral.answered`` event."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.intake import referral_store, store
from services.intake.referral_history import WAITING
from services.intake.schemas import ReferralAnswerIn
from slrt import outbox
from slrt.contracts.events import ReferralAnswered
from slrt.errors import Conflict, field_error
from slrt.masking import mask_optional

SOURCE = "/slrt/intake"
_WAITING = frozenset(s.value for s in WAITING)


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
    """Record ``answer`` to ``referral`` (a ``referral_store.referral`` row) once; a repeated id
    returns the first. A referral no longer waiting, or already given a final answer here, is
    refused (409) with the answer recorded."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        existing = await store.answer(conn, answer_id)
        if existing is not None:
            return _replayed(existing, referral["referral_id"], answer)
        if referral["status"] not in _WAITING:
            raise answered_already(referral)
        # Serialise answers to one referral: a second final answer sees the first.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", str(referral["referral_id"])
        )
        final = await referral_store.final_answer(conn, referral["referral_id"])
        if final is not None:
            raise answered_already(referral, final)
        row = await store.record_answer(
            conn,
            answer_id=answer_id,
            referral_id=referral["referral_id"],
            complaint_id=referral["complaint_id"],
            decision=answer.decision.value,
            via=via,
            answered_at=now,
            note=answer.note,
            expected_date=answer.expected_date,
            suggested_destination=answer.suggested_destination,
        )
        if row is None:  # the same id committed concurrently
            raced = await store.answer(conn, answer_id)
            assert raced is not None
            return _replayed(raced, referral["referral_id"], answer)
        await outbox.write(
            conn,
            ReferralAnswered(
                answer_id=answer_id,
                complaint_id=referral["complaint_id"],
                referral_id=referral["referral_id"],
                decision=answer.decision,
                note=mask_optional(answer.note),  # the full note is the answer row's
                expected_date=answer.expected_date,
                suggested_destination=answer.suggested_destination,
                answered_at=now,
            ),
            source=SOURCE,
            subject=str(referral["complaint_id"]),
        )
    return Recorded(answer_id, referral["referral_id"], answer.decision.value, replayed=False)


def recorded_answer(
    referral: asyncpg.Record, pending: asyncpg.Record | None = None
) -> dict[str, Any] | None:
    """The answer on record: the one the workflow applied (the referral's), else a final answer
    received here that the workflow has not confirmed yet."""
    if referral["decision"] is not None:
        return {
            "decision": referral["decision"],
            "note": referral["answer_note"],
            "expected_date": _iso(referral["expected_date"]),
            "suggested_destination": referral["suggested_destination"],
            "answered_at": _iso(referral["answered_at"]),
        }
    if pending is not None:
        return {
            "decision": pending["decision"],
            "note": pending["note"],
            "expected_date": _iso(pending["expected_date"]),
            "suggested_destination": pending["suggested_destination"],
            "answered_at": _iso(pending["answered_at"]),
        }
    return None


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def answered_already(referral: asyncpg.Record, pending: asyncpg.Record | None = None) -> Conflict:
    """409: the referral is no longer waiting for an answer; the problem names the answer on
    record (``recorded_answer``; type ``referral-answered``) and the referral's status, or, for a
    referral closed without an answer (no response, delivery failed, withdrawn), type
    ``referral-closed`` with ``recorded_answer`` null."""
    recorded = recorded_answer(referral, pending)
    status = referral["status"] if pending is None else "answered"
    if recorded is not None:
        detail = (
            f"this referral was already answered {recorded['decision']} "
            f"at {recorded['answered_at']}"
        )
    else:
        detail = f"this referral is closed ({referral['status']}) without an answer"
    return Conflict(
        detail,
        kind="referral-answered" if recorded is not None else "referral-closed",
        title="The referral is not waiting for an answer",
        referral_status=status,
        recorded_answer=recorded,
        current_step=referral["step"],
    )


def same_answer(existing: Mapping[str, Any], answer: ReferralAnswerIn) -> bool:
    """Whether a recorded answer (a ``referral_answers`` row) is ``answer`` again."""
    return bool(
        existing["decision"] == answer.decision.value
        and existing["note"] == answer.note
        and existing["expected_date"] == answer.expected_date
        and existing["suggested_destination"] == answer.suggested_destination
    )


def _replayed(existing: asyncpg.Record, referral_id: UUID, answer: ReferralAnswerIn) -> Recorded:
    if existing["referral_id"] != referral_id:
        raise Conflict(
            "this id answered another referral; use a new id",
            kind="idempotency-key-reused",
            title="Answer id already used",
        )
    if not same_answer(dict(existing), answer):
        # The same webhook id (or key, or link) with another answer is not a replay.
        raise Conflict(
            "this id was used for a different answer; use a new id",
            kind="idempotency-key-reused",
            title="Answer id already used",
            errors=[
                field_error(
                    "webhook-id",
                    "idempotency_key_reused",
                    "this id (webhook-id, Idempotency-Key or link) recorded a different answer",
                )
            ],
        )
    return Recorded(existing["answer_id"], referral_id, existing["decision"], replayed=True)
