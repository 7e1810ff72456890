"""Complaint histories for the read-model tests: the lifecycle events the workflow would emit,
in the shape it emits them (``fixtures/live_referrals.json`` holds events recorded from real
runs; the fold's referral tests use those, ``test_live_referrals.py``)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from slrt.contracts.complaints import ComplaintSnapshot, ComplaintStep, Outcome
from slrt.contracts.events import ComplaintTransitioned
from slrt.contracts.vocabulary import Category, Channel

BASE = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
"""Monday 2 November 2026, 09:00 in Jakarta: day 0 of every story."""


@dataclass
class Story:
    """One complaint's life, built step by step; ``events`` is what the topic carries."""

    place_code: str
    category: Category
    channel: Channel
    program_code: str | None = None
    start_days: float = 0
    acknowledge_due: date | None = None
    resolve_due: date | None = None
    repeat_of: list[str] = field(default_factory=list)
    complaint_id: uuid.UUID = field(default_factory=uuid.uuid4)
    events: list[ComplaintTransitioned] = field(default_factory=list)
    _snapshot: ComplaintSnapshot | None = None

    def step(
        self,
        to: ComplaintStep,
        days: float,
        *,
        role: str = "back_office",
        reason: str | None = None,
        decision_code: str | None = None,
        details: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Story:
        if self._snapshot is None:
            self._snapshot = ComplaintSnapshot(
                complaint_id=self.complaint_id,
                ticket_number=f"3204-26-{len(self.events):06d}",
                step=to,
                holder_role=None,
                place_code=self.place_code,
                category=self.category,
                channel=self.channel,
                program_code=self.program_code,
                acknowledge_due=self.acknowledge_due,
                resolve_due=self.resolve_due,
                repeat_of=self.repeat_of,
            )
        previous = self._snapshot.step if self.events else None
        self._snapshot = self._snapshot.model_copy(update={"step": to, **changes})
        self.events.append(
            ComplaintTransitioned(
                complaint_id=self.complaint_id,
                sequence=len(self.events) + 1,
                from_step=previous.value if previous else None,
                to_step=to.value,
                actor=f"user-{role}",
                actor_role=role,
                at=BASE + timedelta(days=self.start_days + days),
                reason=reason,
                decision_code=decision_code,
                details=details or {},
                snapshot=self._snapshot,
            )
        )
        return self

    def referred(self, days: float, referral_id: uuid.UUID, destination: str) -> Story:
        """The manager approved: the referral transition as the live workflow records it (the
        referral named in the details and, while it is out, in the snapshot)."""
        return self.step(
            ComplaintStep.REFERRED,
            days,
            role="manager",
            reason="referral_approved",
            details={
                "destination": destination,
                "channel": "direct",
                "referral_id": str(referral_id),
            },
            referral_id=referral_id,
            referral_destination=destination,
        )

    def intake(self) -> Story:
        """received → registered → registry check → back office, all on day 0 of the story."""
        self.step(ComplaintStep.RECEIVED, 0, role="front_office")
        self.step(ComplaintStep.REGISTERED, 0, role="system")
        self.step(ComplaintStep.REGISTRY_CHECK, 0, role="system")
        return self.step(ComplaintStep.BACK_OFFICE, 0, role="system")


S = ComplaintStep
VILLAGE_A = "3204052001"
VILLAGE_B = "3204052002"
R1 = uuid.UUID("00000000-0000-4000-8000-000000000001")
R2 = uuid.UUID("00000000-0000-4000-8000-000000000002")


def district_stories() -> list[Story]:
    """Four complaints in sub-district 320405 whose figures are worked out by hand in the
    read-model test (day 0 = 2 Nov 2026)."""
    referred = Story(
        VILLAGE_A,
        Category.MEMBERSHIP,
        Channel.FACILITATOR_VISIT,
        "pkh",
        acknowledge_due=date(2026, 11, 5),
        resolve_due=date(2026, 11, 16),
    ).intake()
    referred.step(S.MANAGER_APPROVAL, 1)
    referred.referred(1, R1, "pkh")
    referred.step(
        S.FEEDBACK,
        3,
        role="program_manager",
        reason="referral_accepted",
        decision_code="accepted",
        details={"destination": "pkh", "referral_id": str(R1)},
        referral_id=None,
        referral_destination=None,
    )
    referred.step(
        S.CLOSED,
        4,
        role="facilitator",
        reason="household_told",
        decision_code="referral_accepted",
        details={"household_response": "satisfied"},
        outcome=Outcome.REFERRAL_ACCEPTED,
    )

    reopened = Story(
        VILLAGE_A,
        Category.IMPLEMENTATION,
        Channel.PUSKESOS_WALK_IN,
        acknowledge_due=date(2026, 11, 5),
        resolve_due=date(2026, 11, 16),
    ).intake()
    reopened.step(S.FEEDBACK, 5, reason="resolved_locally")
    reopened.step(
        S.BACK_OFFICE,
        6,
        role="facilitator",
        reason="reopened_not_satisfied",
        details={"household_response": "not_satisfied"},
        reopened=True,
    )

    answered = Story(VILLAGE_B, Category.INFORMATION, Channel.DISTRICT_WALK_IN)
    answered.step(S.RECEIVED, 0, role="front_office")
    answered.step(S.CLOSED, 0, role="front_office", outcome=Outcome.ANSWERED)

    expired = Story(
        VILLAGE_B,
        Category.PROGRAM_NEED,
        Channel.FACILITATOR_VISIT,
        "bpnt",
        start_days=2,
        acknowledge_due=date(2026, 11, 9),
        resolve_due=date(2026, 11, 18),
        repeat_of=["3204-26-000001"],
    ).intake()
    expired.step(S.MANAGER_APPROVAL, 1)
    expired.referred(2, R2, "bpnt")
    expired.step(
        S.BACK_OFFICE,
        16,
        role="system",
        reason="no_response",
        decision_code="no_response",
        details={"destination": "bpnt", "referral_id": str(R2)},
        referral_id=None,
        referral_destination=None,
        escalation_count=1,
        escalated=True,
    )
    return [referred, reopened, answered, expired]


SPREAD = {
    # village: complaints — Jawa Barat (32) large, Jawa Tengah (33) a small cell, Jawa Timur
    # (35) just above it, so national views show primary and secondary suppression.
    "3204052003": 6,
    "3204061001": 7,
    "3204072001": 5,
    "3204082001": 2,
    "3273011001": 8,
    "3301012001": 3,
    "3578011001": 7,
}
PROGRAMS = ("pkh", "bpnt", "pip", None)
CATEGORIES = (Category.MEMBERSHIP, Category.IMPLEMENTATION, Category.PROGRAM_NEED)


def spread_stories(seed: int = 7) -> list[Story]:
    """Generated complaints across three provinces with every kind of ending."""
    rng = random.Random(seed)
    stories = []
    for village, count in SPREAD.items():
        for n in range(count):
            category = CATEGORIES[n % len(CATEGORIES)]
            program = PROGRAMS[rng.randrange(len(PROGRAMS))]
            start = rng.randrange(0, 25)
            story = Story(
                village,
                category,
                rng.choice(list(Channel)),
                program,
                start_days=start,
                acknowledge_due=(BASE + timedelta(days=start + 3)).date(),
                resolve_due=(BASE + timedelta(days=start + 14)).date(),
            ).intake()
            ending = rng.randrange(4)
            if ending == 0:
                story.step(S.FEEDBACK, rng.randrange(1, 6), reason="resolved_locally")
                story.step(
                    S.CLOSED,
                    7,
                    role="facilitator",
                    details={"household_response": rng.choice(["satisfied", "not_satisfied"])},
                    outcome=Outcome.RESOLVED_LOCALLY,
                )
            elif ending in (1, 2) and program is not None:
                referral = uuid.uuid4()
                story.step(S.MANAGER_APPROVAL, 1)
                story.referred(2, referral, program)
                decision = "accepted" if ending == 1 else "rejected"
                story.step(
                    S.FEEDBACK,
                    2 + rng.randrange(1, 10),
                    role="program_manager",
                    reason=f"referral_{decision}",
                    decision_code=decision,
                    details={"destination": program, "referral_id": str(referral)},
                    referral_id=None,
                    referral_destination=None,
                )
            stories.append(story)
    return stories
