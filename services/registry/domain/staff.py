"""The staff directory's rules (who may manage whom, what a person and an assignment must be),
as plain functions; the store and the API apply them.

Administrators (Pedoman Umum SLRT: the district recruits and manages its facilitators,
supervisors and secretariat staff) manage staff at their level:

- a district administrator (area of 4 digits) manages every person whose areas all lie in
  their district, and the district's village assignments, supervision and settings;
- a province or national administrator manages the persons of their own level (areas equal to
  theirs) and appoints the administrators below them (a person holding the administrator role
  whose areas lie in theirs), so a new district gets its first administrator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from slrt.auth.principal import Principal, Role
from slrt.contracts.staff import (
    AREA_PATTERN,
    STAFF_ROLES,
    ContactChannel,
    StaffPerson,
)
from slrt.errors import FieldError, field_error
from slrt.places import directory

DISTRICT_LENGTH = 4
PROGRAM_CODE = r"^[A-Z][A-Z0-9_]{1,39}$"


class PersonSpec(BaseModel):
    """What an administrator writes about a person (``/v1/staff/persons``)."""

    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        pattern=r"^[A-Za-z0-9._:@|-]+$",
        description="the identity provider's subject (the token's sub) this person signs in as",
    )
    display_name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+62\d{7,13}$", description="+62…")
    preferred_channel: ContactChannel = ContactChannel.EMAIL
    roles: list[Role] = Field(min_length=1, max_length=len(STAFF_ROLES))
    areas: list[str] = Field(min_length=1, max_length=200)
    programs: list[str] = Field(default_factory=list, max_length=50)
    active_from: datetime | None = Field(
        default=None, description="when the person starts (default: now)"
    )


def person_errors(spec: PersonSpec) -> list[FieldError]:
    """Every rule ``spec`` breaks (field and rule named; no value echoed)."""
    errors: list[FieldError] = []
    places = directory()
    for i, role in enumerate(spec.roles):
        if role not in STAFF_ROLES:
            errors.append(field_error(f"roles.{i}", "not_a_staff_role", "a service's role"))
    if len(set(spec.roles)) != len(spec.roles):
        errors.append(field_error("roles", "unique", "a role is named twice"))
    for i, area in enumerate(spec.areas):
        if not re.fullmatch(AREA_PATTERN, area):
            errors.append(
                field_error(f"areas.{i}", "place_code", "a place code of 2, 4, 6 or 10 digits")
            )
        elif area and places.get(area) is None:
            errors.append(field_error(f"areas.{i}", "unknown_place", "no such place"))
    if len(set(spec.areas)) != len(spec.areas):
        errors.append(field_error("areas", "unique", "an area is named twice"))
    for i, code in enumerate(spec.programs):
        if not re.fullmatch(PROGRAM_CODE, code):
            errors.append(field_error(f"programs.{i}", "program_code", "e.g. PKH"))
    manages_programs = Role.PROGRAM_MANAGER in spec.roles
    if manages_programs and not spec.programs:
        errors.append(
            field_error("programs", "required_for_program_manager", "name their programs")
        )
    if spec.programs and not manages_programs:
        errors.append(
            field_error("programs", "program_manager_only", "only program managers have programs")
        )
    if Role.WORKFLOW_OPERATOR in spec.roles and spec.areas != [""]:
        errors.append(field_error("areas", "national_only", "workflow operators are national"))
    if Role.FACILITATOR in spec.roles and any(len(a) < 6 for a in spec.areas):
        errors.append(
            field_error(
                "areas",
                "facilitator_areas",
                "a facilitator's areas are villages or sub-districts",
            )
        )
    if spec.preferred_channel is ContactChannel.EMAIL and spec.email is None:
        errors.append(field_error("email", "required_for_channel", "email is the channel"))
    if spec.preferred_channel is ContactChannel.SMS and spec.phone is None:
        errors.append(field_error("phone", "required_for_channel", "sms is the channel"))
    return errors


def _inside(area: str, outer: str) -> bool:
    return area.startswith(outer)


def may_manage(admin: Principal, roles: Iterable[Role], areas: Iterable[str]) -> bool:
    """Whether ``admin`` may create or change a person with ``roles`` and ``areas`` (the rules
    of the module's docstring)."""
    if Role.ADMINISTRATOR not in admin.roles:
        return False
    areas = list(areas)
    if not areas or not all(admin.covers(a) for a in areas):
        return False
    if len(admin.area) >= DISTRICT_LENGTH:
        return all(len(a) >= DISTRICT_LENGTH for a in areas)
    return all(a == admin.area for a in areas) or Role.ADMINISTRATOR in set(roles)


def may_manage_place(admin: Principal, place_code: str) -> bool:
    """Whether ``admin`` keeps the assignments and settings of ``place_code`` (a village or a
    district): the administrator of its district (or above)."""
    return Role.ADMINISTRATOR in admin.roles and admin.covers(place_code)


def may_read(reader: Principal, areas: Iterable[str]) -> bool:
    """Whether ``reader`` may read a person of ``areas``: staff who work with people
    (administrator, manager, supervisor, back office) whose area overlaps the person's."""
    readers = {Role.ADMINISTRATOR, Role.MANAGER, Role.SUPERVISOR, Role.BACK_OFFICE}
    if not readers & reader.roles:
        return False
    return any(a.startswith(reader.area) or reader.area.startswith(a) for a in areas)


def assignment_errors(
    village_code: str, facilitator: StaffPerson, at: datetime
) -> list[FieldError]:
    """Why ``facilitator`` may not take ``village_code`` at ``at``."""
    errors: list[FieldError] = []
    if not directory().is_village(village_code):
        errors.append(field_error("village_code", "unknown_village", "no such village"))
    if Role.FACILITATOR not in facilitator.roles:
        errors.append(field_error("person_id", "not_a_facilitator", "lacks the facilitator role"))
    if not facilitator.active_at(at):
        errors.append(field_error("person_id", "not_active", "the person is not active then"))
    if not any(village_code.startswith(a) for a in facilitator.areas):
        errors.append(
            field_error(
                "village_code", "outside_person_areas", "the village is outside the person's areas"
            )
        )
    return errors


def supervision_errors(
    facilitator: StaffPerson, supervisor: StaffPerson, at: datetime
) -> list[FieldError]:
    errors: list[FieldError] = []
    if Role.FACILITATOR not in facilitator.roles:
        errors.append(
            field_error("facilitator_id", "not_a_facilitator", "lacks the facilitator role")
        )
    if Role.SUPERVISOR not in supervisor.roles:
        errors.append(field_error("person_id", "not_a_supervisor", "lacks the supervisor role"))
    if not supervisor.active_at(at):
        errors.append(field_error("person_id", "not_active", "the person is not active then"))
    if facilitator.person_id == supervisor.person_id:
        errors.append(field_error("person_id", "not_self", "no one supervises themselves"))
    return errors


def changed_fields(before: StaffPerson | None, after: StaffPerson) -> list[str]:
    """The person's fields that differ (names only, never values)."""
    skip = {"version", "updated_at"}
    if before is None:
        return sorted(f for f in StaffPerson.model_fields if f not in skip)
    old, new = before.model_dump(), after.model_dump()
    return sorted(f for f in new if f not in skip and old[f] != new[f])
