"""Kafka client noise, rate-limited: while a broker is away, aiokafka logs every failed
connection, metadata refresh, fetch and heartbeat (about 34,500 ERROR lines in a 30 s outage).

:class:`KafkaNoiseFilter` (on the log handler, ``slrt.telemetry.setup_logging``) lets each kind of
aiokafka message (its logger and message template) through once per ``window_seconds``; the
next one after the window says how many were held back (``suppressed``). The reconnect kinds
(:data:`RECONNECT_NOISE`) come through as WARNING: an outage is expected and the services ride
it out (the outbox, the consumers' retries, ``/readyz``). Every other aiokafka message keeps its
level, and records of every other logger pass untouched — real errors still log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

RECONNECT_NOISE: tuple[str, ...] = (
    "Unable connect to",
    "Unable to request metadata",
    "Unable to update metadata",
    "Unable to bootstrap",
    "Failed fetch messages",
    "Failed fetch offsets",
    "Got error produce response",
    "Error sending",
    "Error fetching metadata",
    "Heartbeat",
    "Marking the coordinator dead",
    "Group Coordinator Request failed",
    "FindCoordinator Request failed",
    "Auto offset commit failed",
    "OffsetCommit failed",
    "Attempt to fetch offsets",
    "Connection error",
)
"""Message templates of aiokafka that say a broker cannot be reached (and will be retried)."""


def is_reconnect_noise(template: str) -> bool:
    return template.startswith(RECONNECT_NOISE)


class KafkaNoiseFilter(logging.Filter):
    """One record per aiokafka message kind per window (module doc)."""

    def __init__(
        self, window_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.window = window_seconds
        self.clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("aiokafka") or record.levelno < logging.WARNING:
            return True
        template = str(record.msg)
        key = (record.name, template)
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.window:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            record.suppressed = held
            record.msg = f"{template} (and {held} more like it in the last {self.window:.0f} s)"
        if is_reconnect_noise(template) and record.levelno > logging.WARNING:
            record.levelno = logging.WARNING
            record.levelname = logging.getLevelName(logging.WARNING)
            # The traceback of a refused connection says nothing new each time.
            record.exc_info = None
            record.exc_text = None
        return True
