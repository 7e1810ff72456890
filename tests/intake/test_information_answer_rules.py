"""The rule an information request's answer must satisfy at intake (a plain function): the
entry it names is known, of the request's district, and has the version named; and only an
information request carries an answer."""

from __future__ import annotations

import uuid
from datetime import date

from services.intake.domain import check_answer, check_submission
from services.intake.schemas import SubmissionIn
from slrt.auth.principal import Principal, Role
from slrt.places import directory

VILLAGE = "3204052001"
TODAY = date(2026, 11, 30)
ENTRY = {"entry_id": uuid.uuid4(), "version": 3, "district": "3204", "topic": "PKH"}


def test_a_known_entry_of_the_district_up_to_its_newest_version_passes() -> None:
    assert check_answer(ENTRY, 3, VILLAGE) is None
    assert check_answer(ENTRY, 1, VILLAGE) is None  # an older version read out


def test_unknown_entries_other_districts_and_future_versions_are_named() -> None:
    assert check_answer(None, 1, VILLAGE) == {
        "field": "answer.entry_id",
        "rule": "known_entry",
        "message": "no such program-information entry (a new entry reaches intake within seconds)",
    }
    other = check_answer(ENTRY, 1, "3273010001")
    assert other is not None
    assert (other["field"], other["rule"]) == ("answer.entry_id", "same_district")
    future = check_answer(ENTRY, 4, VILLAGE)
    assert future is not None
    assert (future["field"], future["rule"]) == ("answer.entry_version", "known_version")


def test_only_an_information_request_carries_an_answer() -> None:
    front = Principal(subject="fo", roles=frozenset({Role.FRONT_OFFICE}), area="3204")
    answer = {"entry_id": str(uuid.uuid4()), "entry_version": 1, "answer": "Dijelaskan."}
    base = {
        "channel": "puskesos_walk_in",
        "village_code": VILLAGE,
        "complainant": {"name": "Ujang"},
        "description": "Bertanya.",
        "answer": answer,
    }
    places = directory()
    information = SubmissionIn.model_validate({**base, "category": "information"})
    assert not check_submission(information, places, front, TODAY).errors
    need = SubmissionIn.model_validate({**base, "category": "program_need"})
    errors = check_submission(need, places, front, TODAY).errors
    assert [(e["field"], e["rule"]) for e in errors] == [("answer", "information_only")]
