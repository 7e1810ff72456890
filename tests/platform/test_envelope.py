"""The CloudEvents envelope in Kafka binary mode."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from slrt import outbox
from slrt.contracts.envelope import Envelope, from_kafka, to_kafka
from slrt.contracts.events import EVENT_MODELS, ComplaintSubmitted
from slrt.contracts.vocabulary import Category, Channel


def _submitted() -> ComplaintSubmitted:
    return ComplaintSubmitted(
        complaint_id=uuid.uuid4(),
        ticket_number="3204-26-000123",
        channel=Channel.PUSKESOS_WALK_IN,
        category=Category.MEMBERSHIP,
        village_code="3204052001",
        submitted_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        submitted_by="user-17",
        description="Bantuan PKH tidak cair sejak Januari",
    )


def test_round_trip_keeps_attributes_and_data() -> None:
    data = _submitted()
    envelope = Envelope.wrap(data, source="/slrt/intake", subject=str(data.complaint_id))
    key, headers, value = to_kafka(envelope)
    names = dict(headers)
    assert key == str(data.complaint_id).encode()
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_type"] == b"slrt.complaint.submitted.v1"
    assert names["content-type"] == b"application/json"
    back = from_kafka(key, headers, value)
    assert back == envelope
    assert back.parse(ComplaintSubmitted) == data


def test_parse_refuses_another_type() -> None:
    data = _submitted()
    envelope = Envelope.wrap(data, source="/slrt/intake", subject=str(data.complaint_id))
    with pytest.raises(ValueError, match="is not"):
        envelope.parse(EVENT_MODELS["slrt.referral.answered.v1"])


@pytest.mark.parametrize(
    ("headers", "value", "message"),
    [
        ([], b"{}", "no ce_type"),
        ([("ce_type", b"x"), ("ce_specversion", b"1.0"), ("ce_source", b"/s")], b"{}", "malformed"),
        (
            [
                ("ce_type", b"x"),
                ("ce_specversion", b"1.0"),
                ("ce_source", b"/s"),
                ("ce_id", b"1"),
                ("content-type", b"application/json"),
            ],
            b"[1, 2]",
            "not a JSON object",
        ),
    ],
)
def test_from_kafka_rejects_what_is_not_an_event(
    headers: list[tuple[str, bytes]], value: bytes, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        from_kafka(b"k", headers, value)


def test_every_event_model_names_a_versioned_type() -> None:
    for event_type, model in EVENT_MODELS.items():
        assert event_type.startswith("slrt.")
        assert event_type.endswith(".v1")
        assert model.topic.value.startswith("slrt.")


def test_outbox_row_holds_the_envelope_wrap_makes() -> None:
    """``outbox.row``'s envelope text is ``Envelope.wrap``'s JSON (its own id and time)."""
    data = _submitted()
    event_id, topic, text, trace_headers = outbox.row(
        data, source="/slrt/intake", subject=str(data.complaint_id)
    )
    stored = Envelope.model_validate_json(text)
    wrapped = Envelope.wrap(
        data, source="/slrt/intake", subject=str(data.complaint_id), id=event_id
    ).model_copy(update={"time": stored.time})
    assert stored == wrapped
    assert json.loads(text) == json.loads(wrapped.model_dump_json())
    assert (stored.id, topic, json.loads(trace_headers)) == (event_id, data.topic.value, {})
    assert stored.parse(ComplaintSubmitted) == data
