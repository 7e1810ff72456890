"""Information requests by topic: the fold takes the topic from the closing transition's
details (the answer the front office recorded), and the table labels and suppresses it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.dashboard.domain.facts import fold
from services.dashboard.domain.view import topic_table
from slrt.contracts.complaints import ComplaintSnapshot, ComplaintStep
from slrt.contracts.events import ComplaintTransitioned
from slrt.contracts.vocabulary import Category, Channel

AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def _information_request(details: dict[str, Any]) -> list[ComplaintTransitioned]:
    complaint = uuid.uuid4()

    def snap(step: ComplaintStep) -> ComplaintSnapshot:
        return ComplaintSnapshot(
            complaint_id=complaint,
            ticket_number="3204-26-000001",
            step=step,
            holder_role=None,
            place_code="3204052001",
            category=Category.INFORMATION,
            channel=Channel.PUSKESOS_WALK_IN,
        )

    steps = [
        (None, ComplaintStep.RECEIVED, "submitted", {}),
        (ComplaintStep.RECEIVED, ComplaintStep.REGISTERED, "ticket_attached", {}),
        (ComplaintStep.REGISTERED, ComplaintStep.CLOSED, "answered_at_registration", details),
    ]
    return [
        ComplaintTransitioned(
            complaint_id=complaint,
            sequence=i + 1,
            from_step=None if src is None else src.value,
            to_step=dst.value,
            actor="system",
            actor_role="system",
            at=AT + timedelta(seconds=i),
            reason=reason,
            decision_code="answered" if dst is ComplaintStep.CLOSED else None,
            details=extra,
            snapshot=snap(dst),
        )
        for i, (src, dst, reason, extra) in enumerate(steps)
    ]


def test_the_answer_topic_becomes_the_requests_topic() -> None:
    events = _information_request(
        {"entry_id": str(uuid.uuid4()), "entry_version": 2, "topic": "PKH", "answer": "…"}
    )
    assert fold(events).information_topic == "PKH"
    assert fold(list(reversed(events))).information_topic == "PKH"  # order does not matter


def test_a_request_closed_without_an_answer_has_no_topic() -> None:
    assert fold(_information_request({})).information_topic is None


def test_the_table_labels_no_answer_and_suppresses_small_cells() -> None:
    rows = [
        {"key": "PKH", "requests": 9},
        {"key": "PIP", "requests": 7},
        {"key": "-", "requests": 2},
    ]
    table = topic_table(rows, "id", suppress=True)
    assert table.title == "Permintaan informasi menurut topik"
    # One small cell alone would be recoverable from the total: the next smallest goes too.
    assert [(r.name, r.cells[0].text) for r in table.rows] == [
        ("PKH", "9"),
        ("PIP", "<5"),
        ("Tanpa jawaban tercatat", "<5"),
    ]
    english = topic_table(rows, "en", suppress=False)
    assert english.title == "Information requests by topic"
    assert [(r.name, r.cells[0].text) for r in english.rows] == [
        ("PKH", "9"),
        ("PIP", "7"),
        ("No answer recorded", "2"),
    ]
