"""Eligibility criteria as structured rules, against a registry household: each rule's verdict
(met, not met, or unknown to the registry), and "may qualify for" (no criterion failing)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from pydantic import TypeAdapter, ValidationError

from services.registry.domain.program_info import (
    NOT_A_DECISION,
    FaqSpec,
    Household,
    MaxDecile,
    Member,
    MemberAge,
    MemberWithDisability,
    NotParticipant,
    PmksMember,
    PregnantMember,
    ProgramCriteria,
    ProgramInfoSpec,
    Rule,
    SchoolAgeChild,
    Verdict,
    assess,
    evaluate,
    may_qualify_for,
    search_text,
)

TODAY = date(2026, 11, 30)
RULES = TypeAdapter(list[Rule])

GRANDMOTHER = Member(birth_date=date(1951, 12, 1))  # 74 on TODAY, 75 from 1 December
PUPIL = Member(birth_date=date(2014, 3, 3), school_status="school")
DROPOUT = Member(birth_date=date(2012, 1, 1), school_status="dropped_out")
DISABLED = Member(birth_date=date(1990, 5, 5), disability="physical")
ELDERLY_PMKS = Member(birth_date=date(1945, 1, 1), pmks=frozenset({"neglected_elderly"}))


def household(
    *members: Member, decile: int | None = 2, programs: set[str] | None = None
) -> Household:
    return Household(welfare_decile=decile, programs=frozenset(programs or set()), members=members)


def test_member_age_counts_whole_years_on_the_day() -> None:
    h = household(GRANDMOTHER)
    assert evaluate(MemberAge(kind="member_age", min_age=75), h, "X", TODAY) is Verdict.NOT_MET
    assert evaluate(MemberAge(kind="member_age", min_age=74), h, "X", TODAY) is Verdict.MET
    assert (
        evaluate(MemberAge(kind="member_age", min_age=75), h, "X", date(2026, 12, 1)) is Verdict.MET
    )
    assert evaluate(MemberAge(kind="member_age", max_age=5), h, "X", TODAY) is Verdict.NOT_MET


def test_member_age_needs_a_bound_and_an_ordered_range() -> None:
    with pytest.raises(ValidationError, match="min_age or max_age"):
        MemberAge(kind="member_age")
    with pytest.raises(ValidationError, match="must not be above"):
        MemberAge(kind="member_age", min_age=10, max_age=5)


def test_disability_school_age_and_pmks() -> None:
    disabled = household(DISABLED)
    assert evaluate(MemberWithDisability(kind="member_with_disability"), disabled, "X", TODAY) is (
        Verdict.MET
    )
    assert evaluate(
        MemberWithDisability(kind="member_with_disability"), household(PUPIL), "X", TODAY
    ) is (Verdict.NOT_MET)
    school = SchoolAgeChild(kind="school_age_child")
    assert evaluate(school, household(PUPIL), "X", TODAY) is Verdict.MET
    # Of school age but not in school: PIP is for pupils.
    assert evaluate(school, household(DROPOUT), "X", TODAY) is Verdict.NOT_MET
    pmks = PmksMember(kind="pmks", pmks_kind="neglected_elderly")
    assert evaluate(pmks, household(ELDERLY_PMKS), "X", TODAY) is Verdict.MET
    assert evaluate(pmks, household(GRANDMOTHER), "X", TODAY) is Verdict.NOT_MET


def test_what_the_registry_cannot_tell_is_unknown() -> None:
    assert evaluate(PregnantMember(kind="pregnant_member"), household(), "X", TODAY) is (
        Verdict.UNKNOWN
    )
    assert evaluate(
        MaxDecile(kind="max_decile", max_decile=4), household(decile=None), "X", TODAY
    ) is (Verdict.UNKNOWN)


def test_decile_and_participation() -> None:
    rule = MaxDecile(kind="max_decile", max_decile=4)
    assert evaluate(rule, household(decile=4), "X", TODAY) is Verdict.MET
    assert evaluate(rule, household(decile=5), "X", TODAY) is Verdict.NOT_MET
    own = NotParticipant(kind="not_participant")
    assert evaluate(own, household(programs={"PKH"}), "PKH", TODAY) is Verdict.NOT_MET
    assert evaluate(own, household(programs={"BPNT"}), "PKH", TODAY) is Verdict.MET
    named = NotParticipant(kind="not_participant", program="BPNT")
    assert evaluate(named, household(programs={"BPNT"}), "PKH", TODAY) is Verdict.NOT_MET


def test_rules_come_from_json_by_kind_and_refuse_unknown_ones() -> None:
    rules = RULES.validate_python(
        [{"kind": "member_age", "min_age": 60}, {"kind": "max_decile", "max_decile": 4}]
    )
    assert rules == [
        MemberAge(kind="member_age", min_age=60),
        MaxDecile(kind="max_decile", max_decile=4),
    ]
    with pytest.raises(ValidationError):
        RULES.validate_python([{"kind": "rich_uncle"}])
    with pytest.raises(ValidationError):
        RULES.validate_python([{"kind": "max_decile", "max_decile": 11}])


def test_may_qualify_when_no_criterion_fails_with_the_unknown_to_check() -> None:
    entry = uuid.uuid4()
    criteria = (
        PregnantMember(kind="pregnant_member"),
        MaxDecile(kind="max_decile", max_decile=3),
        NotParticipant(kind="not_participant"),
    )
    found = assess("PKH", entry, 2, criteria, household(PUPIL, decile=2), TODAY)
    assert found is not None
    assert found.may_qualify
    assert found.to_check == ("ada anggota yang sedang hamil",)
    assert found.met == ("desil kesejahteraan paling tinggi 3", "belum menjadi peserta PKH")
    failed = assess("PKH", entry, 2, criteria, household(decile=2, programs={"PKH"}), TODAY)
    assert failed is not None
    assert not failed.may_qualify
    assert failed.not_met == ("belum menjadi peserta PKH",)


def test_a_program_without_criteria_gives_no_hint() -> None:
    assert assess("PKH", uuid.uuid4(), 1, (), household(PUPIL), TODAY) is None


def test_may_qualify_for_lists_only_the_programs_that_may_apply() -> None:
    programs = [
        ProgramCriteria("PIP", uuid.uuid4(), 1, (SchoolAgeChild(kind="school_age_child"),)),
        ProgramCriteria("ASLUT", uuid.uuid4(), 3, (MemberAge(kind="member_age", min_age=60),)),
        ProgramCriteria("EMPTY", uuid.uuid4(), 1, ()),
    ]
    found = may_qualify_for(programs, household(PUPIL), TODAY)
    assert [(a.program_code, a.entry_version) for a in found] == [("PIP", 1)]
    both = may_qualify_for(programs, household(PUPIL, GRANDMOTHER), TODAY)
    assert [a.program_code for a in both] == ["ASLUT", "PIP"]


def test_the_answer_says_it_is_never_a_decision() -> None:
    assert "never a decision" in NOT_A_DECISION
    assert "Keputusan kepesertaan ada pada pengelola program" in NOT_A_DECISION


def test_search_text_holds_every_field_a_person_reads() -> None:
    faq = FaqSpec(
        topic="pengaduan", question="Bagaimana cara mengadu?", answer="Datang ke Puskesos."
    )
    assert search_text("faq", faq, faq.topic) == (
        "pengaduan\nBagaimana cara mengadu?\nDatang ke Puskesos."
    )
    program = ProgramInfoSpec(
        title="Program Keluarga Harapan",
        what_it_gives="Bantuan tunai bersyarat",
        who_qualifies="Keluarga miskin dengan ibu hamil atau anak sekolah",
        where_to_go="Kantor Dinas Sosial",
        documents=["KTP", "Kartu Keluarga"],
    )
    text = search_text("program", program, "PKH")
    assert text.splitlines() == [
        "PKH",
        "Program Keluarga Harapan",
        "Bantuan tunai bersyarat",
        "Keluarga miskin dengan ibu hamil atau anak sekolah",
        "Kantor Dinas Sosial",
        "KTP",
        "Kartu Keluarga",
    ]
