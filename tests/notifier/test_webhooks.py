"""Referrals by signed webhook: once, signed, without NIK; retries, 410, 429, slow peers."""

from __future__ import annotations

import itertools
import json

from standardwebhooks import Webhook

from services.notifier.payloads import NIK_MASK, WEBHOOK_PAYLOAD_TYPE
from slrt.contracts.events import NotificationDelivered, NotificationFailed, ProgramCatalogEntry
from slrt.contracts.vocabulary import ProgramChannel
from slrt_dev.standins.server import free_port
from tests.support.notifier import (
    WEBHOOK_SECRET_REF,
    StandIns,
    StartNotifier,
    outcomes_for,
    program,
    referral,
)

NIK = "3204054101800002"


def pkh(standins: StandIns, version: int = 1, url: str | None = None) -> ProgramCatalogEntry:
    return program(
        "PKH",
        ProgramChannel.DIRECT,
        version=version,
        callback_url=url or f"{standins.receiver_url}/webhooks/referrals",
        webhook_secret_ref=WEBHOOK_SECRET_REF,
    )


async def test_a_redelivered_request_is_delivered_once_signed_and_without_nik(
    start_notifier: StartNotifier, standins: StandIns, kafka_bootstrap: str
) -> None:
    notifier = await start_notifier()
    await notifier.catalog(pkh(standins))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral("PKH")
    await notifier.request(request, event_id="evt-1")
    await notifier.request(request, event_id="evt-1")  # the same event redelivered
    await notifier.request(request, event_id="evt-2")  # the same request re-published
    await notifier.status(request, "delivered")
    # Both re-deliveries have been consumed (and ignored) before we count what was sent.
    await notifier.until(
        "SELECT count(*) FROM processed_events WHERE event_id IN ('evt-1', 'evt-2')",
        check=lambda n: n == 2,
    )

    assert len(standins.receiver.received) == 1
    received = standins.receiver.received[0]
    assert received.verified, "the receiver's own HMAC check accepted the signature"
    assert len(received.signatures) == 2, "signed with both keys during the rotation"
    # The reference library agrees, with either key.
    headers = {
        "webhook-id": received.webhook_id,
        "webhook-timestamp": str(received.timestamp),
        "webhook-signature": " ".join(received.signatures),
    }
    for key in standins.keys:
        assert Webhook(key).verify(received.body, headers)["referral_id"] == str(
            request.referral_id
        )
    payload = json.loads(received.body)
    assert payload["type"] == WEBHOOK_PAYLOAD_TYPE
    assert payload["version"] == 1
    assert payload["answer"]["callback_url"] == (
        f"http://intake.test/v1/referrals/{request.referral_id}/callback"
    )
    assert payload["registry"]["welfare_decile"] == 2
    assert NIK not in received.body.decode(), "PKH's destination does not need the NIK"
    assert NIK_MASK in payload["summary"]
    assert "person" not in payload

    outcomes = await outcomes_for(kafka_bootstrap, request.request_id, expect=1)
    assert len(outcomes) == 1
    outcome_key, envelope = outcomes[0]
    assert outcome_key == str(request.complaint_id).encode()
    delivered = envelope.parse(NotificationDelivered)
    assert delivered.channel == "webhook"
    attempts = await notifier.attempts(request)
    assert [a["outcome"] for a in attempts] == ["delivered"]


async def test_retry_delays_grow_as_configured_and_a_dead_receiver_ends_in_failed(
    start_notifier: StartNotifier, standins: StandIns, kafka_bootstrap: str
) -> None:
    schedule = [0.2, 1.2, 3.0]
    notifier = await start_notifier(retry_schedule_seconds=schedule, breaker_failures=100)
    standins.receiver.control.mode = "down"  # 503 for the whole horizon
    await notifier.catalog(pkh(standins))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral("PKH")
    await notifier.request(request)
    assert await notifier.status(request, "failed") == "failed"

    attempts = await notifier.attempts(request)
    assert len(attempts) == len(schedule) + 1
    assert [a["outcome"] for a in attempts] == ["retry"] * 4
    waits = [
        (later["started_at"] - earlier["finished_at"]).total_seconds()
        for earlier, later in itertools.pairwise(attempts)
    ]
    for waited, configured in zip(waits, schedule, strict=True):
        assert waited >= configured, (waits, schedule)
    spacing = [
        (later["started_at"] - earlier["started_at"]).total_seconds()
        for earlier, later in itertools.pairwise(attempts)
    ]
    assert spacing == sorted(spacing), spacing

    row = await notifier.pool.fetchrow(
        "SELECT last_error, failed_at, attempts FROM deliveries WHERE request_id = $1",
        request.request_id,
    )
    assert row is not None
    assert row["last_error"] == "retries exhausted; last error: HTTP 503"
    assert row["attempts"] == 4
    outcomes = await outcomes_for(kafka_bootstrap, request.request_id, expect=1)
    assert len(outcomes) == 1
    failed = outcomes[0][1].parse(NotificationFailed)
    assert failed.attempts == 4
    assert "HTTP 503" in failed.last_error


