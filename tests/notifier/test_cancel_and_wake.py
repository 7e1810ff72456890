"""A referral that no longer waits is never delivered, and a destination that comes back gets
its waiting retries at once. The notifier retries in real time while the workflow's SLA clock
may run much faster (the local stack's runs 40,000×): when the workflow gives up on a referral
(expired as no_response) or the complaint ends (withdrawn, closed), the delivery is cancelled;
when LAPOR! was unreachable and answers again, the referral goes out within the probe interval,
not at its next scheduled attempt (here a minute away)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from slrt.contracts.complaints import ComplaintSnapshot, ComplaintStep
from slrt.contracts.events import ComplaintTransitioned
from slrt.contracts.vocabulary import Category, Channel, ProgramChannel
from slrt_dev.standins import lapor
from slrt_dev.standins.server import free_port, serving
from tests.support.notifier import RunningNotifier, StartNotifier, program, referral

LONG_WAIT = [0.2, 60.0, 60.0]
"""After the second attempt the next waits a minute: longer than any test here waits."""


def expiry(
    request_id_referral: uuid.UUID, complaint_id: uuid.UUID, step: ComplaintStep, **kw: Any
) -> ComplaintTransitioned:
    return ComplaintTransitioned(
        complaint_id=complaint_id,
        sequence=9,
        from_step="referred",
        to_step=step.value,
        actor="system",
        actor_role="system",
        at=datetime.now(UTC),
        details={"referral_id": str(request_id_referral)},
        snapshot=ComplaintSnapshot(
            complaint_id=complaint_id,
            ticket_number="SLRT-3204-000123",
            step=step,
            holder_role=None,
            place_code="3204052001",
            category=Category.IMPLEMENTATION,
            channel=Channel.PUSKESOS_WALK_IN,
        ),
        **kw,
    )


async def lapor_unreachable(start_notifier: StartNotifier) -> tuple[RunningNotifier, int]:
    """A notifier whose LAPOR! is not listening yet (a port nobody serves)."""
    port = free_port()
    notifier = await start_notifier(
        lapor_url=f"http://127.0.0.1:{port}",
        retry_schedule_seconds=LONG_WAIT,
        destination_probe_seconds=0.3,
        breaker_failures=50,
    )
    await notifier.catalog(program("BPNT", ProgramChannel.LAPOR))
    await notifier.until("SELECT count(*) FROM programs WHERE code = 'BPNT'")
    return notifier, port


async def test_a_referral_expired_while_its_destination_was_down_is_never_filed(
    start_notifier: StartNotifier,
) -> None:
    notifier, port = await lapor_unreachable(start_notifier)
    expired, withdrawn, kept = referral("BPNT"), referral("BPNT"), referral("BPNT")
    for request in (expired, withdrawn, kept):
        await notifier.request(request)
        await notifier.until(
            "SELECT attempts FROM deliveries WHERE request_id = $1",
            request.request_id,
            check=lambda n: n is not None and n >= 2,
        )
    assert expired.complaint_id
    assert expired.referral_id
    assert withdrawn.complaint_id
    await notifier.send(
        notifier.lifecycle_topic,
        expiry(
            expired.referral_id,
            expired.complaint_id,
            ComplaintStep.BACK_OFFICE,
            reason="no_response",
            decision_code="no_response",
        ),
        str(expired.complaint_id),
    )
    await notifier.send(
        notifier.lifecycle_topic,
        expiry(uuid.uuid4(), withdrawn.complaint_id, ComplaintStep.WITHDRAWN),
        str(withdrawn.complaint_id),
    )
    assert await notifier.status(expired, "cancelled") == "cancelled"
    assert await notifier.status(withdrawn, "cancelled") == "cancelled"
    why = await notifier.pool.fetchval(
        "SELECT last_error FROM deliveries WHERE request_id = $1", expired.request_id
    )
    assert why == "referral expired (no_response)"

    state = lapor.LaporState()
    async with serving(lapor.create_app(state), port=port):
        # LAPOR! is back: the referral still waited for is filed; the two others never are.
        await notifier.status(kept, "delivered", timeout=30)
    filed = {r["report"]["referensi_eksternal"] for r in state.reports.values()}
    assert filed == {str(kept.referral_id)}
    for request in (expired, withdrawn):
        assert await notifier.status(request, "cancelled") == "cancelled"


async def test_a_destination_that_answers_again_gets_its_waiting_retries_at_once(
    start_notifier: StartNotifier,
) -> None:
    notifier, port = await lapor_unreachable(start_notifier)
    waiting = referral("BPNT")
    await notifier.request(waiting)
    next_due = await notifier.until(
        "SELECT next_attempt_at FROM deliveries WHERE request_id = $1 AND attempts >= 2",
        waiting.request_id,
    )
    assert (next_due - datetime.now(UTC)).total_seconds() > 30  # its schedule: a minute away
    state = lapor.LaporState()
    async with serving(lapor.create_app(state), port=port):
        # The probe finds LAPOR! answering: the retry is due now, far before its schedule.
        assert await notifier.status(waiting, "delivered", timeout=20) == "delivered"
    assert [r["report"]["referensi_eksternal"] for r in state.reports.values()] == [
        str(waiting.referral_id)
    ]
    routes = await notifier.pool.fetchval(
        "SELECT route FROM deliveries WHERE request_id = $1", waiting.request_id
    )
    assert routes == "lapor"
