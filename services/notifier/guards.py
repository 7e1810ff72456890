"""Per-destination protection, so one dead or slow agency does not hold up the rest: a token
bucket (rate limit) and a circuit breaker. In memory, per process: each replica protects the
destination on its own, which bounds the total at replicas × rate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _at: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._at = self.clock()

    def reserve(self) -> float:
        """Take the next token; returns how long to wait before using it (0.0 = now).
        Tokens may go into debt, so waiters queue up in order without polling."""
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


@dataclass
class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; while open, attempts fail at once
    without calling the destination; after ``cooldown`` one trial call is let through."""

    threshold: int
    cooldown: float
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None

    def allows(self) -> bool:
        if self.opened_at is None:
            return True
        if self.clock() - self.opened_at >= self.cooldown:
            self.opened_at = self.clock()  # half-open: this call is the trial
            return True
        return False

    def record(self, success: bool) -> None:
        if success:
            self.failures = 0
            self.opened_at = None
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self.clock()

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None


class Guards:
    def __init__(self, *, rate: float, burst: int, threshold: int, cooldown: float) -> None:
        self._rate = rate
        self._burst = burst
        self._threshold = threshold
        self._cooldown = cooldown
        self._buckets: dict[str, TokenBucket] = {}
        self._breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, destination: str) -> CircuitBreaker:
        if destination not in self._breakers:
            self._breakers[destination] = CircuitBreaker(self._threshold, self._cooldown)
        return self._breakers[destination]

    async def throttle(self, destination: str) -> None:
        bucket = self._buckets.setdefault(destination, TokenBucket(self._rate, self._burst))
        wait = bucket.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
