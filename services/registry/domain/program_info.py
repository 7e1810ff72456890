"""Program information kept per district (informasi program): the FAQ the administrator keeps
and each program's entry (what it gives, who qualifies, where to go, documents needed) with its
eligibility criteria as structured rules, kept by the program's manager.

Plain types and functions, no SQL: the entries' models, the text they are searched by, and the
eligibility check of a registry household against a program's criteria. The check says which
programs a household *may* qualify for: a hint for back office, never a decision (each program
verifies its own participants).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from slrt.contracts.corrections import DISABILITIES

TOPIC_PATTERN = r"^[A-Za-z0-9_]{2,40}$"
PROGRAM_CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,39}$"
IN_SCHOOL = frozenset({"school", "madrasah"})
"""School statuses that count as attending school (sekolah / madrasah)."""

NOT_A_DECISION = (
    "Hanya petunjuk: rumah tangga ini mungkin memenuhi syarat. Keputusan kepesertaan ada pada "
    "pengelola program setelah verifikasi. (A hint only, never a decision.)"
)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MemberAge(_Rule):
    """A member aged between ``min_age`` and ``max_age`` (inclusive, whole years)."""

    kind: Literal["member_age"]
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)

    @model_validator(mode="after")
    def _range(self) -> MemberAge:
        if self.min_age is None and self.max_age is None:
            raise ValueError("member_age needs min_age or max_age")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age must not be above max_age")
        return self


class MemberWithDisability(_Rule):
    """A member with a disability (penyandang disabilitas)."""

    kind: Literal["member_with_disability"]


class SchoolAgeChild(_Rule):
    """A member of school age (``min_age``–``max_age``) attending school or madrasah."""

    kind: Literal["school_age_child"]
    min_age: int = Field(default=6, ge=0, le=30)
    max_age: int = Field(default=21, ge=0, le=30)


class PregnantMember(_Rule):
    """A pregnant member (ibu hamil): DT-PPFM does not record it, so it is always to check."""

    kind: Literal["pregnant_member"]


class MaxDecile(_Rule):
    """The household's welfare decile (desil) is at most ``max_decile``."""

    kind: Literal["max_decile"]
    max_decile: int = Field(ge=1, le=10)


class NotParticipant(_Rule):
    """The household does not already take part in ``program`` (default: the entry's own)."""

    kind: Literal["not_participant"]
    program: str | None = Field(default=None, pattern=PROGRAM_CODE_PATTERN)


class PmksMember(_Rule):
    """A member recorded with this PMKS kind (e.g. ``neglected_elderly``)."""

    kind: Literal["pmks"]
    pmks_kind: str = Field(pattern=r"^[a-z_]{2,40}$")


Rule = Annotated[
    MemberAge
    | MemberWithDisability
    | SchoolAgeChild
    | PregnantMember
    | MaxDecile
    | NotParticipant
    | PmksMember,
    Field(discriminator="kind"),
]


class FaqSpec(BaseModel):
    """An FAQ entry (pustaka tanya jawab), kept by the district administrator."""

    model_config = ConfigDict(extra="forbid")

    topic: str = Field(pattern=TOPIC_PATTERN, description="e.g. pengaduan, PKH, layanan_slrt")
    question: str = Field(min_length=3, max_length=500)
    answer: str = Field(min_length=1, max_length=5000)


