"""The delivery table's guarantees: one row per request, stale attempts are not settled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from services.notifier import store
from services.notifier.domain import DeliveryStatus, SendResult
from slrt.contracts.events import NotificationRequested, Recipient
from slrt.contracts.vocabulary import NotificationKind


def household_message() -> NotificationRequested:
    return NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        kind=NotificationKind.HOUSEHOLD_MESSAGE,
        destination="household:T-1",
        template="complaint_registered",
        recipient=Recipient(phone="081234567890"),
    )


async def test_a_request_is_recorded_once(pool: asyncpg.Pool) -> None:
    request = household_message()
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        kept = [
            await store.insert_request(
                conn, request, status=DeliveryStatus.PENDING, next_attempt_at=now, digest=False
            )
            for _ in range(2)
        ]
    assert kept == [True, False]
    assert await pool.fetchval("SELECT count(*) FROM deliveries") == 1


async def test_an_attempt_that_outlived_its_lease_is_not_settled_twice(pool: asyncpg.Pool) -> None:
    request = household_message()
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        await store.insert_request(
            conn, request, status=DeliveryStatus.PENDING, next_attempt_at=now, digest=False
        )
        (first_claim,) = await store.due(conn, limit=10, busy=[], full_destinations=[])
        await store.lease(conn, [first_claim.id], 0.0)  # the lease runs out at once
    async with pool.acquire() as conn, conn.transaction():
        (second_claim,) = await store.due(conn, limit=10, busy=[], full_destinations=[])
        assert await store.still_ours(conn, second_claim)
        await store.record_attempt(
            conn,
            second_claim,
            channel="sms",
            started_at=now,
            finished_at=now,
            result=SendResult.delivered("m-1"),
        )
        await store.mark(
            conn, second_claim, DeliveryStatus.DELIVERED, attempts=1, channel="sms", at=now
        )
    async with pool.acquire() as conn, conn.transaction():
        assert not await store.still_ours(conn, first_claim), "the slow first worker must back off"
    delivered = store.Delivery.from_row(
        await pool.fetchrow("SELECT * FROM deliveries WHERE id = $1", first_claim.id)
    )
    async with pool.acquire() as conn:
        with pytest.raises(ValueError, match="does not go from"):
            await store.mark(
                conn, delivered, DeliveryStatus.RETRYING, attempts=2, channel="sms", at=now
            )
