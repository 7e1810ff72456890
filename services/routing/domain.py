"""What the results other services publish mean to a complaint's workflow: pure translations
from contract events to the workflow's signal payloads (no I/O)."""

from __future__ import annotations

from typing import Any

from slrt.contracts.complaints import DeliveryOutcome, ReferralAnswer, RegistryProposalNews
from slrt.contracts.events import (
    NotificationDelivered,
    NotificationFailed,
    ReferralAnswered,
    RegistryProposalUpdated,
    RegistryVerificationApplied,
)


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


def proposal_news(
    event: RegistryProposalUpdated | RegistryVerificationApplied,
) -> RegistryProposalNews:
    """The registry's news about a proposal, as the complaint's workflow takes it."""
    if isinstance(event, RegistryProposalUpdated):
        return RegistryProposalNews(
            proposal_id=event.proposal_id,
            kind=event.kind,
            status=event.status,
            request_id=event.request_id,
            batch_id=event.batch_id,
            at=event.at,
        )
    return RegistryProposalNews(
        proposal_id=event.proposal_id,
        kind=event.kind,
        status=verdict(event),
        batch_id=event.batch_id,
        reason=event.reason,
        household_id=event.household_id,
        at=event.at,
    )


def verdict(event: RegistryVerificationApplied) -> Any:
    """``accepted`` / ``rejected`` / ``revisit`` (an event from before ``result``: from
    ``accepted``)."""
    if event.result is not None:
        return event.result
    return "accepted" if event.accepted else "rejected"
