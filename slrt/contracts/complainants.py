"""Complainant references and their redemption at intake.

The complainant's identity (NIK, KK number, name, sex, birth date, address) stays with intake,
the service that took it. ``ComplaintSubmitted``, the complaint workflow (its input and
history) and the registry requests name the complainant by *reference*,
``complainant:<complaint id>``, with the lookup kind (NIK, KK, or name and place) the
registry is to use; so routing, Temporal and Kafka never see the identity. The registry redeems
the reference at intake's internal endpoint (``POST /internal/v1/complainants/redeem``,
service-authenticated, audited) when it answers a check or records a pre-list entry, and keeps
what it learns only where it already kept it (its own person and pre-list tables).

Events of the old form (identity inline) are still decoded and handled.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from slrt.contracts.events import Complainant
from slrt.contracts.vocabulary import LookupKind

COMPLAINANT_PREFIX = "complainant:"
REDEEM_PATH = "/internal/v1/complainants/redeem"
REFERENCE_PATTERN = r"^complainant:[0-9a-fA-F-]{36}$"


def complainant_reference(complaint_id: uuid.UUID) -> str:
    """The reference naming the complainant of ``complaint_id``."""
    return f"{COMPLAINANT_PREFIX}{complaint_id}"


def complainant_complaint(reference: str) -> uuid.UUID | None:
    """The complaint id a complainant reference names; None for anything else."""
    if not reference.startswith(COMPLAINANT_PREFIX):
        return None
    try:
        return uuid.UUID(reference.removeprefix(COMPLAINANT_PREFIX))
    except ValueError:
        return None


def lookup_kind(person: Complainant) -> LookupKind:
    """How the registry looks the complainant up: by NIK, else by family card number, else by
    name and place (the first identifier the complainant gave)."""
    if person.nik:
        return LookupKind.NIK
    if person.kk_number:
        return LookupKind.KK
    return LookupKind.NAME_AND_PLACE


class ComplainantRedemption(BaseModel):
    """What the registry asks intake for, and why (kept in intake's audit)."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(pattern=REFERENCE_PATTERN, description="complainant:<complaint id>")
    request_id: uuid.UUID
    """The registry request (check or pre-list) the identity is needed for."""
    purpose: Literal["registry_check", "prelist"]


class RedeemedComplainant(BaseModel):
    """The complainant as intake recorded them. Personal data: never logged, never published."""

    model_config = ConfigDict(extra="forbid")

    reference: str
    anonymous: bool
    complainant: Complainant | None = None
    """None for an anonymous report (nothing is released)."""
