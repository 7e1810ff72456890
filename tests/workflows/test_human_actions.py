"""Who may take which human action, in which step: one table (``HUMAN_ACTIONS``, its roles
from the authorisation table intake enforces), read by the workflow's validators."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from slrt.auth.policy import ALLOWED, Action
from slrt.auth.principal import Role
from slrt.contracts import complaints as c
from slrt.contracts.complaints import HUMAN_ACTIONS, OPEN_STEPS, ComplaintStep, Refusal
from workflows.rules import check_fits

S = ComplaintStep
STAFF = {Role.FRONT_OFFICE, Role.BACK_OFFICE, Role.FACILITATOR, Role.SUPERVISOR, Role.MANAGER}


def test_the_information_the_household_gives_is_recorded_by_a_facilitator_or_the_front_office() -> (
    None
):
    # Pedoman Umum SLRT 2017: the household reaches SLRT through a facilitator's visit or the
    # Puskesos / secretariat front office (IV.B.2.a; V.D.1.a.3.e and V.D.1.a.4.a); the back
    # office works on what the front office has taken in (V.D.1.a.5.a). Before this table the
    # workflow also let back office record it, while intake let only facilitators.
    rule = HUMAN_ACTIONS[c.UPDATE_INFORMATION_RECEIVED]
    assert rule.roles == {Role.FACILITATOR, Role.FRONT_OFFICE}
    assert rule.steps == {S.AWAITING_INFORMATION}
    assert {r for r, actions in ALLOWED.items() if Action.INFORMATION_RECEIVED in actions} == {
        Role.FACILITATOR,
        Role.FRONT_OFFICE,
    }
    with pytest.raises(ApplicationError) as refused:
        check_fits(S.AWAITING_INFORMATION, Role.BACK_OFFICE, rule.steps, rule.roles)
    assert refused.value.type == Refusal.NOT_YOUR_ROLE
    check_fits(S.AWAITING_INFORMATION, Role.FRONT_OFFICE, rule.steps, rule.roles)


def test_every_other_action_keeps_its_steps_and_roles() -> None:
    expected = {
        c.UPDATE_SUPERVISOR_REVIEW: ({S.SUPERVISOR_REVIEW}, {Role.SUPERVISOR}),
        c.UPDATE_RESUBMIT: ({S.RETURNED_FOR_CORRECTION}, {Role.FACILITATOR}),
        c.UPDATE_BACK_OFFICE: ({S.BACK_OFFICE}, {Role.BACK_OFFICE}),
        c.UPDATE_MANAGER_DECISION: ({S.MANAGER_APPROVAL}, {Role.MANAGER}),
        c.UPDATE_FEEDBACK: ({S.FEEDBACK}, {Role.FACILITATOR}),
        c.UPDATE_HOUSEHOLD_RESPONSE: ({S.FEEDBACK, S.CLOSED}, set(Role)),
        c.UPDATE_WITHDRAW: (set(OPEN_STEPS), STAFF),
        c.UPDATE_PROPOSE_CORRECTION: (
            {S.BACK_OFFICE, S.AWAITING_REGISTRATION},
            {Role.BACK_OFFICE},
        ),
    }
    assert {
        update: (set(rule.steps), set(rule.roles))
        for update, rule in HUMAN_ACTIONS.items()
        if update != c.UPDATE_INFORMATION_RECEIVED
    } == expected


def test_refusals_keep_their_wire_names() -> None:
    assert [r.value for r in Refusal] == [
        "WrongStep",
        "NotYourRole",
        "InvalidAction",
        "SeparationOfDuties",
    ]
    with pytest.raises(ApplicationError) as refused:
        check_fits(S.BACK_OFFICE, Role.MANAGER, {S.MANAGER_APPROVAL}, {Role.MANAGER})
    assert refused.value.type == "WrongStep"
    assert refused.value.details == ({"current_step": "back_office"},)
