"""The staff directory (direktori petugas SLRT) as it travels: ``slrt.staff.directory``.

The registry owns the directory (``/v1/staff``) and publishes every record after each change on
the compacted topic ``slrt.staff.directory`` (``Topic.STAFF_DIRECTORY``), so every service can
keep its own copy, like the program catalog. Four kinds of record share the topic, each under
its own key; compaction keeps the latest version of each key:

- ``slrt.staff.person_changed.v1``, key ``person:<person id>``: :class:`StaffPerson`;
- ``slrt.staff.village_assignment.v1``, key ``village:<village code>``:
  :class:`VillageAssignment`;
- ``slrt.staff.supervision.v1``, key ``supervision:<facilitator's person id>``:
  :class:`Supervision`;
- ``slrt.staff.district_settings.v1``, key ``district:<district code>``:
  :class:`DistrictStaffSettings`.

Keys hold opaque ids and place codes only, never a name, phone or email.

The people (Pedoman Umum SLRT 2017, V.D.1; ``Role`` in ``slrt.auth.principal``):

- *fasilitator* (also *pendamping* / PSKS at village level): home visits for the villages
  assigned to them (``VillageAssignment``: one facilitator per village at a time, with history);
- *supervisor*: reviews what their facilitators capture (``Supervision``: one supervisor per
  facilitator at a time, with history);
- *petugas front office* (Informasi dan Registrasi) at a Puskesos (*Pusat Kesejahteraan
  Sosial*, village) or the *Sekretariat SLRT* (district); *petugas back office* (Review dan
  Analisis); *Manajer SLRT* (district); *pengelola program* (program manager: ``programs``);
  *administrator* (keeps the district's users); *pengelola data*; *viewer* (Bappeda, Kemensos).

A record's ``version`` rises with every change of that key: a consumer keeps the highest it has
applied (records of one key are on one partition, in order). Nothing is ever deleted: a person
who leaves gets ``active_until``; an ended assignment keeps its spell with ``until`` set.

Handover: ending a facilitator's assignment (or the person) publishes the village's record with
the old spell closed and, when a successor was named, the successor's spell opened *in the same
record* (one event: consumers see ``previous`` and ``current`` together). Ending a person also
closes every spell of theirs (villages and supervision) in their own records.

Plain functions answering "who holds village V now", "who supervises F", "role holders of area
A" from a copy of these records: ``slrt.staff_directory``.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from slrt.auth.principal import Role
from slrt.contracts.envelope import EventData
from slrt.contracts.topics import Topic

AREA_PATTERN = r"^(\d{2}|\d{4}|\d{6}|\d{10})?$"
"""A place-code prefix at any level: province (2), district (4), sub-district (6), village (10);
"" is national (as ``Principal.area``)."""
VILLAGE_PATTERN = r"^\d{10}$"
DISTRICT_PATTERN = r"^\d{4}$"

STAFF_ROLES: frozenset[Role] = frozenset(
    {
        Role.FACILITATOR,
        Role.SUPERVISOR,
        Role.FRONT_OFFICE,
        Role.BACK_OFFICE,
        Role.MANAGER,
        Role.PROGRAM_MANAGER,
        Role.ADMINISTRATOR,
        Role.DATA_MANAGER,
        Role.VIEWER,
        Role.WORKFLOW_OPERATOR,
    }
)
"""Roles a person of the directory may hold (service accounts are OIDC clients, not persons)."""


class ContactChannel(StrEnum):
    """How a person prefers to be reached (the notifier's channels for people)."""

    EMAIL = "email"
    SMS = "sms"


class EndReason(StrEnum):
    """Why a spell ended."""

    REASSIGNED = "reassigned"
    """Another person took the village (or the facilitator) over: the successor's spell opens
    when this one closes."""
    UNASSIGNED = "unassigned"
    """The assignment was ended with no successor named: the work goes back to the supervisor's
    queue (or the role holders of the area) until someone is assigned."""
    PERSON_ENDED = "person_ended"
    """The person left (their ``active_until`` was set): every spell of theirs closes."""


def person_key(person_id: UUID) -> str:
    return f"person:{person_id}"


def village_key(village_code: str) -> str:
    return f"village:{village_code}"


def supervision_key(facilitator_id: UUID) -> str:
    return f"supervision:{facilitator_id}"


def district_key(district: str) -> str:
    return f"district:{district}"


class StaffPerson(EventData):
    """A person of the directory (a staff member, facilitator, program manager, ...).

    Personal data: ``display_name``, ``email`` and ``phone`` travel in the value (services
    address messages to the person and show who holds a step); never in keys or logs.
    """

    event_type = "slrt.staff.person_changed.v1"
    topic = Topic.STAFF_DIRECTORY

    person_id: UUID
    subject: str | None = Field(default=None, min_length=1, max_length=255)
    """The identity provider's subject (the token's ``sub``) this person signs in as; None
    until linked. Unique among the directory's persons."""
    display_name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    """Work email."""
    phone: str | None = Field(default=None, max_length=30)
    """Work phone (E.164, ``+62…``)."""
    preferred_channel: ContactChannel = ContactChannel.EMAIL
    roles: list[Role] = Field(min_length=1)
    areas: list[str] = Field(min_length=1)
    """Place-code prefixes at any level (several allowed): where the person works; "" is the
    whole country (national administrators, Kemensos viewers)."""
    programs: list[str] = Field(default_factory=list)
    """Program codes, for program managers (pengelola program)."""
    active_from: datetime
    active_until: datetime | None = None
    """When the person left (exclusive); None while they are active."""
    version: int = Field(ge=1)
    updated_at: datetime

    @field_validator("areas")
    @classmethod
    def _areas(cls, areas: list[str]) -> list[str]:
        for code in areas:
            if not re.fullmatch(AREA_PATTERN, code):
                raise ValueError('an area is a place code of 2, 4, 6 or 10 digits, or ""')
        return areas

    def active_at(self, at: datetime) -> bool:
        return self.active_from <= at and (self.active_until is None or at < self.active_until)


class Spell(BaseModel):
    """One person holding one assignment from ``since`` until ``until`` (exclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assignment_id: UUID
    person_id: UUID
    since: datetime
    until: datetime | None = None
    end_reason: EndReason | None = None

    def holds_at(self, at: datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)


class VillageAssignment(EventData):
    """Who is the village's facilitator (fasilitator/pendamping desa), now and before.

    ``spells`` is the village's whole history, oldest first; at most one is open
    (``until`` None). A change of facilitator closes one spell and opens the next in the same
    record.
    """

    event_type = "slrt.staff.village_assignment.v1"
    topic = Topic.STAFF_DIRECTORY

    village_code: str = Field(pattern=VILLAGE_PATTERN)
    spells: list[Spell] = Field(default_factory=list)
    version: int = Field(ge=1)
    updated_at: datetime

    @property
    def district(self) -> str:
        return self.village_code[:4]

    def holder_at(self, at: datetime) -> UUID | None:
        return next((s.person_id for s in reversed(self.spells) if s.holds_at(at)), None)


class Supervision(EventData):
    """Who supervises a facilitator, now and before (``spells`` name the supervisors)."""

    event_type = "slrt.staff.supervision.v1"
    topic = Topic.STAFF_DIRECTORY

    facilitator_id: UUID
    spells: list[Spell] = Field(default_factory=list)
    version: int = Field(ge=1)
    updated_at: datetime

    def holder_at(self, at: datetime) -> UUID | None:
        return next((s.person_id for s in reversed(self.spells) if s.holds_at(at)), None)


class DistrictStaffSettings(EventData):
    """A district's settings kept with its staff (Pedoman Umum SLRT: the district organises its
    secretariat)."""

    event_type = "slrt.staff.district_settings.v1"
    topic = Topic.STAFF_DIRECTORY

    district: str = Field(pattern=DISTRICT_PATTERN)
    separation_of_duties: bool | None = None
    """Whether one person may not both propose and approve the same referral (back office
    proposes, manager approves). None: the deployment's default (routing's
    ``SLRT_ROUTING_SEPARATION_OF_DUTIES``)."""
    version: int = Field(ge=1)
    updated_at: datetime


StaffRecord = StaffPerson | VillageAssignment | Supervision | DistrictStaffSettings

STAFF_EVENT_MODELS: tuple[type[EventData], ...] = (
    StaffPerson,
    VillageAssignment,
    Supervision,
    DistrictStaffSettings,
)


def record_key(record: StaffRecord) -> str:
    """The Kafka key (and envelope subject) of a record."""
    if isinstance(record, StaffPerson):
        return person_key(record.person_id)
    if isinstance(record, VillageAssignment):
        return village_key(record.village_code)
    if isinstance(record, Supervision):
        return supervision_key(record.facilitator_id)
    return district_key(record.district)
