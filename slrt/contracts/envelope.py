"""The one event envelope: CloudEvents 1.0 in Kafka binary content mode.

Attributes travel as ``ce_*`` headers, the data as JSON in the value, the aggregate id as the
message key (and the ``partitionkey`` extension). W3C ``traceparent``/``tracestate`` travel as
plain headers beside them (see ``slrt.telemetry``).
"""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, TypeVar

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict, Field

from slrt.contracts.topics import Topic


class EventData(BaseModel):
    """Base of every event's data model. Subclasses name their type and topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_type: ClassVar[str]
    topic: ClassVar[Topic]


T = TypeVar("T", bound=EventData)


class Envelope(BaseModel):
    """A CloudEvent as the services see it (attributes + JSON data)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: str
    source: str
    subject: str
    """The aggregate id (complaint or household id) — also the Kafka key. Never personal data."""
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    data: dict[str, Any]

    @classmethod
    def wrap(cls, data: EventData, *, source: str, subject: str, id: str | None = None) -> Self:
        fields: dict[str, Any] = {
            "type": data.event_type,
            "source": source,
            "subject": subject,
            "data": data.model_dump(mode="json"),
        }
        if id is not None:
            fields["id"] = id
        return cls(**fields)

    def parse(self, model: builtins.type[T]) -> T:
        """The data as ``model``; raises ``ValueError`` if the type does not match."""
        if self.type != model.event_type:
            raise ValueError(f"event type {self.type!r} is not {model.event_type!r}")
        return model.model_validate(self.data)


def to_kafka(envelope: Envelope) -> tuple[bytes, list[tuple[str, bytes]], bytes]:
    """(key, headers, value) for a Kafka record in CloudEvents binary mode."""
    event = CloudEvent(
        attributes={
            "id": envelope.id,
            "type": envelope.type,
            "source": envelope.source,
            "subject": envelope.subject,
            "time": envelope.time,
            "datacontenttype": "application/json",
            "partitionkey": envelope.subject,
        },
        data=envelope.data,
    )
    message = ce_kafka.to_binary_event(event)
    key = envelope.subject.encode()
    return key, list(message.headers.items()), message.value


def from_kafka(
    key: bytes | None, headers: list[tuple[str, bytes]] | None, value: bytes
) -> Envelope:
    """Parse a Kafka record written by :func:`to_kafka`; raises ``ValueError`` if it is not one."""
    ce_headers = {name: raw for name, raw in (headers or []) if name.startswith("ce_")}
    ce_headers.update({n: r for n, r in (headers or []) if n == "content-type"})
    if "ce_type" not in ce_headers:
        raise ValueError("not a CloudEvent: no ce_type header")
    # The SDK would invent a missing id or time; a record without them is malformed.
    missing = [h for h in ("ce_id", "ce_source", "ce_specversion") if h not in ce_headers]
    if missing:
        raise ValueError(f"malformed CloudEvent: missing {', '.join(missing)}")
    try:
        event = ce_kafka.from_binary_event(ce_kafka.KafkaMessage(ce_headers, key, value))
    except Exception as exc:  # the SDK raises several types for malformed input
        raise ValueError(f"malformed CloudEvent: {type(exc).__name__}: {exc}") from exc
    data = event.get_data()
    if not isinstance(data, dict):
        raise ValueError("CloudEvent data is not a JSON object")
    time = event.get_time() or datetime.now(UTC)
    return Envelope(
        id=event.get_id(),
        type=event.get_type(),
        source=event.get_source(),
        subject=event.get_subject() or (key.decode() if key else ""),
        time=time,
        data=data,
    )
