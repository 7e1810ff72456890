"""Where a complaint's seconds go: the hops of the complaint path read from its trace.

``bench.routing_e2e --trace N`` runs N complaints through services that export their spans to an
OTLP receiver; the benchmark sends each submission with a ``traceparent`` of its own, so each
complaint's spans are one trace it knows. The two human steps are HTTP calls of their own
(other traces): their moments come from the benchmark's clock (the same machine's clock).

:func:`segments` cuts one complaint's trace at its milestones (the publish and process spans
of each Kafka hop, in the order the complaint takes them) and :func:`hop_table` gives the
median and p90 of each segment over the complaints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from bench._stack import percentile

SUBMITTED = "slrt.complaint.submitted"
REGISTRY_REQUESTS = "slrt.registry.requests"
REGISTRY_RESULTS = "slrt.registry.results"
NOTIFICATION_REQUESTS = "slrt.notification.requests"
NOTIFICATION_OUTCOMES = "slrt.notification.outcomes"
LIFECYCLE = "slrt.complaint.lifecycle"


class Span(Protocol):
    @property
    def service(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def attributes(self) -> dict[str, str]: ...
    @property
    def start_ns(self) -> int: ...
    @property
    def end_ns(self) -> int: ...


@dataclass(frozen=True)
class Marks:
    """The benchmark's own moments (Unix epoch, ns) for one complaint."""

    submitted: int
    referred: int
    approved: int
    delivered_seen: int


SEGMENTS: list[tuple[str, str]] = [
    ("intake: submission request (complaint, status, outbox row)", "http"),
    ("intake outbox -> relay publishes complaint.submitted", "relay"),
    ("Kafka complaint.submitted: broker + routing's fetch", "kafka"),
    ("routing consumer: dedupe transaction + StartWorkflow", "consumer"),
    ("workflow start -> registry request published (activities)", "temporal"),
    ("Kafka registry.requests: broker + registry's fetch", "kafka"),
    ("registry: lookup + result in outbox (dedupe transaction)", "consumer"),
    ("registry outbox -> relay publishes registry.results", "relay"),
    ("Kafka registry.results: broker + routing's fetch", "kafka"),
    ("routing consumer: dedupe transaction + signal", "consumer"),
    ("signal -> back office refers (activities, lifecycle to the bench, its request)", "human"),
    ("back office refers -> approval -> referral request published (as above)", "human"),
    ("Kafka notification.requests: broker + notifier's fetch", "kafka"),
    ("notifier: request recorded (dedupe transaction)", "consumer"),
    ("notifier: dispatch, LAPOR! call, outcome in outbox, relay", "relay"),
    ("Kafka notification.outcomes: broker + routing's fetch", "kafka"),
    ("routing consumer: dedupe transaction + signal", "consumer"),
    ("signal -> referral_delivered published (activities)", "temporal"),
    ("Kafka complaint.lifecycle: broker + intake's fetch", "kafka"),
    ("intake: timeline projected (dedupe transaction)", "consumer"),
    ("projected -> seen by the benchmark's poll (every 0.1 s)", "bench"),
]


def _first(spans: Iterable[Span], pick: Callable[[Span], bool], after: int = 0) -> Span | None:
    found = [s for s in spans if s.start_ns >= after and pick(s)]
    return min(found, key=lambda s: s.start_ns) if found else None


def _named(name: str, service: str | None = None) -> Callable[[Span], bool]:
    return lambda s: s.name == name and (service is None or s.service == service)


def _processed(topic: str, service: str, publish: Span) -> Callable[[Span], bool]:
    message = publish.attributes.get("messaging.message.id")
    return lambda s: (
        s.name == f"{topic} process"
        and s.service == service
        and s.attributes.get("messaging.message.id") == message
    )


