"""``CurrentSpan``: the span current inside the block, ended after it, and an exception leaving
the block recorded with the error status — what the statement and publish spans rely on."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from slrt.telemetry import CurrentSpan


@pytest.fixture
def traced() -> tuple[trace.Tracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def test_the_span_is_current_in_the_block_and_ended_after(
    traced: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    tracer, exporter = traced
    before = trace.get_current_span()
    span = tracer.start_span("work")
    with CurrentSpan(span) as entered:
        assert entered is span
        assert trace.get_current_span() is span
        assert exporter.get_finished_spans() == ()
    assert trace.get_current_span() is before
    [finished] = exporter.get_finished_spans()
    assert finished.name == "work"
    assert finished.status.status_code is trace.StatusCode.UNSET
    assert finished.events == ()


def test_an_exception_is_recorded_with_the_error_status_and_raised(
    traced: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    tracer, exporter = traced
    before = trace.get_current_span()
    with pytest.raises(ValueError, match="boom"), CurrentSpan(tracer.start_span("work")):
        raise ValueError("boom")
    assert trace.get_current_span() is before
    [finished] = exporter.get_finished_spans()
    assert finished.status.status_code is trace.StatusCode.ERROR
    assert finished.status.description == "ValueError: boom"
    assert [e.name for e in finished.events] == ["exception"]
    assert finished.events[0].attributes is not None
    assert finished.events[0].attributes["exception.type"] == "ValueError"


def test_a_cancellation_ends_the_span_without_marking_an_error(
    traced: tuple[trace.Tracer, InMemorySpanExporter],
) -> None:
    tracer, exporter = traced
    with pytest.raises(asyncio.CancelledError), CurrentSpan(tracer.start_span("work")):
        raise asyncio.CancelledError
    [finished] = exporter.get_finished_spans()
    assert finished.status.status_code is trace.StatusCode.UNSET
    assert finished.events == ()
