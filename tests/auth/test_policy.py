"""The authorisation table, cell by cell: every role × every action, inside and outside the
caller's area, and program managers by program."""

from __future__ import annotations

import pytest

from slrt.auth import Action, Decision, Principal, Role, decide
from slrt.auth.policy import ALLOWED

A = Action
EXPECTED: dict[Role, set[Action]] = {
    Role.FACILITATOR: {
        A.COMPLAINT_SUBMIT,
        A.ATTACHMENT_ADD,
        A.COMPLAINT_CORRECT,
        A.COMPLAINT_READ,
        A.COMPLAINT_READ_PERSONAL,
        A.FACILITATOR_FEEDBACK,
        A.INFORMATION_RECEIVED,
        A.COMPLAINT_WITHDRAW,
        A.PERSON_READ,
        A.PERSON_SEARCH,
        A.PROPOSAL_SUBMIT,
        A.PROGRAM_INFO_READ,
    },
    Role.SUPERVISOR: {
        A.COMPLAINT_READ,
        A.COMPLAINT_READ_PERSONAL,
        A.SUPERVISOR_REVIEW,
        A.COMPLAINT_WITHDRAW,
        A.PERSON_READ,
        A.PERSON_SEARCH,
        A.PROPOSAL_REVIEW,
        A.AGGREGATES_READ,
        A.PROGRAM_INFO_READ,
    },
    Role.FRONT_OFFICE: {
        A.COMPLAINT_SUBMIT,
        A.ATTACHMENT_ADD,
        A.COMPLAINT_READ,
        A.COMPLAINT_READ_PERSONAL,
        A.INFORMATION_RECEIVED,
        A.COMPLAINT_WITHDRAW,
        A.PERSON_READ,
        A.PERSON_SEARCH,
        A.PROPOSAL_SUBMIT,
        A.PROGRAM_INFO_READ,
        A.ELIGIBILITY_CHECK,
    },
    Role.BACK_OFFICE: {
        A.COMPLAINT_READ,
        A.ATTACHMENT_ADD,
        A.COMPLAINT_READ_PERSONAL,
        A.BACK_OFFICE_ACT,
        A.COMPLAINT_WITHDRAW,
        A.PERSON_READ,
        A.PERSON_SEARCH,
        A.DELIVERY_READ,
        A.AGGREGATES_READ,
        A.PROGRAM_INFO_READ,
        A.ELIGIBILITY_CHECK,
    },
    Role.MANAGER: {
        A.COMPLAINT_READ,
        A.COMPLAINT_READ_PERSONAL,
        A.MANAGER_DECIDE,
        A.COMPLAINT_WITHDRAW,
        A.PERSON_READ,
        A.PERSON_SEARCH,
        A.CATALOG_EDIT,
        A.PROPOSAL_REVIEW,
        A.DELIVERY_READ,
        A.DELIVERY_RESEND,
        A.AGGREGATES_READ,
        A.REPORT_WRITE,
        A.PROGRAM_INFO_READ,
        A.PROGRAM_INFO_EDIT,
        A.ELIGIBILITY_CHECK,
    },
    Role.PROGRAM_MANAGER: {
        A.REFERRAL_READ,
        A.REFERRAL_ANSWER,
        A.ATTACHMENT_ADD,
        A.PROGRAM_INFO_READ,
        A.PROGRAM_INFO_EDIT,
    },
    Role.ADMINISTRATOR: {
        A.CATALOG_EDIT,
        A.AGGREGATES_READ,
        A.PROGRAM_INFO_READ,
        A.FAQ_EDIT,
        A.PERSONAL_DATA_ERASE,
    },
    Role.DATA_MANAGER: {A.REGISTRY_IMPORT, A.AGGREGATES_READ, A.AUDIT_READ},
    Role.VIEWER: {A.AGGREGATES_READ},
    Role.NOTIFIER_SERVICE: {A.CONTACT_REDEEM},
    Role.REGISTRY_SERVICE: {A.COMPLAINANT_REDEEM},
    Role.WORKFLOW_OPERATOR: {A.WORKFLOW_HISTORY_READ},
}