class ProgramInfoSpec(BaseModel):
    """A program's information at the front office, kept by the program's manager."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=2, max_length=200)
    what_it_gives: str = Field(min_length=1, max_length=3000, description="manfaat")
    who_qualifies: str = Field(min_length=1, max_length=3000, description="sasaran / syarat")
    where_to_go: str = Field(min_length=1, max_length=1000, description="tempat layanan")
    documents: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=30, description="dokumen yang diperlukan"
    )
    criteria: list[Rule] = Field(
        default_factory=list,
        max_length=20,
        description="eligibility rules, all of which must hold (kriteria kelayakan)",
    )


EntryKind = Literal["faq", "program"]


def faq_title(spec: FaqSpec) -> str:
    return spec.question


def search_text(kind: EntryKind, body: FaqSpec | ProgramInfoSpec, topic: str) -> str:
    """The text an entry is found by: every field a person reads, and its topic."""
    if isinstance(body, FaqSpec):
        parts = [body.topic, body.question, body.answer]
    else:
        parts = [
            topic,
            body.title,
            body.what_it_gives,
            body.who_qualifies,
            body.where_to_go,
            *body.documents,
        ]
    return "\n".join(p.strip() for p in parts if p.strip())


# --- eligibility -------------------------------------------------------------------------


class Verdict(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"
    """The registry cannot tell: to check with the household."""


@dataclass(frozen=True)
class Member:
    birth_date: date
    disability: str | None = None
    school_status: str | None = None
    pmks: frozenset[str] = frozenset()

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - int(before_birthday)


@dataclass(frozen=True)
class Household:
    """What the criteria read of a registry household (no names, no NIKs)."""

    welfare_decile: int | None
    programs: frozenset[str]
    members: tuple[Member, ...] = field(default=())


def _any_member(h: Household, test: Iterable[bool]) -> Verdict:
    return Verdict.MET if any(test) else Verdict.NOT_MET


def evaluate(rule: Rule, h: Household, program: str, today: date) -> Verdict:
    """One rule against one household, on ``today``."""
    if isinstance(rule, MemberAge):
        low = rule.min_age if rule.min_age is not None else 0
        high = rule.max_age if rule.max_age is not None else 200
        return _any_member(h, (low <= m.age_on(today) <= high for m in h.members))
    if isinstance(rule, MemberWithDisability):
        return _any_member(h, (m.disability in DISABILITIES for m in h.members))
    if isinstance(rule, SchoolAgeChild):
        return _any_member(
            h,
            (
                rule.min_age <= m.age_on(today) <= rule.max_age and m.school_status in IN_SCHOOL
                for m in h.members
            ),
        )
    if isinstance(rule, PregnantMember):
        return Verdict.UNKNOWN
    if isinstance(rule, MaxDecile):
        if h.welfare_decile is None:
            return Verdict.UNKNOWN
        return Verdict.MET if h.welfare_decile <= rule.max_decile else Verdict.NOT_MET
    if isinstance(rule, NotParticipant):
        code = (rule.program or program).upper()
        return Verdict.NOT_MET if code in {p.upper() for p in h.programs} else Verdict.MET
    if isinstance(rule, PmksMember):
        return _any_member(h, (rule.pmks_kind in m.pmks for m in h.members))
    raise AssertionError(f"unknown rule {rule!r}")  # pragma: no cover


def describe(rule: Rule, program: str) -> str:
    """The rule in Bahasa Indonesia (what back office reads, what the household is asked)."""
    if isinstance(rule, MemberAge):
        if rule.min_age is not None and rule.max_age is not None:
            return f"ada anggota berusia {rule.min_age}–{rule.max_age} tahun"
        if rule.min_age is not None:
            return f"ada anggota berusia {rule.min_age} tahun ke atas"
        return f"ada anggota berusia paling tinggi {rule.max_age} tahun"
    if isinstance(rule, MemberWithDisability):
        return "ada anggota penyandang disabilitas"
    if isinstance(rule, SchoolAgeChild):
        return f"ada anak usia sekolah ({rule.min_age}–{rule.max_age} tahun) yang bersekolah"
    if isinstance(rule, PregnantMember):
        return "ada anggota yang sedang hamil"
    if isinstance(rule, MaxDecile):
        return f"desil kesejahteraan paling tinggi {rule.max_decile}"
    if isinstance(rule, NotParticipant):
        return f"belum menjadi peserta {(rule.program or program).upper()}"
    if isinstance(rule, PmksMember):
        return f"ada anggota PMKS ({rule.pmks_kind})"
    raise AssertionError(f"unknown rule {rule!r}")  # pragma: no cover


@dataclass(frozen=True)
class Assessment:
    """One program's criteria against one household."""

    program_code: str
    entry_id: UUID
    entry_version: int
    may_qualify: bool
    """No criterion fails (those the registry cannot tell are ``to_check``)."""
    met: tuple[str, ...]
    not_met: tuple[str, ...]
    to_check: tuple[str, ...]


def assess(
    program: str,
    entry_id: UUID,
    entry_version: int,
    criteria: Sequence[Rule],
    h: Household,
    today: date,
) -> Assessment | None:
    """The household against one program's criteria; None when the program keeps none (no
    criteria is no basis for a hint)."""
    if not criteria:
        return None
    met: list[str] = []
    not_met: list[str] = []
    to_check: list[str] = []
    for rule in criteria:
        verdict = evaluate(rule, h, program, today)
        {Verdict.MET: met, Verdict.NOT_MET: not_met, Verdict.UNKNOWN: to_check}[verdict].append(
            describe(rule, program)
        )
    return Assessment(
        program_code=program,
        entry_id=entry_id,
        entry_version=entry_version,
        may_qualify=not not_met,
        met=tuple(met),
        not_met=tuple(not_met),
        to_check=tuple(to_check),
    )


@dataclass(frozen=True)
class ProgramCriteria:
    program_code: str
    entry_id: UUID
    entry_version: int
    criteria: tuple[Rule, ...]


def may_qualify_for(
    programs: Iterable[ProgramCriteria], h: Household, today: date
) -> list[Assessment]:
    """Every program (with criteria) the household may qualify for, by program code."""
    found = [
        a
        for p in programs
        if (a := assess(p.program_code, p.entry_id, p.entry_version, p.criteria, h, today))
        is not None
        and a.may_qualify
    ]
    return sorted(found, key=lambda a: a.program_code)
