"""Where one played complaint ended, and how it got there."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slrt_dev.demo.paths import Path


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
            and all(reason in self.reasons for reason in self.path.passes_through)
        )

    @property
    def reasons(self) -> set[str]:
        """Why each transition on the way happened (``submitted``, ``no_response`` …)."""
        return {entry["reason"] for entry in self.timeline if entry.get("reason")}
