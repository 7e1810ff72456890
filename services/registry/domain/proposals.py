"""Pre-list entries (daftar awal) and profile-change proposals: their review and their fate.

Both go ``proposed`` → supervisor review → ``approved`` (or ``returned`` with a note, corrected
and ``proposed`` again) → ``exported`` in a SIKS-NG batch → ``accepted`` or ``rejected`` by the
ministry's verification and validation.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, Literal

from services.registry.domain.identity import IdentityError, validate_kk, validate_nik
from services.registry.domain.names import name_key
from slrt.contracts.corrections import CorrectableField, field_rule


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    RETURNED = "returned"
    APPROVED = "approved"
    EXPORTED = "exported"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


Decision = Literal["approve", "return"]


class ProposalStateError(ValueError):
    """The action does not fit the proposal's status (→ 409)."""


def review(status: ProposalStatus, decision: Decision) -> ProposalStatus:
    """A supervisor's or manager's review of a proposal."""
    if status is not ProposalStatus.PROPOSED:
        raise ProposalStateError(f"only a proposed entry is reviewed; this one is {status}")
    return ProposalStatus.APPROVED if decision == "approve" else ProposalStatus.RETURNED


def correct(status: ProposalStatus) -> ProposalStatus:
    """A returned (or still proposed) entry is corrected and goes back to review."""
    if status not in (ProposalStatus.PROPOSED, ProposalStatus.RETURNED):
        raise ProposalStateError(f"an entry that is {status} can no longer be corrected")
    return ProposalStatus.PROPOSED


def verification(
    status: ProposalStatus, accepted: bool, *, revisit: bool = False
) -> ProposalStatus:
    """The ministry's verification result for an exported entry; one that needs a revisit goes
    back to the facilitator (``returned``: corrected, reviewed and exported again)."""
    if status is not ProposalStatus.EXPORTED:
        raise ProposalStateError(f"only an exported entry gets a result; this one is {status}")
    if revisit:
        return ProposalStatus.RETURNED
    return ProposalStatus.ACCEPTED if accepted else ProposalStatus.REJECTED


SIKS_NG_REQUIRED = ("nik", "kk_number", "sex", "birth_date")
"""SIKS-NG registers a person only with these (the facilitator completes them on a visit)."""


def missing_for_siks_ng(entry: dict[str, Any]) -> list[str]:
    """Which of the fields SIKS-NG needs a pre-list entry still lacks."""
    return [name for name in SIKS_NG_REQUIRED if not entry.get(name)]


CHANGEABLE_FIELDS: tuple[str, ...] = CorrectableField.__args__  # type: ignore[attr-defined]
"""The six fields of a person a proposal (or a correction from a complaint) may change."""


def check_change(field: str, value: str) -> str | None:
    """Why a proposed new value is not acceptable for ``field``, or None when it is.

    The same per-field rules as a correction proposed from a complaint
    (:func:`slrt.contracts.corrections.field_rule`): one rule book for both."""
    return field_rule(field, value)


def check_person_numbers(nik: str | None, kk_number: str | None, today: date) -> list[str]:
    """Fields whose number cannot be a NIK / KK number (format only: mismatches are warnings)."""
    bad: list[str] = []
    if nik:
        try:
            validate_nik(nik, today=today)
        except IdentityError:
            bad.append("nik")
    if kk_number:
        try:
            validate_kk(kk_number)
        except IdentityError:
            bad.append("kk_number")
    return bad


PENDING = (
    ProposalStatus.PROPOSED,
    ProposalStatus.RETURNED,
    ProposalStatus.APPROVED,
    ProposalStatus.EXPORTED,
)
"""A pre-list entry not yet decided by SIKS-NG: a second one for the same person joins it."""

MatchedBy = Literal["nik", "name_birth_date_village"]


def same_person(new: dict[str, Any], pending: dict[str, Any]) -> MatchedBy | None:
    """Whether a new pre-list request is for the person of a pending entry, and by what.

    By NIK when both have one (two different NIKs are two people); otherwise by name (its
    folded key: spelling variants match), birth date and village, all three known.
    """
    if new.get("nik") and pending.get("nik"):
        return "nik" if new["nik"] == pending["nik"] else None
    if (
        new.get("birth_date") is not None
        and new.get("birth_date") == pending.get("birth_date")
        and new.get("village_code") == pending.get("village_code")
        and name_key(new.get("name") or "") == name_key(pending.get("name") or "")
        and name_key(new.get("name") or "")
    ):
        return "name_birth_date_village"
    return None