STAFF_ROLES = [r for r in Role if r is not Role.PROGRAM_MANAGER]
BANDUNG_VILLAGE = "3204052001"  # Kabupaten Bandung
BANDUNG_CITY_VILLAGE = "3273010001"  # Kota Bandung


def test_the_table_is_exactly_what_the_roles_need() -> None:
    assert {r: set(a) for r, a in ALLOWED.items()} == EXPECTED


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("action", list(Action))
def test_staff_inside_their_area(role: Role, action: Action) -> None:
    user = Principal(subject="u", roles=frozenset({role}), area="3204")
    expected = Decision.ALLOW if action in EXPECTED[role] else Decision.FORBIDDEN
    assert decide(user, action, place_code=BANDUNG_VILLAGE) is expected


@pytest.mark.parametrize("role", STAFF_ROLES)
@pytest.mark.parametrize("action", list(Action))
def test_staff_outside_their_area_see_nothing(role: Role, action: Action) -> None:
    user = Principal(subject="u", roles=frozenset({role}), area="3204")
    assert decide(user, action, place_code=BANDUNG_CITY_VILLAGE) is Decision.NOT_FOUND


def test_a_3204_back_office_user_gets_not_found_for_a_3273_complaint() -> None:
    user = Principal(subject="bo", roles=frozenset({Role.BACK_OFFICE}), area="3204")
    assert decide(user, A.COMPLAINT_READ, place_code=BANDUNG_CITY_VILLAGE) is Decision.NOT_FOUND
    assert decide(user, A.BACK_OFFICE_ACT, place_code=BANDUNG_CITY_VILLAGE) is Decision.NOT_FOUND


def test_national_and_village_areas() -> None:
    national = Principal(subject="n", roles=frozenset({Role.VIEWER}), area="")
    assert decide(national, A.AGGREGATES_READ, place_code=BANDUNG_CITY_VILLAGE) is Decision.ALLOW
    village = Principal(subject="f", roles=frozenset({Role.FACILITATOR}), area=BANDUNG_VILLAGE)
    assert decide(village, A.COMPLAINT_READ, place_code=BANDUNG_VILLAGE) is Decision.ALLOW
    assert decide(village, A.COMPLAINT_READ, place_code="3204052002") is Decision.NOT_FOUND


@pytest.mark.parametrize("action", list(Action))
def test_program_managers_act_only_on_referrals_to_their_programs(action: Action) -> None:
    pm = Principal(
        subject="pm", roles=frozenset({Role.PROGRAM_MANAGER}), area="", programs=frozenset({"PKH"})
    )
    own = decide(pm, action, place_code=BANDUNG_VILLAGE, program="PKH")
    other = decide(pm, action, place_code=BANDUNG_VILLAGE, program="BPNT")
    assert own is (
        Decision.ALLOW if action in EXPECTED[Role.PROGRAM_MANAGER] else Decision.FORBIDDEN
    )
    assert other is Decision.NOT_FOUND


def test_several_roles_add_up() -> None:
    user = Principal(subject="u", roles=frozenset({Role.BACK_OFFICE, Role.MANAGER}), area="3204")
    assert decide(user, A.MANAGER_DECIDE, place_code=BANDUNG_VILLAGE) is Decision.ALLOW
    assert decide(user, A.BACK_OFFICE_ACT, place_code=BANDUNG_VILLAGE) is Decision.ALLOW
    assert decide(user, A.REGISTRY_IMPORT, place_code=BANDUNG_VILLAGE) is Decision.FORBIDDEN


def test_an_area_must_be_a_place_code_prefix() -> None:
    with pytest.raises(ValueError, match="area"):
        Principal(subject="u", roles=frozenset({Role.VIEWER}), area="320")
