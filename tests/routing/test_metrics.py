"""Routing's domain metrics: step durations observed by ``emit_transition`` (real Postgres and
Kafka, and a complaint driven on the Temporal dev server), SLA reminders and breaches counted
by ``request_notification``, and the pure rules behind both."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from services.routing.activities import ComplaintActivities, transition_event_id
from services.routing.metrics import SlaNotice, StepMark, sla_notice, step_left
from slrt.contracts.complaints import ComplaintSnapshot, ComplaintStep
from slrt.contracts.envelope import from_kafka
from slrt.contracts.events import ComplaintSubmitted, ComplaintTransitioned, NotificationRequested
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import Category, Channel, NotificationKind
from slrt.metrics import REGISTRY
from tests.support.complaints import Driven, submitted
from tests.support.polling import poll
from workflows.model import EffectBatch, EffectItem

S = ComplaintStep
T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
VILLAGE = "3204052001"


def observed(step: str) -> tuple[float, float]:
    """(count, sum) of the step-duration histogram for ``step`` so far in this process."""
    labels = {"step": step}
    count = REGISTRY.get_sample_value("slrt_complaint_step_duration_seconds_count", labels)
    total = REGISTRY.get_sample_value("slrt_complaint_step_duration_seconds_sum", labels)
    return count or 0.0, total or 0.0


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(f"{name}_total", labels) or 0.0


class Complaint:
    """Builds the transitions the workflow would emit for one complaint."""

    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self.step: ComplaintStep | None = None
        self.sequence = 0

    def moves(self, to: ComplaintStep, at: datetime) -> ComplaintTransitioned:
        self.sequence += 1
        event = ComplaintTransitioned(
            complaint_id=self.id,
            sequence=self.sequence,
            from_step=self.step.value if self.step else None,
            to_step=to.value,
            actor="system",
            actor_role="system",
            at=at,
            snapshot=ComplaintSnapshot(
                complaint_id=self.id,
                ticket_number=f"SLRT-{self.id.hex[:8]}",
                step=to,
                holder_role=None,
                place_code=VILLAGE,
                category=Category.IMPLEMENTATION,
                channel=Channel.PUSKESOS_WALK_IN,
            ),
        )
        self.step = to
        return event


def notification(
    kind: NotificationKind, destination: str, *, breached: bool = False, **params: object
) -> NotificationRequested:
    return NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        kind=kind,
        destination=destination,
        template="t",
        params=params,
        breached=breached,
    )


# --- Pure rules ------------------------------------------------------------------------------


def test_a_step_change_yields_the_step_left_and_its_length() -> None:
    mark = StepMark("back_office", T0, 4)
    assert step_left(mark, "back_office", "manager_approval", T0 + timedelta(days=3)) == (
        "back_office",
        3 * 86400.0,
    )


def test_no_duration_without_a_step_change_or_a_matching_mark() -> None:
    mark = StepMark("back_office", T0, 4)
    later = T0 + timedelta(hours=1)
    assert step_left(mark, "back_office", "back_office", later) is None  # an escalation
    assert step_left(None, "back_office", "referred", later) is None  # no mark yet
    assert step_left(None, None, "received", later) is None  # the first transition
    assert step_left(mark, "referred", "feedback", later) is None  # a transition went missing


def test_an_unknown_step_label_is_bounded() -> None:
    assert step_left(StepMark("bogus", T0, 1), "bogus", "closed", T0) == ("other", 0.0)


def test_reminders_and_breaches_are_told_apart_from_other_notifications() -> None:
    reminder = notification(NotificationKind.REMINDER, "back_office:3204", clock="step")
    breach = notification(
        NotificationKind.ESCALATION, "supervisor:320405", breached=True, clock="acknowledge"
    )
    overdue_note = notification(NotificationKind.REMINDER, "PKH", breached=True, clock="referral")
    no_answer = notification(NotificationKind.ESCALATION, "manager:3204", breached=True)
    referral = notification(NotificationKind.REFERRAL, "PKH")
    odd = notification(NotificationKind.ESCALATION, "nobody:1", breached=True, clock="tea")

    assert sla_notice(reminder) == SlaNotice("reminder", "step")
    assert sla_notice(breach) == SlaNotice("breach", "acknowledge", "supervisor")
    assert sla_notice(odd) == SlaNotice("breach", "other", "other")
    assert [sla_notice(n) for n in (overdue_note, no_answer, referral)] == [None, None, None]


# --- Against Postgres and Kafka --------------------------------------------------------------


async def test_step_durations_are_observed_once_per_step_left(
    activities: ComplaintActivities, routing_pool: asyncpg.Pool
) -> None:
    c = Complaint()
    before = {s: observed(s) for s in ("received", "back_office", "referred")}
    await activities.emit_transition(c.moves(S.RECEIVED, T0))
    await activities.emit_transition(c.moves(S.BACK_OFFICE, T0 + timedelta(minutes=5)))
    breach = c.moves(S.BACK_OFFICE, T0 + timedelta(days=2))  # an escalation within the step
    await activities.emit_transition(breach)
    await activities.emit_transition(breach)  # the activity retried after a lost completion
    referred = c.moves(S.REFERRED, T0 + timedelta(days=3, minutes=5))
    await activities.emit_transition(referred)
    await activities.emit_transition(referred)
    closed = c.moves(S.CLOSED, T0 + timedelta(days=10, minutes=5))
    await activities.emit_transition(closed)
    await activities.emit_transition(closed)

    def delta(step: str) -> tuple[float, float]:
        (count, total), (count0, total0) = observed(step), before[step]
        return count - count0, total - total0

    assert delta("received") == (1, 300.0)
    assert delta("back_office") == (1, 3 * 86400.0)
    assert delta("referred") == (1, 7 * 86400.0)
    async with routing_pool.acquire() as conn:
        left = await conn.fetchval(
            "SELECT count(*) FROM complaint_steps WHERE complaint_id = $1", c.id
        )
    assert left == 0, "a closed complaint keeps no step row"


async def test_a_reopened_complaint_starts_a_new_step_after_closing(
    activities: ComplaintActivities,
) -> None:
    c = Complaint()
    before = observed("feedback")
    await activities.emit_transition(c.moves(S.FEEDBACK, T0))
    await activities.emit_transition(c.moves(S.CLOSED, T0 + timedelta(hours=2)))
    await activities.emit_transition(c.moves(S.BACK_OFFICE, T0 + timedelta(days=1)))
    await activities.emit_transition(c.moves(S.FEEDBACK, T0 + timedelta(days=2)))
    await activities.emit_transition(c.moves(S.CLOSED, T0 + timedelta(days=2, hours=1)))
    count, total = observed("feedback")
    # The histogram's sum is a float accumulated across the process's tests: compare the
    # difference up to rounding (2.0 and 10800.000000000002 after an earlier test's seconds).
    assert count - before[0] == 2
    assert total - before[1] == pytest.approx(3 * 3600.0)


async def test_sla_notifications_are_counted_when_requested(
    activities: ComplaintActivities,
) -> None:
    reminders = counted("slrt_sla_reminders", clock="resolve")
    breaches = counted("slrt_sla_breaches", clock="referral", level="manager")
    await activities.request_notification(
        notification(NotificationKind.REMINDER, "back_office:3204", clock="resolve")
    )
    await activities.request_notification(
        notification(NotificationKind.ESCALATION, "manager:3204", breached=True, clock="referral")
    )
    await activities.request_notification(
        notification(NotificationKind.REMINDER, "PKH", breached=True, clock="referral")
    )
    assert counted("slrt_sla_reminders", clock="resolve") == reminders + 1
    assert counted("slrt_sla_breaches", clock="referral", level="manager") == breaches + 1


async def test_a_batch_of_effects_is_published_in_order_as_the_single_activities_would(
    activities: ComplaintActivities, kafka_bootstrap: str
) -> None:
    """``publish_effects`` (``perf-batch-effects``): the lifecycle events on the topic in order,
    with the event ids ``emit_transition`` gives them (a retried batch is deduplicated
    downstream), the notification under its request id; step durations observed once."""
    c = Complaint()
    before = observed("received")
    registered = c.moves(S.RECEIVED, T0)
    to_back_office = c.moves(S.BACK_OFFICE, T0 + timedelta(minutes=7))
    told = notification(NotificationKind.REMINDER, "back_office:3204", clock="resolve")
    reminders = counted("slrt_sla_reminders", clock="resolve")
    batch = EffectBatch(items=[EffectItem.of(e) for e in (registered, told, to_back_office)])
    await activities.publish_effects(batch)
    await activities.publish_effects(batch)  # retried after a lost completion

    assert observed("received")[0] - before[0] == 1
    assert counted("slrt_sla_reminders", clock="resolve") == reminders + 2
    ids = await _event_ids(kafka_bootstrap, Topic.COMPLAINT_LIFECYCLE.value, c.id, 4)
    first, second = transition_event_id(str(c.id), 1), transition_event_id(str(c.id), 2)
    assert ids == [first, second, first, second]
    assert told.complaint_id is not None
    requests = Topic.NOTIFICATION_REQUESTS.value
    sent = await _event_ids(kafka_bootstrap, requests, told.complaint_id, 2)
    assert sent == [str(told.request_id)] * 2


async def _event_ids(bootstrap: str, topic: str, key: uuid.UUID, count: int) -> list[str]:
    """The event ids of the first ``count`` records keyed ``key`` on ``topic``, read from the
    start (the topic is shared with other tests: read on until they are all there)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    found: list[str] = []
    try:

        async def more() -> list[str]:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                found.extend(
                    from_kafka(r.key, r.headers, r.value).id
                    for r in records
                    if r.key == str(key).encode()
                )
            return found

        await poll(more, lambda ids: len(ids) >= count, timeout=60, interval=0)
    finally:
        await consumer.stop()
    return found[:count]


async def test_a_driven_complaint_observes_the_steps_it_went_through(
    drive: Callable[[ComplaintSubmitted], Awaitable[Driven]],
) -> None:
    steps = ("received", "registered", "registry_check")
    before = {s: observed(s)[0] for s in (*steps, "back_office")}
    c = await drive(submitted())
    await c.answer_registry(found=True)
    # Observed before each publish: once back_office is on the topic, every earlier step is in.
    published = await c.published(Topic.COMPLAINT_LIFECYCLE, expect=4)
    moves = [e.parse(ComplaintTransitioned) for e in published]
    assert [m.to_step for m in moves] == [*steps, "back_office"]
    # Still in back office: that step has no duration yet.
    assert {s: observed(s)[0] - before[s] for s in before} == {
        **dict.fromkeys(steps, 1.0),
        "back_office": 0.0,
    }
