"""Intake's domain rules as plain functions: what a submission must satisfy, ticket numbers,
who acts in which role. What the public tracking page may show (status, step and outcome
labels) is ``slrt.public_status``, shared with the dashboard's Open311 API; re-exported here."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stdnum.exceptions import ValidationError as NumberError
from stdnum.id import nik as nik_number

from services.intake.schemas import ComplainantIn, SubmissionIn
from slrt.auth.policy import ALLOWED, Action
from slrt.auth.principal import Principal, Role
from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.events import ProgramCatalogEntry
from slrt.contracts.vocabulary import Category, Channel
from slrt.errors import FieldError, field_error
from slrt.places import PlaceDirectory, normalise_code
from slrt.public_status import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    language,
    status_of,
    step_label,
)

TRACKING_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: codes are read out loud and typed on phones."""
assert len(TRACKING_CODE_ALPHABET) == 32, "new_tracking_code draws 5 bits a character"


@dataclass
class Checked:
    """A submission after the rules: errors (refuse), warnings (keep), the plain village code."""

    village_code: str = ""
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_submission(
    submission: SubmissionIn, places: PlaceDirectory, principal: Principal, today: date
) -> Checked:
    """Apply the intake rules; messages never echo the submitted values (personal data)."""
    checked = Checked()
    try:
        checked.village_code = normalise_code(submission.village_code)
    except ValueError:
        checked.errors.append(
            field_error("village_code", "place_code_format", "a village code has 10 digits")
        )
    else:
        if not places.is_village(checked.village_code):
            checked.errors.append(
                field_error(
                    "village_code", "known_village", "not a village in the Kemendagri place list"
                )
            )
        elif not principal.covers(checked.village_code):
            checked.errors.append(
                field_error("village_code", "inside_your_area", "the village is outside your area")
            )
    if submission.anonymous:
        if submission.category is not Category.IMPLEMENTATION:
            checked.errors.append(
                field_error(
                    "anonymous",
                    "anonymous_only_for_implementation",
                    "only implementation complaints may be anonymous",
                )
            )
        if submission.complainant is not None:
            checked.errors.append(
                field_error(
                    "complainant",
                    "absent_when_anonymous",
                    "an anonymous report carries no personal data",
                )
            )
    elif submission.complainant is None:
        checked.errors.append(
            field_error("complainant", "required", "name the complainant or report anonymously")
        )
    if submission.answer is not None and submission.category is not Category.INFORMATION:
        checked.errors.append(
            field_error(
                "answer",
                "information_only",
                "only an information request is answered at the front office",
            )
        )
    if submission.category is Category.IMPLEMENTATION and not submission.program_code:
        checked.errors.append(
            field_error(
                "program_code",
                "required_for_implementation",
                "an implementation complaint names the program it is about",
            )
        )
    if submission.occurred_on is not None and submission.occurred_on > today:
        checked.errors.append(field_error("occurred_on", "not_in_future", "cannot be after today"))
    if submission.complainant is not None:
        errors, warnings = check_complainant(submission.complainant, checked.village_code, today)
        checked.errors.extend(errors)
        checked.warnings.extend(warnings)
    channel_error = check_channel(submission.channel, principal)
    if channel_error:
        checked.errors.append(channel_error)
    return checked


def check_program(
    category: Category,
    program_code: str | None,
    entry: ProgramCatalogEntry | None,
    catalog_known: bool,
) -> FieldError | None:
    """A named program must be in the catalog (``known_program``), and a program need must
    name a program that takes program needs (``program_takes_needs``). ``catalog_known``:
    intake holds at least one catalog entry (before the catalog first arrives it cannot tell
    and the back office checks instead)."""
    if program_code is None or not catalog_known:
        return None
    if entry is None:
        return field_error("program_code", "known_program", "no program with this code")
    if category is Category.PROGRAM_NEED and Category.PROGRAM_NEED not in entry.categories:
        return field_error(
            "program_code", "program_takes_needs", "this program cannot be asked for as a need"
        )
    return None


def check_channel(channel: Channel, principal: Principal) -> FieldError | None:
    """Facilitators capture home visits; the front office registers walk-ins."""
    if channel is Channel.FACILITATOR_VISIT and Role.FACILITATOR not in principal.roles:
        return field_error("channel", "facilitator_only", "only facilitators record home visits")
    if channel is not Channel.FACILITATOR_VISIT and Role.FRONT_OFFICE not in principal.roles:
        return field_error("channel", "front_office_only", "walk-ins are registered at an office")
    return None


