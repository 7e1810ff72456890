"""What the results other services publish mean to a complaint's workflow: pure translations
from contract events to the workflow's signal payloads (no I/O)."""

from __future__ import annotations

from slrt.contracts.complaints import DeliveryOutcome, ReferralAnswer
from slrt.contracts.events import NotificationDelivered, NotificationFailed, ReferralAnswered


def delivered_outcome(delivered: NotificationDelivered) -> DeliveryOutcome:
    return DeliveryOutcome(
        request_id=delivered.request_id,
        delivered=True,
        channel=delivered.channel,
        detail=delivered.external_ref,
        at=delivered.delivered_at,
    )


def failed_outcome(failed: NotificationFailed) -> DeliveryOutcome:
    return DeliveryOutcome(
        request_id=failed.request_id,
        delivered=False,
        channel=failed.channel,
        detail=f"failed after {failed.attempts} attempts",
        at=failed.failed_at,
    )


def referral_answer(answered: ReferralAnswered) -> ReferralAnswer:
    return ReferralAnswer(
        answer_id=answered.answer_id,
        referral_id=answered.referral_id,
        decision=answered.decision,
        note=answered.note,
        expected_date=answered.expected_date,
        suggested_destination=answered.suggested_destination,
        at=answered.answered_at,
    )
