"""Separation of duties at the manager's approval, as a plain rule (no server)."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep, ManagerDecision
from slrt.contracts.sla import SlaPolicy
from tests.support.complaints import actor, request_id, submitted
from workflows.complaint.stage_back_office import check_manager_decision
from workflows.complaint.state import Complaint


def _proposed_by(user: str, *, rule_on: bool = True) -> Complaint:
    c = Complaint.new(submitted())
    c.step = ComplaintStep.MANAGER_APPROVAL
    c.referral.proposed_by = user
    c.clocks.policy = SlaPolicy(days_off=[], separation_of_duties=rule_on)
    return c


def _decision(user: str, decision: str = "approve") -> ManagerDecision:
    return ManagerDecision(
        actor=actor(Role.MANAGER, user),
        request_id=request_id(),
        decision=decision,
    )


def test_the_proposer_may_not_approve() -> None:
    with pytest.raises(ApplicationError) as refused:
        check_manager_decision(_proposed_by("u-1"), _decision("u-1"))
    assert refused.value.type == "SeparationOfDuties"
    assert refused.value.non_retryable
    assert refused.value.details == (
        {"rule": "separation_of_duties", "current_step": "manager_approval"},
    )


def test_another_manager_approves_and_the_proposer_may_send_back() -> None:
    check_manager_decision(_proposed_by("u-1"), _decision("u-2"))
    check_manager_decision(_proposed_by("u-1"), _decision("u-1", "send_back"))


def test_with_the_rule_off_the_proposer_approves() -> None:
    check_manager_decision(_proposed_by("u-1", rule_on=False), _decision("u-1"))


def test_a_policy_recorded_before_the_setting_reads_as_on() -> None:
    policy = SlaPolicy.model_validate({"days_off": []})
    assert policy.separation_of_duties is True