async def test_410_fails_at_once_and_disables_the_endpoint_until_the_catalog_changes(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    notifier = await start_notifier()
    standins.receiver.control.mode = "gone"
    await notifier.catalog(pkh(standins))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    first = referral("PKH")
    await notifier.request(first)
    await notifier.status(first, "failed")
    assert len(await notifier.attempts(first)) == 1, "410 is final"
    assert await notifier.pool.fetchval(
        "SELECT endpoint_disabled_at IS NOT NULL FROM programs WHERE code = 'PKH'"
    )

    standins.receiver.control.mode = "ok"
    second = referral("PKH")
    await notifier.request(second)
    await notifier.status(second, "failed")
    assert [a["channel"] for a in await notifier.attempts(second)] == ["none"]
    assert len(standins.receiver.received) == 1, "nothing sent to a disabled endpoint"

    await notifier.catalog(pkh(standins, version=2))
    await notifier.until("SELECT endpoint_disabled_at IS NULL FROM programs WHERE code = 'PKH'")
    third = referral("PKH")
    await notifier.request(third)
    await notifier.status(third, "delivered")


async def test_429_retry_after_is_honoured(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    notifier = await start_notifier(retry_schedule_seconds=[0.1, 0.1])
    standins.receiver.control.mode = "throttle"
    standins.receiver.control.retry_after = 2
    await notifier.catalog(pkh(standins))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral("PKH")
    await notifier.request(request)
    await notifier.until(
        "SELECT attempts FROM deliveries WHERE request_id = $1",
        request.request_id,
        check=lambda n: n == 1,
    )
    standins.receiver.control.mode = "ok"
    await notifier.status(request, "delivered")
    first, second = await notifier.attempts(request)
    assert first["status_code"] == 429
    assert first["retry_after"] == 2
    assert (second["started_at"] - first["finished_at"]).total_seconds() >= 2


async def test_a_slow_destination_does_not_delay_a_healthy_one(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    notifier = await start_notifier(
        attempt_timeout_seconds=20, max_in_flight=4, destination_concurrency=2
    )
    standins.slow_receiver.control.mode = "slow"
    standins.slow_receiver.control.delay = 8
    await notifier.catalog(pkh(standins))
    slow = program(
        "SLOW",
        ProgramChannel.DIRECT,
        callback_url=f"{standins.slow_receiver_url}/webhooks/referrals",
        webhook_secret_ref="slow-direct",
    )
    await notifier.catalog(slow)
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 2)
    to_slow = [referral("SLOW") for _ in range(5)]  # more than all the notifier's slots
    for request in to_slow:
        await notifier.request(request)
    await notifier.until(
        "SELECT count(*) FROM deliveries WHERE destination = 'SLOW'", check=lambda n: n == 5
    )
    # The slow destination's share of slots is in use, each attempt waiting for its answer.
    await notifier.until("SELECT 1", check=lambda _: len(standins.slow_receiver.received) == 2)
    healthy = referral("PKH")
    await notifier.request(healthy)
    await notifier.status(healthy, "delivered")
    # Delivered while every slow referral was still waiting (none has been answered yet).
    statuses = await notifier.pool.fetch("SELECT status FROM deliveries WHERE destination = 'SLOW'")
    assert {r["status"] for r in statuses} == {"pending"}
    assert len(standins.slow_receiver.received) == 2, "the slow one never got more than its share"
    await notifier.until(
        "SELECT count(*) FROM deliveries WHERE destination = 'SLOW' AND status = 'delivered'",
        check=lambda n: n == 5,
    )


async def test_a_receiver_that_is_not_there_at_all_ends_in_failed_with_the_connection_error(
    start_notifier: StartNotifier, standins: StandIns, kafka_bootstrap: str
) -> None:
    notifier = await start_notifier(retry_schedule_seconds=[0.1, 0.2])
    nobody = f"http://127.0.0.1:{free_port()}/webhooks/referrals"  # nothing listens there
    await notifier.catalog(pkh(standins, url=nobody))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral("PKH")
    await notifier.request(request)
    await notifier.status(request, "failed")
    attempts = await notifier.attempts(request)
    assert [a["error"] for a in attempts] == ["connection failed: ConnectError"] * 3
    outcomes = await outcomes_for(kafka_bootstrap, request.request_id, expect=1)
    failed = outcomes[0][1].parse(NotificationFailed)
    assert failed.last_error == "retries exhausted; last error: connection failed: ConnectError"
    assert failed.attempts == 3