def check_complainant(
    person: ComplainantIn, village_code: str, today: date
) -> tuple[list[FieldError], list[str]]:
    """A NIK that cannot exist is refused; one that disagrees with the rest is only a warning
    (real registry data has errors)."""
    errors: list[FieldError] = []
    warnings: list[str] = []
    if person.birth_date is not None and person.birth_date > today:
        errors.append(
            field_error("complainant.birth_date", "not_in_future", "cannot be after today")
        )
    if person.nik is None:
        return errors, warnings
    compact = nik_number.compact(person.nik)
    if not (compact.isdigit() and len(compact) == 16):
        errors.append(field_error("complainant.nik", "nik_format", "a NIK has 16 digits"))
        return errors, warnings
    try:
        nik_number.validate(compact)
    except NumberError:
        errors.append(
            field_error(
                "complainant.nik",
                "nik_valid",
                "not a valid NIK (its birth date or issuing region cannot exist)",
            )
        )
        return errors, warnings
    encoded_birth = nik_number.get_birth_date(compact)
    encoded_female = int(compact[6:8]) > 40
    if person.sex is not None and encoded_female != (person.sex == "female"):
        warnings.append("nik_sex_mismatch")
    if person.birth_date is not None and person.birth_date != encoded_birth:
        warnings.append("nik_birth_date_mismatch")
    if village_code and not village_code.startswith(compact[:4]):
        warnings.append("nik_issued_elsewhere")
    return errors, warnings


def normal_nik(nik: str | None) -> str | None:
    return nik_number.compact(nik) if nik else None


def ticket_number(district: str, year: int, serial: int) -> str:
    """``3204-26-000123``: district, two-digit year, serial within both."""
    return f"{district}-{year % 100:02d}-{serial:06d}"


def new_tracking_code() -> str:
    """Eight characters drawn uniformly from the 32 of the alphabet: the eight 5-bit groups of
    40 random bits (one read of the system's randomness, not one per character)."""
    bits = int.from_bytes(secrets.token_bytes(5), "big")
    return "".join(TRACKING_CODE_ALPHABET[(bits >> shift) & 31] for shift in range(0, 40, 5))


def phone_last4(phone: str | None) -> str | None:
    return phone[-4:] if phone else None


def verifier_matches(given: str, tracking_code: str, last4: str | None) -> bool:
    """The tracking code always works; the phone's last 4 digits when a phone was given."""
    candidate = given.strip().upper().replace("-", "")
    ok = hmac.compare_digest(candidate.encode(), tracking_code.encode())
    if last4 is not None:
        ok = hmac.compare_digest(candidate.encode(), last4.encode()) or ok
    return ok


def acting_role(principal: Principal, action: Action) -> Role:
    """The role the caller acts in: the first of theirs (in the table's order) allowed to."""
    for role in Role:
        if role in principal.roles and action in ALLOWED.get(role, frozenset()):
            return role
    raise LookupError("no role of the caller allows this action")


FACILITATOR_TASK_STEPS: dict[str, str] = {
    ComplaintStep.FEEDBACK: "feedback_visit",
    ComplaintStep.AWAITING_INFORMATION: "information_request",
}
"""Steps where the village's facilitator must visit the household."""

__all__ = [
    "OUTCOME_LABELS",
    "STATUS_LABELS",
    "STEP_LABELS",
    "language",
    "status_of",
    "step_label",
]


def check_answer(
    entry: Mapping[str, Any] | None, entry_version: int, village_code: str
) -> FieldError | None:
    """The program-information entry an information request's answer names: known to intake
    (its copy of the registry's entries), of the request's district, and no newer than the
    entry's newest version."""
    if entry is None:
        return field_error(
            "answer.entry_id",
            "known_entry",
            "no such program-information entry (a new entry reaches intake within seconds)",
        )
    if entry["district"] != village_code[:4]:
        return field_error(
            "answer.entry_id", "same_district", "the entry belongs to another district"
        )
    if entry_version > entry["version"]:
        return field_error("answer.entry_version", "known_version", "the entry has no such version")
    return None
