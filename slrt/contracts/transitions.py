"""Why a complaint moved, and the decision codes the system itself writes: the words every
consumer of ``slrt.complaint.lifecycle`` folds on (the dashboard's facts, intake's timeline).

Values are the wire format (``ComplaintTransitioned.reason`` / ``decision_code``, history
entries): never change one, add a new member instead. A withdrawal's reason is the staff
member's own text, and a back-office resolution's decision code is back office's own code, so
both fields stay plain strings on the wire.
"""

from __future__ import annotations

from enum import StrEnum

from slrt.contracts.vocabulary import ReferralDecision


class Reason(StrEnum):
    """The reason of a transition (or of an event within a step: from = to)."""

    # Intake and registry check
    SUBMITTED = "submitted"
    FACILITATOR_CAPTURE = "facilitator_capture"
    RETURNED_FOR_CORRECTION = "returned_for_correction"
    CORRECTED = "corrected"
    TICKET_ATTACHED = "ticket_attached"
    ANSWERED_AT_REGISTRATION = "answered_at_registration"
    ANONYMOUS_NO_LOOKUP = "anonymous_no_lookup"
    ANONYMOUS = "anonymous"
    REGISTRY_CHECK_REQUESTED = "registry_check_requested"
    REGISTRY_CHECKED = "registry_checked"
    REGISTRY_NO_ANSWER = "registry_no_answer"
    REGISTRY_ATTACHED = "registry_attached"
    # Registry results (pre-list entries and corrections the complaint started)
    REGISTRATION_AWAITED = "registration_awaited"
    """Back office waits for SIKS-NG's verification result (awaiting_registration)."""
    REGISTRY_CORRECTION_PROPOSED = "registry_correction_proposed"
    REGISTRY_PROPOSAL_UPDATED = "registry_proposal_updated"
    """A proposal of the complaint was recorded, reviewed or exported (within the step)."""
    REGISTRY_VERIFIED = "registry_verified"
    """SIKS-NG's result for a proposal of the complaint (within the step; also after closing)."""
    REGISTRY_ACCEPTED = "registry_accepted"
    REGISTRY_REJECTED = "registry_rejected"
    REGISTRY_REVISIT = "registry_revisit"
    """SIKS-NG asks for a revisit: back to back office (awaiting_registration → back_office)."""
    REGISTRY_CORRECTION_RETURNED = "registry_correction_returned"
    """A correction the complaint waits on was returned (by the registry's review, as naming an
    unknown record, or by SIKS-NG asking for a revisit): back to back office to propose anew."""
    REGISTRY_RESULT_OVERDUE = "registry_result_overdue"
    """No result within ``registry_result_wait_days``: back to back office."""
    # Back office and approval
    RESOLVED_LOCALLY = "resolved_locally"
    REFERRAL_PROPOSED = "referral_proposed"
    DUPLICATE = "duplicate"
    INFORMATION_REQUESTED = "information_requested"
    INFORMATION_RECEIVED = "information_received"
    SENT_BACK = "sent_back"
    REFERRAL_APPROVED = "referral_approved"
    # Referral follow-up
    REFERRAL_DELIVERED = "referral_delivered"
    DELIVERY_FAILED = "delivery_failed"
    UNDER_REVIEW = "under_review"
    NOT_RESPONSIBLE = "not_responsible"
    REFERRAL_ACCEPTED = "referral_accepted"
    REFERRAL_REJECTED = "referral_rejected"
    NO_RESPONSE = "no_response"
    """The referral expired unanswered; the complaint is back at the back office."""
    # Clocks (``<clock>_breached``, one per breach)
    ACKNOWLEDGE_BREACHED = "acknowledge_breached"
    RESOLVE_BREACHED = "resolve_breached"
    STEP_BREACHED = "step_breached"
    REFERRAL_BREACHED = "referral_breached"
    # Closing and reopening
    HOUSEHOLD_NOT_REACHED = "household_not_reached"
    HOUSEHOLD_TOLD = "household_told"
    HOUSEHOLD_RESPONSE = "household_response"
    REOPENED_NOT_SATISFIED = "reopened_not_satisfied"

    @classmethod
    def breached(cls, clock: str) -> Reason:
        """The reason recorded when ``clock`` (acknowledge, resolve, step, referral) breaches."""
        return cls(f"{clock}_breached")

    @classmethod
    def answered(cls, decision: ReferralDecision) -> Reason:
        """The reason of a program manager's final answer (accepted or rejected)."""
        return cls(f"referral_{decision.value}")


class DecisionCode(StrEnum):
    """Decision codes the system writes. A program manager's answer carries its
    ``ReferralDecision``; a closing transition carries its ``Outcome``."""

    ACCEPTED = ReferralDecision.ACCEPTED.value
    REJECTED = ReferralDecision.REJECTED.value
    UNDER_REVIEW = ReferralDecision.UNDER_REVIEW.value
    NOT_RESPONSIBLE = ReferralDecision.NOT_RESPONSIBLE.value
    NO_RESPONSE = "no_response"
    """The referral expired before the program answered."""
    WITHDRAWN = "withdrawn"


ANSWER_DECISIONS = frozenset(DecisionCode(d.value) for d in ReferralDecision)
"""The decision codes of a program manager's answer."""
