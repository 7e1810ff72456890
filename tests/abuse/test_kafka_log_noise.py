"""A Kafka outage's client noise is rate-limited; real errors still log (slrt.lognoise)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from slrt.lognoise import KafkaNoiseFilter

PER_SECOND = 100


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged() -> Iterator[tuple[_Collect, _Clock]]:
    clock = _Clock()
    handler = _Collect()
    handler.addFilter(KafkaNoiseFilter(window_seconds=30, clock=clock))
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler, clock
    root.removeHandler(handler)


def test_reconnect_noise_is_one_warning_per_kind_and_window(
    logged: tuple[_Collect, _Clock],
) -> None:
    handler, clock = logged
    conn = logging.getLogger("aiokafka.conn")
    client = logging.getLogger("aiokafka.client")
    for second in range(30):  # a 30 s outage (aiokafka logs about 1,150 lines a second)
        clock.now = float(second)
        for _ in range(PER_SECOND):
            try:
                raise ConnectionRefusedError(111, "Connect call failed")
            except ConnectionRefusedError as exc:
                conn.error("Unable connect to node with id %s: %s", 1, exc, exc_info=True)
            client.error("Unable to update metadata from %s", [1])
    noise = [r for r in handler.records if r.name.startswith("aiokafka")]
    assert len(noise) == 2
    assert {r.levelno for r in noise} == {logging.WARNING}
    assert all(r.exc_info is None for r in noise)
    clock.now = 31.0
    conn.error("Unable connect to node with id %s: %s", 1, "refused")
    summary = handler.records[-1]
    assert summary.suppressed == 30 * PER_SECOND - 1  # type: ignore[attr-defined]
    assert "more like it" in summary.getMessage()


def test_real_errors_still_log(logged: tuple[_Collect, _Clock]) -> None:
    handler, _ = logged
    logging.getLogger("aiokafka.producer.sender").error("Unexpected error in sender routine")
    for _ in range(3):
        logging.getLogger("slrt.kafka").error("event dead-lettered")
    assert [(r.name, r.levelno) for r in handler.records] == [
        ("aiokafka.producer.sender", logging.ERROR),
        ("slrt.kafka", logging.ERROR),
        ("slrt.kafka", logging.ERROR),
        ("slrt.kafka", logging.ERROR),
    ]
