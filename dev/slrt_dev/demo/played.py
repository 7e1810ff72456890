"""Where one played complaint ended, how it got there, and whether the outside world shows
what its path must have produced there."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slrt_dev.demo.paths import Path

EFFECTS = ("messages", "answers", "tracking", "dashboard")
"""The outward effects checked for every complaint (``slrt_dev.demo.effects``):

- ``messages`` — the household's messages at the SMS gateway, or as emails at the SMTP sink, or
  handed to the village facilitator (whose task went out), as the path's contact says;
- ``answers`` — each referral where its channel takes it (one LAPOR! report, one verified
  webhook, one answer-link email whose link was used once) and its answers recorded;
- ``tracking`` — the public tracking page shows the ticket's final state;
- ``dashboard`` — the dashboard's figures this complaint counts in agree with the played week.
"""


@dataclass
class Played:
    path: Path
    complaint_id: str | None = None
    ticket: str | None = None
    step: str | None = None
    outcome: str | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)
    problem: str | None = None
    tracking_code: str | None = None
    phone: str | None = None
    """The complainant's number in E.164, as the SMS gateway receives it (None: anonymous, or
    no phone given)."""
    email: str | None = None
    """The complainant's email address, when the path's complainant gives one."""
    village: str | None = None
    """The complaint's village (whose facilitator is told when the household has no contact)."""
    referral_ids: list[str] = field(default_factory=list)
    """The referrals the demo saw the complaint make, in order."""
    seen: dict[str, str] = field(default_factory=dict)
    """What each checked effect showed (for the table): effect → short summary."""
    wrong: dict[str, list[str]] = field(default_factory=dict)
    """Effect → what differs from the path's expectations (empty: as expected)."""

    @property
    def ended_as_expected(self) -> bool:
        return (
            self.problem is None
            and self.step == self.path.end_step
            and self.outcome == self.path.end_outcome
            and all(reason in self.reasons for reason in self.path.passes_through)
        )

    @property
    def as_expected(self) -> bool:
        """Ended where its path ends, and every checked effect is as the path says."""
        return self.ended_as_expected and not any(self.wrong.values())

    @property
    def reasons(self) -> set[str]:
        """Why each transition on the way happened (``submitted``, ``no_response`` …)."""
        return {entry["reason"] for entry in self.timeline if entry.get("reason")}

    def flag(self, effect: str, problem: str) -> None:
        self.wrong.setdefault(effect, []).append(problem)
