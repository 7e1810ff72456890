"""Registry corrections proposed from a complaint (issue 15, item 2): the changes a back office
may propose to the social registry (DT-PPFM) while handling a complaint.

One model serves the intake route's body, the workflow's update and the event to the registry,
so the three cannot disagree. Everything refers to registry records by their registry ids; the
only personal data are the new values themselves (a corrected name, a new member, an address,
a KK number), which travel to the registry only (``RegistryCorrectionRequested`` on
``slrt.registry.requests``, consumed by the registry alone).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

Relation = Literal[
    "head",
    "spouse",
    "child",
    "child_in_law",
    "grandchild",
    "parent",
    "parent_in_law",
    "other_relative",
    "other",
]
CorrectableField = Literal["name", "sex", "birth_date", "relation", "disability", "school_status"]
RELATIONS: frozenset[str] = frozenset(Relation.__args__)  # type: ignore[attr-defined]
DISABILITIES = frozenset({"physical", "sensory", "intellectual", "mental", "multiple"})
SCHOOL_STATUSES = frozenset({"not_in_school", "school", "madrasah", "graduated", "dropped_out"})


def field_rule(field: str, value: str) -> str | None:
    """Why ``value`` is not acceptable for the individual field ``field`` (None: it is)."""
    if field == "name":
        return None if 1 <= len(value.strip()) <= 200 else "length"
    if field == "sex":
        return None if value in ("male", "female") else "one_of:male,female"
    if field == "birth_date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return "date"
        return None
    allowed = {
        "relation": RELATIONS,
        "disability": DISABILITIES | {""},
        "school_status": SCHOOL_STATUSES | {""},
    }.get(field)
    if allowed is None:
        return "field_not_changeable"
    return None if value in allowed else "one_of:" + ",".join(sorted(v for v in allowed if v))


class _Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldChange(_Change):
    """One field of one person (the registry's six changeable fields)."""

    kind: Literal["field"] = "field"
    individual_id: UUID
    field: CorrectableField
    new_value: str = Field(max_length=200)

    @field_validator("new_value")
    @classmethod
    def _value_fits_field(cls, value: str, info: ValidationInfo) -> str:
        field = info.data.get("field")
        rule = None if field is None else field_rule(field, value)
        if rule is not None:
            # The error's type is the rule (intake's 422 names it); never the value.
            raise PydanticCustomError(
                rule, "the new value does not fit the field ({rule})", {"rule": rule}
            )
        return value


class NewMember(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    nik: str = Field(pattern=r"^\d{16}$")
    """The registry keeps people by NIK (a newborn is proposed once the NIK is issued)."""
    sex: Literal["male", "female"]
    birth_date: date
    relation: Relation


class MemberAdd(_Change):
    """A person missing from the household (a newborn, a spouse who moved in)."""

    kind: Literal["member_add"] = "member_add"
    household_id: UUID
    member: NewMember


class MemberRemove(_Change):
    """A person no longer in the household."""

    kind: Literal["member_remove"] = "member_remove"
    individual_id: UUID
    reason: Literal["died", "moved_out", "duplicate", "other"]


class MemberMove(_Change):
    """A person who lives in another registry household now (e.g. married into it)."""

    kind: Literal["member_move"] = "member_move"
    individual_id: UUID
    to_household_id: UUID
    relation: Relation


class AddressChange(_Change):
    kind: Literal["address"] = "address"
    household_id: UUID
    address: str = Field(min_length=1, max_length=500)


class KkChange(_Change):
    """The household's family card (KK) number."""

    kind: Literal["kk_number"] = "kk_number"
    household_id: UUID
    kk_number: str = Field(pattern=r"^\d{16}$")


RegistryChange = Annotated[
    FieldChange | MemberAdd | MemberRemove | MemberMove | AddressChange | KkChange,
    Field(discriminator="kind"),
]
CHANGE_KINDS = ("field", "member_add", "member_remove", "member_move", "address", "kk_number")


class RegistryCorrection(BaseModel):
    """What the back office proposes: 1–20 changes and the evidence for them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    changes: list[RegistryChange] = Field(min_length=1, max_length=20)
    evidence: str = Field(min_length=1, max_length=2000)
    await_result: bool = True
    """Whether the complaint waits (``awaiting_registration``) for the verification result."""
