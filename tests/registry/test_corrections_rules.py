"""Corrections proposed from a complaint: the body's rules, what each kind records as a change
proposal and what an accepted one writes (plain functions)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from services.registry.domain import corrections
from slrt.contracts.corrections import RegistryCorrection

PERSON, HOUSEHOLD, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MEMBER = {
    "name": "Siti Aminah",
    "nik": "3204054101200001",
    "sex": "female",
    "birth_date": "2020-01-01",
    "relation": "child",
}


def correction(*changes: dict[str, Any]) -> RegistryCorrection:
    return RegistryCorrection.model_validate({"changes": list(changes), "evidence": "KK baru"})


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (
            {
                "kind": "field",
                "individual_id": str(PERSON),
                "field": "birth_date",
                "new_value": "1-1",
            },
            "changes.0.field.new_value",
            "date",
        ),
        (
            {"kind": "field", "individual_id": str(PERSON), "field": "sex", "new_value": "L"},
            "changes.0.field.new_value",
            "one_of:male,female",
        ),
        (
            {"kind": "field", "individual_id": str(PERSON), "field": "nik", "new_value": "1"},
            "changes.0.field.field",
            "literal_error",
        ),
        (
            {"kind": "kk_number", "household_id": str(HOUSEHOLD), "kk_number": "123"},
            "changes.0.kk_number.kk_number",
            "string_pattern_mismatch",
        ),
        (
            {"kind": "member_add", "household_id": str(HOUSEHOLD), "member": {**MEMBER, "nik": ""}},
            "changes.0.member_add.member.nik",
            "string_pattern_mismatch",
        ),
        (
            {"kind": "member_remove", "individual_id": str(PERSON), "reason": "married"},
            "changes.0.member_remove.reason",
            "literal_error",
        ),
        ({"kind": "rename_village"}, "changes.0", "union_tag_invalid"),
    ],
)
def test_a_bad_change_names_the_field_and_the_rule_never_the_value(
    change: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        correction(change)
    (error,) = refused.value.errors(include_input=False)
    assert ".".join(str(p) for p in error["loc"]) == field
    assert error["type"] == rule


def test_a_correction_holds_one_to_twenty_changes_and_evidence() -> None:
    with pytest.raises(ValidationError):
        correction()
    remove = {"kind": "member_remove", "individual_id": str(PERSON), "reason": "died"}
    with pytest.raises(ValidationError):
        correction(*[remove] * 21)
    with pytest.raises(ValidationError):
        RegistryCorrection.model_validate({"changes": [remove], "evidence": ""})


def test_each_kind_records_its_proposal() -> None:
    body = correction(
        {"kind": "field", "individual_id": str(PERSON), "field": "name", "new_value": "Siti A."},
        {"kind": "member_add", "household_id": str(HOUSEHOLD), "member": MEMBER},
        {"kind": "member_remove", "individual_id": str(PERSON), "reason": "died"},
        {
            "kind": "member_move",
            "individual_id": str(PERSON),
            "to_household_id": str(OTHER),
            "relation": "spouse",
        },
        {"kind": "address", "household_id": str(HOUSEHOLD), "address": "Dusun Cibodas RT 02/05"},
        {"kind": "kk_number", "household_id": str(HOUSEHOLD), "kk_number": "3204050101260001"},
    )
    proposals = [corrections.proposal_of(change) for change in body.changes]
    assert [(p.change_kind, p.field, p.new_value) for p in proposals] == [
        ("field", "name", "Siti A."),
        ("member_add", "member_add", "child"),
        ("member_remove", "member_remove", "died"),
        ("member_move", "member_move", "spouse"),
        ("address", "address", "Dusun Cibodas RT 02/05"),
        ("kk_number", "kk_number", "3204050101260001"),
    ]
    assert proposals[1].member == MEMBER
    assert proposals[3].target_household_id == OTHER
    assert proposals[0].individual_id == PERSON
    assert proposals[4].household_id == HOUSEHOLD


def row(kind: str, **values: Any) -> dict[str, Any]:
    return {
        "change_kind": kind,
        "individual_id": PERSON,
        "household_id": HOUSEHOLD,
        "target_household_id": None,
        "member": None,
        "old_value": None,
        **values,
    }


def test_an_accepted_field_change_updates_the_person() -> None:
    (write,) = corrections.apply_plan(row("field", field="name", new_value="Siti Aminah"))
    assert isinstance(write, corrections.UpdateIndividual)
    assert write == corrections.UpdateIndividual(
        PERSON, {"name": "Siti Aminah", "name_key": write.values["name_key"]}
    )
    (born,) = corrections.apply_plan(row("field", field="birth_date", new_value="1985-07-01"))
    assert born == corrections.UpdateIndividual(PERSON, {"birth_date": date(1985, 7, 1)})
    (cleared,) = corrections.apply_plan(row("field", field="disability", new_value=""))
    assert cleared == corrections.UpdateIndividual(PERSON, {"disability": None})
    # A proposal recorded before change_kind existed is a field change.
    (old,) = corrections.apply_plan(
        {**row("field", field="sex", new_value="male"), "change_kind": None}
    )
    assert old == corrections.UpdateIndividual(PERSON, {"sex": "male"})


def test_accepted_membership_changes() -> None:
    (added,) = corrections.apply_plan(row("member_add", new_value="child", member=MEMBER))
    assert isinstance(added, corrections.AddIndividual)
    assert added.household_id == HOUSEHOLD
    assert added.values["nik"] == MEMBER["nik"]
    assert added.values["birth_date"] == date(2020, 1, 1)
    assert corrections.apply_plan(row("member_remove", new_value="died")) == [
        corrections.RemoveIndividual(PERSON, "died")
    ]
    moved = row("member_move", new_value="spouse", target_household_id=OTHER)
    assert corrections.apply_plan(moved) == [corrections.MoveIndividual(PERSON, OTHER, "spouse")]


def test_accepted_household_changes() -> None:
    assert corrections.apply_plan(row("address", new_value="Dusun Cibodas")) == [
        corrections.UpdateHousehold(HOUSEHOLD, {"address": "Dusun Cibodas"})
    ]
    kk = row("kk_number", new_value="3204050101260001", old_value="3204050101250009")
    assert corrections.apply_plan(kk) == [
        corrections.ReplaceKk(HOUSEHOLD, "3204050101250009", "3204050101260001")
    ]
