"""The complaint's rules: refusals, what each back-office action needs, referral destinations."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from slrt.auth.principal import Role
from slrt.contracts.complaints import BackOfficeAction, ComplaintStep
from slrt.contracts.vocabulary import ProgramChannel
from tests.support.complaints import actor
from workflows.model import RoutePlan, RoutingOptions
from workflows.rules import (
    HOLDER,
    check_fits,
    choose_destination,
    missing_fields,
    referral_reminder_days,
)

S = ComplaintStep


def plan(code: str, sla: int = 10, reminder: int | None = None) -> RoutePlan:
    return RoutePlan(
        destination=code,
        program_name=code,
        owner_agency="x",
        channel=ProgramChannel.DIRECT,
        sla_working_days=sla,
        reminder_working_days=reminder,
    )


OPTIONS = RoutingOptions(
    suggested=plan("PKH"), destinations={"PKH": plan("PKH"), "BPNT": plan("BPNT")}
)


def action(**fields: object) -> BackOfficeAction:
    return BackOfficeAction(actor=actor(Role.BACK_OFFICE), request_id="r1", **fields)


def test_every_step_has_a_holder_entry_and_closed_steps_have_none() -> None:
    assert set(HOLDER) == set(ComplaintStep)
    assert HOLDER[S.CLOSED] is None
    assert HOLDER[S.REFERRED] is Role.PROGRAM_MANAGER


def test_a_wrong_step_is_refused_naming_the_current_step() -> None:
    with pytest.raises(ApplicationError) as refused:
        check_fits(S.BACK_OFFICE, Role.MANAGER, {S.MANAGER_APPROVAL}, {Role.MANAGER})
    assert refused.value.type == "WrongStep"
    assert refused.value.details == ({"current_step": "back_office"},)
    assert "back_office" in refused.value.message
    with pytest.raises(ApplicationError) as wrong_role:
        check_fits(S.BACK_OFFICE, Role.FACILITATOR, {S.BACK_OFFICE}, {Role.BACK_OFFICE})
    assert wrong_role.value.type == "NotYourRole"
    check_fits(S.BACK_OFFICE, Role.BACK_OFFICE, {S.BACK_OFFICE}, {Role.BACK_OFFICE})


def test_each_back_office_action_names_what_it_lacks() -> None:
    assert missing_fields(action(kind="resolve")) == ["answer", "decision_code"]
    assert missing_fields(action(kind="resolve", answer="ok", decision_code="paid")) == []
    assert missing_fields(action(kind="mark_duplicate")) == ["duplicate_of"]
    assert missing_fields(action(kind="request_information")) == ["question"]
    assert missing_fields(action(kind="refer")) == []


def test_the_suggestion_is_the_default_and_an_override_needs_a_reason() -> None:
    assert choose_destination(OPTIONS, action(kind="refer")).destination == "PKH"
    with pytest.raises(ApplicationError) as refused:
        choose_destination(OPTIONS, action(kind="refer", destination_program="BPNT"))
    assert refused.value.type == "InvalidAction"
    assert refused.value.details == ({"fields": ["override_reason"]},)
    chosen = choose_destination(
        OPTIONS, action(kind="refer", destination_program="BPNT", override_reason="rice")
    )
    assert chosen.destination == "BPNT"
    with pytest.raises(ApplicationError):
        choose_destination(
            OPTIONS, action(kind="refer", destination_program="NOPE", override_reason="x")
        )
    with pytest.raises(ApplicationError):
        choose_destination(RoutingOptions(suggested=None, destinations={}), action(kind="refer"))
    with pytest.raises(ApplicationError):
        choose_destination(None, action(kind="refer"))


def test_the_referral_reminder_is_the_programs_own_or_a_share_of_its_sla() -> None:
    assert referral_reminder_days(plan("A", sla=5, reminder=3), 0.7) == 3
    assert referral_reminder_days(plan("A", sla=10), 0.7) == 7
    assert referral_reminder_days(plan("A", sla=1), 0.7) == 1
