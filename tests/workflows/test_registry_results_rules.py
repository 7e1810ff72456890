"""The complaint's rule for the registry's news about its proposals (pure functions)."""

from __future__ import annotations

import pytest

from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.contacts import HouseholdMessage
from slrt.contracts.transitions import Reason
from workflows import household
from workflows.registry_results import holds_run, may_await, pending, react, settles

S = ComplaintStep


@pytest.mark.parametrize("status", ["proposed", "approved", "returned", "exported"])
@pytest.mark.parametrize("step", [S.BACK_OFFICE, S.AWAITING_REGISTRATION, S.REFERRED, S.CLOSED])
def test_a_proposals_progress_is_recorded_where_the_complaint_stands(
    status: str, step: ComplaintStep
) -> None:
    reaction = react(step, "prelist", status, expected=1, decided={})
    assert reaction.to is None
    assert reaction.reason is Reason.REGISTRY_PROPOSAL_UPDATED


@pytest.mark.parametrize("step", [S.BACK_OFFICE, S.REFERRED, S.FEEDBACK, S.CLOSED])
@pytest.mark.parametrize("status", ["accepted", "rejected", "revisit"])
def test_a_result_for_a_complaint_not_waiting_on_it_is_recorded_and_told(
    step: ComplaintStep, status: str
) -> None:
    decided = {"p": status} if status != "revisit" else {}
    reaction = react(step, "prelist", status, expected=1, decided=decided)
    assert reaction.to is None
    assert reaction.reason is Reason.REGISTRY_VERIFIED
    assert household.message_for(step, step, reaction.reason) is HouseholdMessage.REGISTRY_RESULT


def test_waiting_on_registration_every_acceptance_closes_with_accepted() -> None:
    reaction = react(
        S.AWAITING_REGISTRATION, "change", "accepted", 2, {"a": "accepted", "b": "accepted"}
    )
    assert reaction.to is S.FEEDBACK
    assert reaction.outcome is Outcome.REGISTRY_ACCEPTED
    assert reaction.reason is Reason.REGISTRY_ACCEPTED


def test_waiting_on_registration_any_rejection_closes_with_rejected() -> None:
    reaction = react(
        S.AWAITING_REGISTRATION, "change", "accepted", 2, {"a": "rejected", "b": "accepted"}
    )
    assert reaction.to is S.FEEDBACK
    assert reaction.outcome is Outcome.REGISTRY_REJECTED


def test_waiting_on_registration_a_partial_result_waits_on() -> None:
    reaction = react(S.AWAITING_REGISTRATION, "change", "accepted", 2, {"a": "accepted"})
    assert reaction.to is None
    assert reaction.reason is Reason.REGISTRY_VERIFIED


def test_a_revisit_sends_a_waiting_complaint_back_to_back_office() -> None:
    reaction = react(S.AWAITING_REGISTRATION, "prelist", "revisit", 1, {})
    assert reaction.to is S.BACK_OFFICE
    assert reaction.reason is Reason.REGISTRY_REVISIT
    message = household.message_for(S.AWAITING_REGISTRATION, S.BACK_OFFICE, reaction.reason)
    assert message is HouseholdMessage.REGISTRY_RESULT


def test_entering_feedback_from_the_registry_sends_the_outcome() -> None:
    message = household.message_for(S.AWAITING_REGISTRATION, S.FEEDBACK, Reason.REGISTRY_ACCEPTED)
    assert message is HouseholdMessage.OUTCOME
    params = household.outcome_params(
        Outcome.REGISTRY_REJECTED, {"reason": "KK tidak sah"}, reopened=False, program=None
    )
    assert params["decided_by"] == "siks_ng"
    assert params["note"] == "KK tidak sah"
    assert params["reopenable"] is True


def test_pending_waiting_and_holding() -> None:
    assert pending(2, {"a": "accepted"}) == 1
    assert pending(1, {"a": "accepted", "b": "rejected"}) == 0
    assert may_await(1, {})
    assert not may_await(0, {})
    assert not may_await(1, {"a": "rejected"})
    assert holds_run(S.CLOSED, 1, {})
    assert not holds_run(S.CLOSED, 1, {"a": "accepted"})
    assert not holds_run(S.BACK_OFFICE, 1, {})


def test_the_registry_result_message_carries_codes_only() -> None:
    details = {"status": "rejected", "kind": "change", "reason": "KK tidak sah", "proposal_id": "x"}
    assert household.registry_result_params(details) == {
        "result": "rejected",
        "kind": "change",
        "reason": "KK tidak sah",
    }


def test_what_news_settles() -> None:
    assert settles("prelist", "accepted") == "accepted"
    assert settles("change", "rejected") == "rejected"
    # A returned pre-list entry is corrected and goes on; a returned correction is over.
    assert settles("prelist", "returned") is None
    assert settles("prelist", "revisit") is None
    assert settles("change", "returned") == "returned"
    assert settles("change", "revisit") == "returned"
    assert settles("change", "exported") is None


def test_a_returned_correction_sends_a_waiting_complaint_back_to_back_office() -> None:
    returned = react(S.AWAITING_REGISTRATION, "change", "returned", 1, {"a": "returned"})
    assert returned.to is S.BACK_OFFICE
    assert returned.reason is Reason.REGISTRY_CORRECTION_RETURNED
    # Elsewhere it is only recorded; a returned pre-list entry keeps the complaint waiting.
    assert react(S.BACK_OFFICE, "change", "returned", 1, {"a": "returned"}).to is None
    assert react(S.AWAITING_REGISTRATION, "prelist", "returned", 1, {}).to is None
    # It no longer counts as undecided: a closed complaint does not wait for it.
    assert not holds_run(S.CLOSED, 1, {"a": "returned"})


def test_accepted_beside_a_returned_correction_goes_back_to_back_office() -> None:
    decided = {"a": "returned", "b": "accepted"}
    reaction = react(S.AWAITING_REGISTRATION, "change", "accepted", 2, decided)
    assert reaction.to is S.BACK_OFFICE
    assert reaction.reason is Reason.REGISTRY_CORRECTION_RETURNED


def test_every_proposal_naming_the_complaint_must_be_decided() -> None:
    # It started one (its pre-list entry) and a correction made at the registry's own API
    # names it too: the complaint waits for both. (Without request ids on results, proposals
    # heard of count first toward those it started.)
    assert pending(1, {}, known={"own", "api"}) == 2
    assert pending(1, {"api": "accepted"}, known={"own", "api"}) == 1
    assert pending(1, {"api": "accepted", "own": "rejected"}, known={"own", "api"}) == 0
    waiting = react(
        S.AWAITING_REGISTRATION,
        "change",
        "accepted",
        1,
        {"api": "accepted"},
        known={"own", "api"},
    )
    assert waiting.to is None
