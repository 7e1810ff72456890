"""The registry's other domain rules: name keys, name matches, the catalog, proposals and the
SIKS-NG files."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from services.registry.domain.catalog import (
    SEED,
    ProgramSpec,
    catalog_entry,
    changed_fields,
    may_edit,
    plain_http_refused,
)
from services.registry.domain.matching import pick_name_match
from services.registry.domain.names import name_key
from services.registry.domain.proposals import (
    ProposalStateError,
    ProposalStatus,
    check_change,
    correct,
    missing_for_siks_ng,
    review,
    verification,
)
from services.registry.domain.siks_ng import export_csv, parse_results
from slrt.contracts.vocabulary import Category, ProgramChannel


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nurhalizah", "Nurhaliza"),
        ("Muhammad", "Muhamad"),
        ("Soeharto", "Suharto"),
        ("Djoko Tjahjono", "Joko Cahjono"),
        ("SITI  Aisyah", "Siti Aisyah"),
        ("Abdullah", "Abdulah"),
    ],
)
def test_spelling_variants_share_a_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_different_names_keep_different_keys() -> None:
    assert name_key("Siti Aminah") != name_key("Siti Aisyah")
    assert name_key("Budi") == "budi"


def test_a_name_match_must_be_close_and_clearly_ahead() -> None:
    assert pick_name_match([]) == (None, [])
    assert pick_name_match([0.45]) == (None, [])
    assert pick_name_match([0.92, 0.5]) == (0, ["matched_by_name"])
    assert pick_name_match([0.92, 0.9]) == (None, ["name_match_ambiguous"])
    assert pick_name_match([1.0]) == (0, ["matched_by_name"])


def _district_program(**overrides: Any) -> ProgramSpec:
    fields: dict[str, Any] = {
        "name": "Bantuan Sosial Lansia Kabupaten Bandung",
        "level": "district",
        "owner_agency": "Dinas Sosial Kabupaten Bandung",
        "area": "3204",
        "channel": ProgramChannel.DIRECT,
        "categories": [Category.PROGRAM_NEED],
        "sla_working_days": 10,
        "reminder_working_days": 5,
    }
    fields.update(overrides)
    return ProgramSpec(**fields)


def test_the_seed_follows_the_routing_table() -> None:
    assert set(SEED) == {
        "MEMBERSHIP_DTKS",
        "PKH",
        "PIP_KEMENAG",
        "PIP_KEMENDIKBUD",
        "BPNT",
        "PIS_PBI",
    }
    membership = SEED["MEMBERSHIP_DTKS"]
    assert membership.channel is ProgramChannel.SIKS_NG
    assert membership.needs_nik
    assert membership.categories == [Category.MEMBERSHIP]
    assert SEED["PKH"].channel is ProgramChannel.DIRECT
    assert SEED["PIP_KEMENAG"].channel is ProgramChannel.DIRECT
    assert SEED["PIP_KEMENAG"].sub_types == ["madrasah"]
    assert SEED["PIP_KEMENDIKBUD"].channel is ProgramChannel.LAPOR
    assert SEED["PIP_KEMENDIKBUD"].sub_types == ["general_school"]
    assert SEED["BPNT"].channel is ProgramChannel.LAPOR
    assert SEED["PIS_PBI"].channel is ProgramChannel.LAPOR
    for code, spec in SEED.items():
        assert spec.level == "national"
        assert spec.area == ""
        assert not spec.needs_nik or code == "MEMBERSHIP_DTKS"
        if code != "MEMBERSHIP_DTKS":
            assert spec.categories == [Category.IMPLEMENTATION, Category.PROGRAM_NEED]


def test_a_program_area_matches_its_level() -> None:
    with pytest.raises(ValidationError, match="district program's area has 4 digits"):
        _district_program(area="320405")
    with pytest.raises(ValidationError, match="national program's area has 0 digits"):
        _district_program(level="national")
    assert _district_program(level="non_government", area="320405").area == "320405"
    with pytest.raises(ValidationError, match="webhook secret reference"):
        _district_program(callback_url="https://dinsos.example/hook")
    with pytest.raises(ValidationError, match="reminder comes before"):
        _district_program(reminder_working_days=10)


def test_callback_urls_use_https_except_to_the_hosts_named_for_plain_http() -> None:
    loopback = ["127.0.0.1", "localhost"]
    assert not plain_http_refused(None, [])
    assert not plain_http_refused("https://dinsos.example/hook", [])
    assert plain_http_refused("http://127.0.0.1:8090/hook", [])  # the default: https only
    assert not plain_http_refused("http://127.0.0.1:8090/hook", loopback)
    assert not plain_http_refused("http://LOCALHOST/hook", ["LocalHost"])
    assert plain_http_refused("http://dinsos.example/hook", loopback)
    assert plain_http_refused("http://127.0.0.1.dinsos.example/hook", loopback)
    assert plain_http_refused("http://127.0.0.1@dinsos.example/hook", loopback)
    assert plain_http_refused("http:///hook", loopback)
    with pytest.raises(ValidationError, match="should match pattern"):
        _district_program(callback_url="ftp://dinsos.example/hook", webhook_secret_ref="dinsos")


def test_managers_edit_programs_inside_their_area_only() -> None:
    assert may_edit("", "")  # national secretariat: national programs
    assert may_edit("", "3204")
    assert may_edit("3204", "3204")
    assert may_edit("3204", "3204052001")  # a village program of the district
    assert not may_edit("3204", "")  # national program
    assert not may_edit("3204", "32")  # province program
    assert not may_edit("3204", "3273")  # another district


def test_versions_name_what_changed() -> None:
    before = _district_program()
    after = before.model_copy(update={"sla_working_days": 7, "contact_email": "a@b.example"})
    assert changed_fields(before, after) == ["sla_working_days", "contact_email"]
    assert changed_fields(before, before) == []
    assert "name" in changed_fields(None, before)
    entry = catalog_entry("BANSOS_LANSIA_3204", after, 2)
    assert (entry.code, entry.version, entry.area, entry.sla_working_days) == (
        "BANSOS_LANSIA_3204",
        2,
        "3204",
        7,
    )


def test_proposal_life() -> None:
    proposed = ProposalStatus.PROPOSED
    assert review(proposed, "approve") is ProposalStatus.APPROVED
    returned = review(proposed, "return")
    assert returned is ProposalStatus.RETURNED
    assert correct(returned) is ProposalStatus.PROPOSED
    with pytest.raises(ProposalStateError):
        review(ProposalStatus.APPROVED, "approve")
    with pytest.raises(ProposalStateError):
        correct(ProposalStatus.EXPORTED)
    assert verification(ProposalStatus.EXPORTED, True) is ProposalStatus.ACCEPTED
    assert verification(ProposalStatus.EXPORTED, False) is ProposalStatus.REJECTED
    with pytest.raises(ProposalStateError):
        verification(ProposalStatus.APPROVED, True)


def test_siks_ng_needs_the_identity_of_a_prelist_person() -> None:
    assert missing_for_siks_ng({"nik": "1", "kk_number": None, "sex": "male"}) == [
        "kk_number",
        "birth_date",
    ]


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("name", "Siti Aminah", None),
        ("sex", "female", None),
        ("sex", "F", "one_of:male,female"),
        ("birth_date", "1980-02-30", "date"),
        ("relation", "spouse", None),
        ("disability", "", None),
        (
            "school_status",
            "university",
            "one_of:dropped_out,graduated,madrasah,not_in_school,school",
        ),
        ("nik", "3204051708450001", "field_not_changeable"),
    ],
)
def test_proposed_values_are_checked(field: str, value: str, rule: str | None) -> None:
    assert check_change(field, value) == rule


def test_results_file_rows_are_checked_one_by_one() -> None:
    batch, item = uuid.uuid4(), uuid.uuid4()
    text = (
        "batch_id,item_id,result,reason,household_ref,welfare_decile\n"
        f"{batch},{item},accepted,,RT-1,3\n"
        f"{batch},not-a-uuid,accepted,,,\n"
        f"{batch},{item},rejected,,,\n"
        f"{batch},{item},maybe,,,11\n"
        f"{batch},{item},Rejected,already registered elsewhere,,\n"
        f"{batch},{item},revisit,address not found on the visit,,\n"
        f"{batch},{item},revisit,,,\n"
    )
    results, errors = parse_results(text)
    assert [
        (r.line, r.accepted, r.revisit, r.household_ref, r.welfare_decile) for r in results
    ] == [
        (2, True, False, "RT-1", 3),
        (6, False, False, None, None),
        (7, False, True, None, None),
    ]
    assert [(e.line, e.field, e.rule) for e in errors] == [
        (3, "item_id", "uuid"),
        (4, "reason", "required_when_rejected"),
        (5, "result", "one_of:accepted,rejected,revisit"),
        (5, "welfare_decile", "range:1-10"),
        (8, "reason", "required_when_rejected"),
    ]
    assert parse_results("item_id,result\n")[1][0].rule == "missing_column"


def test_an_export_is_stable() -> None:
    rows = [{"batch_id": "b", "item_id": "i", "item_type": "prelist", "name": "Siti, Aminah"}]
    first = export_csv(rows)
    assert first == export_csv(rows)
    assert first.splitlines()[1].startswith('b,i,prelist,,,,,"Siti, Aminah"')
