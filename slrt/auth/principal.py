"""Who is calling: the claims of a verified token, in the domain's words."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    FACILITATOR = "facilitator"
    """Fasilitator: home visits for their villages; tells households the outcome."""
    SUPERVISOR = "supervisor"
    """Reviews what facilitators capture in their sub-district."""
    FRONT_OFFICE = "front_office"
    """Registers walk-in complaints at a Puskesos or the district secretariat."""
    BACK_OFFICE = "back_office"
    """Handles complaints locally or proposes referrals."""
    MANAGER = "manager"
    """Manajer SLRT: approves referrals, keeps the program catalog, reviews data proposals."""
    PROGRAM_MANAGER = "program_manager"
    """Pengelola program: answers referrals addressed to their programs."""
    ADMINISTRATOR = "administrator"
    """Manages users, places, regional programs."""
    DATA_MANAGER = "data_manager"
    """Imports DT-PPFM extracts and verification results for the district; reads the audit log of
    who read complainants' personal data."""
    VIEWER = "viewer"
    """Dashboard viewer (Bappeda, Kemensos, Bappenas): reads aggregates only."""
    NOTIFIER_SERVICE = "notifier_service"
    """The notifier service's own account (an OIDC client, never a person): redeems household
    contact references at intake just before it sends a household message."""
    REGISTRY_SERVICE = "registry_service"
    """The registry service's own account (an OIDC client, never a person): redeems complainant
    references at intake when it answers a registry check or records a pre-list entry."""
    WORKFLOW_OPERATOR = "workflow_operator"
    """Operates the complaint workflows (national support): reads complaints' Temporal histories
    in the Temporal UI through intake's codec endpoint, every call audited."""


class Principal(BaseModel):
    """A verified caller. ``area`` is a place-code prefix: "" is national, "32" a province,
    "3204" a regency, "320405" a sub-district, "3204052001" a village."""

    model_config = ConfigDict(frozen=True)

    subject: str
    roles: frozenset[Role]
    area: str = Field(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{10})?$")
    programs: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    """Every area of a caller the staff directory describes (several places, any level: a
    facilitator's villages in two sub-districts); ``area`` is then the smallest place enclosing
    them all. Empty for a caller whose token carries its own claims (``area`` alone)."""

    def covers(self, place_code: str) -> bool:
        """Whether ``place_code`` lies inside one of this caller's areas."""
        if self.areas:
            return any(place_code.startswith(a) for a in self.areas)
        return place_code.startswith(self.area)

    @property
    def scopes(self) -> list[str]:
        """The place-code prefixes a list of this caller's is limited to (sorted)."""
        return sorted(self.areas) if self.areas else [self.area]


AREA_LENGTHS = (10, 6, 4, 2, 0)


def enclosing_area(areas: list[str] | frozenset[str]) -> str:
    """The smallest place (a valid place-code prefix) enclosing every one of ``areas``."""
    codes = list(areas)
    if not codes:
        return ""
    common = codes[0]
    for code in codes[1:]:
        n = 0
        while n < min(len(common), len(code)) and common[n] == code[n]:
            n += 1
        common = common[:n]
    return next(common[:length] for length in AREA_LENGTHS if length <= len(common))
