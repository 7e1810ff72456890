"""Which household message a transition sends, and the outcome's parameters (pure rules)."""

from __future__ import annotations

import pytest

from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.contacts import HouseholdMessage
from slrt.contracts.transitions import Reason
from workflows.household import message_for, outcome_params

S = ComplaintStep
M = HouseholdMessage


@pytest.mark.parametrize(
    ("from_step", "to_step", "reason", "expected"),
    [
        # Registration: walk-in at once, facilitator capture once the supervisor approves.
        (S.RECEIVED, S.REGISTERED, Reason.TICKET_ATTACHED, M.REGISTERED),
        (S.SUPERVISOR_REVIEW, S.REGISTERED, Reason.TICKET_ATTACHED, M.REGISTERED),
        # Back office asks the household.
        (S.BACK_OFFICE, S.AWAITING_INFORMATION, Reason.INFORMATION_REQUESTED, M.INFORMATION_NEEDED),
        # The outcome: entering feedback (resolved, referral answered) ...
        (S.BACK_OFFICE, S.FEEDBACK, Reason.RESOLVED_LOCALLY, M.OUTCOME),
        (S.REFERRED, S.FEEDBACK, "referral_accepted", M.OUTCOME),
        (S.UNDER_REVIEW, S.FEEDBACK, "referral_rejected", M.OUTCOME),
        # ... closing without feedback (answered at registration, duplicate) ...
        (S.REGISTERED, S.CLOSED, Reason.ANSWERED_AT_REGISTRATION, M.OUTCOME),
        (S.BACK_OFFICE, S.CLOSED, Reason.DUPLICATE, M.OUTCOME),
        # ... or withdrawal, from any open step.
        (S.BACK_OFFICE, S.WITHDRAWN, "pindah domisili", M.OUTCOME),
        (S.FEEDBACK, S.WITHDRAWN, "pindah domisili", M.OUTCOME),
        # Reopened (from feedback or after closing).
        (S.FEEDBACK, S.BACK_OFFICE, Reason.REOPENED_NOT_SATISFIED, M.REOPENED),
        (S.CLOSED, S.BACK_OFFICE, Reason.REOPENED_NOT_SATISFIED, M.REOPENED),
    ],
)
def test_the_transitions_that_tell_the_household(
    from_step: ComplaintStep, to_step: ComplaintStep, reason: str, expected: HouseholdMessage
) -> None:
    assert message_for(from_step, to_step, reason) is expected


@pytest.mark.parametrize(
    ("from_step", "to_step", "reason"),
    [
        (None, S.RECEIVED, Reason.SUBMITTED),
        (S.RECEIVED, S.SUPERVISOR_REVIEW, Reason.FACILITATOR_CAPTURE),
        (S.SUPERVISOR_REVIEW, S.RETURNED_FOR_CORRECTION, Reason.RETURNED_FOR_CORRECTION),
        (S.REGISTERED, S.REGISTRY_CHECK, Reason.REGISTRY_CHECK_REQUESTED),
        (S.REGISTRY_CHECK, S.BACK_OFFICE, Reason.REGISTRY_CHECKED),
        (S.AWAITING_INFORMATION, S.BACK_OFFICE, Reason.INFORMATION_RECEIVED),
        (S.BACK_OFFICE, S.MANAGER_APPROVAL, Reason.REFERRAL_PROPOSED),
        (S.MANAGER_APPROVAL, S.REFERRED, Reason.REFERRAL_APPROVED),
        (S.REFERRED, S.UNDER_REVIEW, Reason.UNDER_REVIEW),
        (S.REFERRED, S.BACK_OFFICE, Reason.NOT_RESPONSIBLE),
        (S.REFERRED, S.BACK_OFFICE, Reason.NO_RESPONSE),
        # Closing after feedback: the outcome was sent when feedback began (exactly once).
        (S.FEEDBACK, S.CLOSED, Reason.HOUSEHOLD_TOLD),
        # Events within a step (household not reached, a response, a breach) send nothing.
        (S.FEEDBACK, S.FEEDBACK, Reason.HOUSEHOLD_NOT_REACHED),
        (S.CLOSED, S.CLOSED, Reason.HOUSEHOLD_RESPONSE),
    ],
)
def test_the_transitions_that_do_not(
    from_step: ComplaintStep | None, to_step: ComplaintStep, reason: str
) -> None:
    assert message_for(from_step, to_step, reason) is None


def test_a_referral_outcome_names_the_program_and_the_program_note() -> None:
    params = outcome_params(
        Outcome.REFERRAL_ACCEPTED,
        {"destination": "PKH", "note": "Bantuan disalurkan tahap berikut"},
        reopened=False,
        program="PKH",
    )
    assert params == {
        "outcome": "referral_accepted",
        "decided_by": "PKH",
        "note": "Bantuan disalurkan tahap berikut",
        "duplicate_of": None,
        "reopenable": True,
    }


def test_slrt_decides_locally_and_a_second_outcome_after_reopening_is_final() -> None:
    params = outcome_params(
        Outcome.RESOLVED_LOCALLY, {"answer": "Dibayar penuh"}, reopened=True, program="PKH"
    )
    assert params["decided_by"] == "slrt"
    assert params["note"] == "Dibayar penuh"
    assert params["reopenable"] is False


@pytest.mark.parametrize("outcome", [Outcome.DUPLICATE, Outcome.ANSWERED, Outcome.WITHDRAWN])
def test_outcomes_that_cannot_be_reopened(outcome: Outcome) -> None:
    params = outcome_params(
        outcome, {"duplicate_of": "3204-26-000001"}, reopened=False, program=None
    )
    assert params["reopenable"] is False
    assert params["decided_by"] == "slrt"
