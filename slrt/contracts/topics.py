"""Kafka topic names. Every event is keyed by its aggregate id (a complaint or household id)."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    COMPLAINT_SUBMITTED = "slrt.complaint.submitted"
    """intake → routing: a complaint was accepted (starts its workflow)."""
    COMPLAINT_LIFECYCLE = "slrt.complaint.lifecycle"
    """routing → intake, dashboard, notifier: every workflow transition (the notifier cancels
    referral deliveries that no longer wait)."""
    REGISTRY_REQUESTS = "slrt.registry.requests"
    """routing → registry: registry checks and pre-list entries."""
    REGISTRY_RESULTS = "slrt.registry.results"
    """registry → routing: check answers, proposal and verification results."""
    NOTIFICATION_REQUESTS = "slrt.notification.requests"
    """routing → notifier: referrals, reminders, tasks, household messages."""
    NOTIFICATION_OUTCOMES = "slrt.notification.outcomes"
    """notifier → routing: delivered / failed."""
    REFERRAL_ANSWERS = "slrt.referral.answers"
    """intake → routing: a program manager's answer to a referral."""
    PROGRAM_CATALOG = "slrt.catalog.programs"
    """registry → routing, notifier, intake: every program catalog entry after each change,
    keyed by program code (a compacted topic: the latest entry per program is kept)."""
    PROGRAM_INFO = "slrt.program.info"
    """registry → intake: every version of a program-information entry (FAQ or a program's
    information) as intake needs it to record which entry answered an information request,
    keyed by entry id (compacted: the latest version per entry is kept)."""
    STAFF_DIRECTORY = "slrt.staff.directory"
    """registry → every service: the staff directory (persons, village assignments, supervision,
    district settings) after each change, keyed ``person:<id>``, ``village:<code>``,
    ``supervision:<facilitator id>``, ``district:<code>`` (compacted; ``slrt.contracts.staff``)."""


ALL_TOPICS: tuple[Topic, ...] = tuple(Topic)

DEAD_LETTER_SUFFIX = ".dlq"


def dead_letter_topic(topic: str) -> str:
    """Where a message goes that its consumer cannot process."""
    return f"{topic}{DEAD_LETTER_SUFFIX}"
