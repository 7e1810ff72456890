"""Where one played complaint ended, and how it got there."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from demo.paths import Path


@dataclass
class Played:
    path: Path
    complaint_id: str | None = None
    ticket: str | None = None
    step: str | None = None
    outcome: str | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None

    @property
    def as_expected(self) -> bool:
        return (
            self.problem is None
            and self.step == self.path.end_step
            and self.outcome == self.path.end_outcome
        )
