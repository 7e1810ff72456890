"""The retention rule as plain functions: which complaints are due for erasure (ended more than
the retention period ago, never an open one, never twice) and the audit row's why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.intake.retention import (
    Trigger,
    audit_detail,
    due_for_erasure,
    ended,
    retention_cutoff,
)
from services.intake.settings import IntakeSettings
from slrt.contracts.complaints import OPEN_STEPS, ComplaintStep

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
DAYS = 1095


def test_the_default_keeps_personal_data_three_years_after_closing() -> None:
    assert IntakeSettings.model_fields["personal_data_retention_days"].default == 1095


def test_only_closed_and_withdrawn_complaints_have_ended() -> None:
    assert ended("closed")
    assert ended("withdrawn")
    assert not any(ended(step.value) for step in OPEN_STEPS)


@pytest.mark.parametrize("step", sorted(s.value for s in OPEN_STEPS))
def test_an_open_complaint_is_never_due_however_old(step: str) -> None:
    assert not due_for_erasure(step, NOW - timedelta(days=10 * DAYS), NOW, DAYS)


@pytest.mark.parametrize("step", [ComplaintStep.CLOSED.value, ComplaintStep.WITHDRAWN.value])
def test_an_ended_complaint_is_due_only_after_the_retention_period(step: str) -> None:
    cutoff = retention_cutoff(NOW, DAYS)
    assert cutoff == NOW - timedelta(days=DAYS)
    assert due_for_erasure(step, cutoff - timedelta(seconds=1), NOW, DAYS)
    assert not due_for_erasure(step, cutoff, NOW, DAYS)  # "more than" the period
    assert not due_for_erasure(step, NOW - timedelta(days=DAYS - 1), NOW, DAYS)
    assert not due_for_erasure(step, NOW, NOW, DAYS)


def test_an_erased_complaint_is_not_due_again() -> None:
    old = NOW - timedelta(days=2 * DAYS)
    assert due_for_erasure("closed", old, NOW, DAYS)
    assert not due_for_erasure("closed", old, NOW, DAYS, erased=True)


def test_the_audit_detail_carries_no_personal_data() -> None:
    assert audit_detail(Trigger.RETENTION, None, DAYS) == "retention: ended more than 1095 days ago"
    detail = audit_detail(
        Trigger.REQUEST, "surat 12/2026, NIK 3204123456789012, HP 081234567890", DAYS
    )
    assert detail.startswith("data subject request: surat 12/2026")
    assert "3204123456789012" not in detail
    assert "081234567890" not in detail
    assert len(audit_detail(Trigger.REQUEST, "x" * 2000, DAYS)) < 400