def segments(spans: list[Span], marks: Marks) -> list[float] | None:
    """The seconds of each of :data:`SEGMENTS` for one complaint; None if a milestone is
    missing (a span not exported in time)."""
    try:
        http = _first(spans, lambda s: s.service == "slrt-intake" and s.name.startswith("POST"))
        assert http is not None
        m1 = _first(spans, _named(f"{SUBMITTED} publish", "slrt-intake"))
        assert m1 is not None
        m2 = _first(spans, _processed(SUBMITTED, "slrt-routing", m1))
        assert m2 is not None
        m3 = _first(spans, _named(f"{REGISTRY_REQUESTS} publish", "slrt-routing"))
        assert m3 is not None
        m4 = _first(spans, _processed(REGISTRY_REQUESTS, "slrt-registry", m3))
        assert m4 is not None
        m5 = _first(spans, _named(f"{REGISTRY_RESULTS} publish", "slrt-registry"), m4.start_ns)
        assert m5 is not None
        m6 = _first(spans, _processed(REGISTRY_RESULTS, "slrt-routing", m5))
        assert m6 is not None
        # After the refer (the approval's answer may reach the benchmark after the publish).
        m7 = _first(
            spans, _named(f"{NOTIFICATION_REQUESTS} publish", "slrt-routing"), marks.referred
        )
        assert m7 is not None
        m8 = _first(spans, _processed(NOTIFICATION_REQUESTS, "slrt-notifier", m7))
        assert m8 is not None
        m9 = _first(spans, _named(f"{NOTIFICATION_OUTCOMES} publish", "slrt-notifier"), m8.start_ns)
        assert m9 is not None
        m10 = _first(spans, _processed(NOTIFICATION_OUTCOMES, "slrt-routing", m9))
        assert m10 is not None
        m11 = _first(spans, _named(f"{LIFECYCLE} publish", "slrt-routing"), m10.start_ns)
        assert m11 is not None
        m12 = _first(spans, _processed(LIFECYCLE, "slrt-intake", m11))
        assert m12 is not None
    except AssertionError:
        return None
    ns = [
        http.end_ns - marks.submitted,
        m1.start_ns - http.end_ns,
        m2.start_ns - m1.start_ns,
        m2.end_ns - m2.start_ns,
        m3.start_ns - m2.end_ns,
        m4.start_ns - m3.start_ns,
        m4.end_ns - m4.start_ns,
        m5.start_ns - m4.end_ns,
        m6.start_ns - m5.start_ns,
        m6.end_ns - m6.start_ns,
        marks.referred - m6.end_ns,
        m7.start_ns - marks.referred,
        m8.start_ns - m7.start_ns,
        m8.end_ns - m8.start_ns,
        m9.start_ns - m8.end_ns,
        m10.start_ns - m9.start_ns,
        m10.end_ns - m10.start_ns,
        m11.start_ns - m10.end_ns,
        m12.start_ns - m11.start_ns,
        m12.end_ns - m12.start_ns,
        marks.delivered_seen - m12.end_ns,
    ]
    return [n / 1e9 for n in ns]


def hop_table(per_complaint: list[list[float]]) -> list[dict[str, object]]:
    """Median and p90 (ms) of each segment, and its share of the summed medians."""
    medians = [percentile([c[i] for c in per_complaint], 0.5) for i in range(len(SEGMENTS))]
    total = sum(max(m, 0.0) for m in medians) or 1.0
    rows: list[dict[str, object]] = []
    for i, (what, kind) in enumerate(SEGMENTS):
        values = [c[i] for c in per_complaint]
        rows.append(
            {
                "segment": what,
                "kind": kind,
                "p50_ms": round(medians[i] * 1000, 1),
                "p90_ms": round(percentile(values, 0.9) * 1000, 1),
                "share": round(max(medians[i], 0.0) / total, 3),
            }
        )
    return rows


def markdown(rows: list[dict[str, object]], complaints: int) -> str:
    lines = [
        f"| # | segment ({complaints} complaints) | kind | p50 ms | p90 ms | share of p50s |",
        "| ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for i, row in enumerate(rows, 1):
        share = float(str(row["share"]))
        lines.append(
            f"| {i} | {row['segment']} | {row['kind']} | {row['p50_ms']} | {row['p90_ms']} "
            f"| {share:.0%} |"
        )
    return "\n".join(lines)
