"""Intake's domain rules as plain functions (no stack)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.intake.domain import (
    TRACKING_CODE_ALPHABET,
    acting_role,
    check_channel,
    check_complainant,
    check_submission,
    language,
    new_tracking_code,
    status_of,
    ticket_number,
    verifier_matches,
)
from services.intake.schemas import ComplainantIn, SubmissionIn
from slrt.auth.policy import Action
from slrt.auth.principal import Principal, Role
from slrt.contracts.vocabulary import Channel
from slrt.places import directory

TODAY = date(2026, 11, 27)
FRONT = Principal(subject="fo", roles=frozenset({Role.FRONT_OFFICE}), area="3204")


def _submission(**overrides: Any) -> SubmissionIn:
    body: dict[str, Any] = {
        "channel": "district_walk_in",
        "village_code": "3204052001",
        "complainant": {"name": "A", "nik": "3204054107850003", "sex": "female"},
        "category": "membership",
        "description": "d",
    }
    body.update(overrides)
    return SubmissionIn.model_validate(body)


def test_a_good_submission_passes_with_the_plain_village_code() -> None:
    checked = check_submission(_submission(village_code="32.04.05.2001"), directory(), FRONT, TODAY)
    assert checked.errors == []
    assert checked.village_code == "3204052001"
    assert checked.warnings == []


def test_several_broken_rules_are_all_named() -> None:
    checked = check_submission(
        _submission(village_code="3204059999", category="implementation", occurred_on="2026-11-28"),
        directory(),
        FRONT,
        TODAY,
    )
    assert {(e["field"], e["rule"]) for e in checked.errors} == {
        ("village_code", "known_village"),
        ("program_code", "required_for_implementation"),
        ("occurred_on", "not_in_future"),
    }


@pytest.mark.parametrize(
    ("person", "rule", "warnings"),
    [
        ({"nik": "3204054107850003", "sex": "female", "birth_date": "1985-07-01"}, None, []),
        ({"nik": "3204054107850003", "sex": "male"}, None, ["nik_sex_mismatch"]),
        (
            {"nik": "3204054107850003", "birth_date": "1985-07-02"},
            None,
            ["nik_birth_date_mismatch"],
        ),
        ({"nik": "3273010107850003"}, None, ["nik_issued_elsewhere"]),
        ({"nik": "32.04.05.410785.0003"}, None, []),
        ({"nik": "320405410785000"}, "nik_format", []),
        ({"nik": "32040541078500AB"}, "nik_format", []),
        ({"nik": "3204053213850003"}, "nik_valid", []),
        ({"nik": "9904054107850003"}, "nik_valid", []),
        ({"birth_date": "2027-01-01"}, "not_in_future", []),
    ],
)
def test_a_nik_that_cannot_exist_is_refused_one_that_disagrees_only_warned(
    person: dict[str, Any], rule: str | None, warnings: list[str]
) -> None:
    errors, found = check_complainant(
        ComplainantIn.model_validate({"name": "A", **person}), "3204052001", TODAY
    )
    assert [e["rule"] for e in errors] == ([rule] if rule else [])
    assert found == warnings
    for error in errors:
        assert person.get("nik", "-") not in error["message"]


def test_channels_belong_to_roles() -> None:
    facilitator = Principal(subject="f", roles=frozenset({Role.FACILITATOR}), area="3204052001")
    assert check_channel(Channel.FACILITATOR_VISIT, facilitator) is None
    assert check_channel(Channel.PUSKESOS_WALK_IN, FRONT) is None
    assert check_channel(Channel.FACILITATOR_VISIT, FRONT) is not None
    walk_in_error = check_channel(Channel.DISTRICT_WALK_IN, facilitator)
    assert walk_in_error is not None
    assert walk_in_error["rule"] == "front_office_only"


def test_ticket_numbers() -> None:
    assert ticket_number("3204", 2026, 123) == "3204-26-000123"
    assert ticket_number("3273", 2030, 1_234_567) == "3273-30-1234567"


def test_verifiers() -> None:
    code = new_tracking_code()
    assert len(code) == 8
    assert not set(code) & set("01IO")
    assert verifier_matches(code, code, "7890")
    assert verifier_matches(code.lower(), code, None)
    assert verifier_matches("7890", code, "7890")
    assert not verifier_matches("7891", code, "7890")
    assert not verifier_matches("7890", code, None)


def test_tracking_codes_use_the_whole_alphabet_at_every_position() -> None:
    codes = [new_tracking_code() for _ in range(4000)]
    assert len(set(codes)) == len(codes)
    for position in range(8):
        # 4000 draws of 32 letters: each letter ~125 times at each position; missing one
        # would mean a bit of the draw is not used.
        assert {c[position] for c in codes} == set(TRACKING_CODE_ALPHABET)


def test_status_and_roles_and_language() -> None:
    assert status_of("closed") == "closed"
    assert status_of("withdrawn") == "withdrawn"
    assert status_of("referred") == "open"
    both = Principal(subject="x", roles=frozenset({Role.MANAGER, Role.BACK_OFFICE}), area="3204")
    assert acting_role(both, Action.MANAGER_DECIDE) is Role.MANAGER
    assert acting_role(both, Action.BACK_OFFICE_ACT) is Role.BACK_OFFICE
    with pytest.raises(LookupError):
        acting_role(FRONT, Action.MANAGER_DECIDE)
    assert language(None, None) == "id"
    assert language(None, "en-GB,en;q=0.8") == "en"
    assert language(None, "id-ID,en;q=0.5") == "id"
    assert language("en", "id") == "en"
    assert language(None, "fr") == "id"
