"""Event types and their data models (CloudEvents ``type`` = ``slrt.<what>.v1``).

No NIK, name or phone number travels in these events except where the consumer needs it to act
(``PERSONAL_DATA_ALLOWED``); everything else refers by id or by reference (a complainant's
identity: ``complainant:<complaint id>``, redeemed at intake by the registry).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from slrt.contracts.complaints import ComplaintSnapshot, InformationAnswer, MayQualify
from slrt.contracts.corrections import RegistryChange
from slrt.contracts.envelope import EventData
from slrt.contracts.staff import DistrictStaffSettings, StaffPerson, Supervision, VillageAssignment
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import (
    Category,
    Channel,
    LookupKind,
    NotificationKind,
    ProgramChannel,
    ReferralDecision,
)


class Complainant(BaseModel):
    """Who the complaint is about, as far as the registry check and the pre-list need it.

    Personal data: it travels in the event value (never the key) to routing, which passes it
    to the registry only; it is never logged.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    nik: str | None = Field(default=None, pattern=r"^\d{16}$")
    kk_number: str | None = Field(default=None, pattern=r"^\d{16}$")
    name: str = Field(min_length=1, max_length=200)
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    address: str | None = Field(default=None, max_length=500)
    village_code: str = Field(pattern=r"^\d{10}$")


class ComplaintSubmitted(EventData):
    """intake accepted a complaint; routing starts its workflow."""

    event_type = "slrt.complaint.submitted.v1"
    topic = Topic.COMPLAINT_SUBMITTED

    complaint_id: UUID
    ticket_number: str
    channel: Channel
    category: Category
    village_code: str = Field(pattern=r"^\d{10}$")
    program_code: str | None = None
    sub_type: str | None = None
    anonymous: bool = False
    complainant: Complainant | None = None
    """The identity inline: only in events of the old form (still decoded and handled); intake
    now sends ``complainant_ref`` instead."""
    complainant_ref: str | None = None
    """``complainant:<complaint id>``, redeemed at intake by the registry only
    (``slrt.contracts.complainants``); None for anonymous reports."""
    lookup: LookupKind | None = None
    """How the registry is to look the complainant up (with ``complainant_ref``)."""
    description: str = Field(max_length=5000)
    occurred_on: date | None = None
    submitted_at: datetime
    submitted_by: str
    """The staff or facilitator user id (subject of the token), never a name."""
    information_answer: InformationAnswer | None = None
    """An information request answered at the front office: the entry that answered it and
    the answer given (masked). None for every other category and for older events."""

    @property
    def names_complainant(self) -> bool:
        """Whether the complaint names its complainant (inline, old form, or by reference);
        False for an anonymous report."""
        return self.complainant is not None or self.complainant_ref is not None


class ProgramCatalogEntry(EventData):
    """A program of the catalog (katalog program) as routing and the notifier need it."""

    event_type = "slrt.catalog.program_changed.v1"
    topic = Topic.PROGRAM_CATALOG

    code: str
    name: str
    level: Literal["national", "province", "district", "village", "non_government"]
    owner_agency: str
    area: str = ""
    """Place-code prefix the program serves ("" = national)."""
    channel: ProgramChannel
    categories: list[Category]
    """Which complaint categories this program takes referrals for."""
    sub_types: list[str] = Field(default_factory=list)
    """E.g. "madrasah" / "general_school" for PIP: the routing plan matches on these."""
    sla_working_days: int = Field(ge=1)
    reminder_working_days: int | None = None
    callback_url: str | None = None
    webhook_secret_ref: str | None = None
    """Name of the secret holding this destination's ``whsec_`` key(s); never the key."""
    contact_email: str | None = None
    contact_phone: str | None = None
    needs_nik: bool = False
    """Whether referrals to this program may carry the NIK (SIKS-NG does; most do not)."""
    active: bool = True
    version: int = Field(ge=1)


class ComplaintTransitioned(EventData):
    """One step of a complaint's workflow, as recorded (who, role, when, from → to, why)."""

    event_type = "slrt.complaint.transitioned.v1"
    topic = Topic.COMPLAINT_LIFECYCLE

    complaint_id: UUID
    sequence: int = Field(ge=1)
    """Position in the complaint's history; consumers keep the highest they have applied."""
    from_step: str | None
    to_step: str
    actor: str
    actor_role: str
    at: datetime
    reason: str | None = None
    decision_code: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    snapshot: ComplaintSnapshot
    """The complaint's public state after this transition (what projections store)."""


class RegistryCheckRequested(EventData):
    """routing asks the registry whether the complainant is in DT-PPFM."""

    event_type = "slrt.registry.check_requested.v1"
    topic = Topic.REGISTRY_REQUESTS

    request_id: UUID
    complaint_id: UUID
    lookup: LookupKind
    complainant_ref: str | None = None
    """``complainant:<complaint id>``: the registry redeems it at intake for the identifier
    ``lookup`` names. Requests of the old form carry the identifier inline instead."""
    nik: str | None = None
    kk_number: str | None = None
    name: str | None = None
    place_code: str | None = None
    category: Category | None = None
    """The complaint's category: a ``program_need`` complaint about a household the registry
    finds records that need (once per complaint) for ``program_code``."""
    program_code: str | None = None


class RegistryCheckCompleted(EventData):
    event_type = "slrt.registry.check_completed.v1"
    topic = Topic.REGISTRY_RESULTS

    request_id: UUID
    complaint_id: UUID
    found: bool
    household_id: UUID | None = None
    individual_id: UUID | None = None
    welfare_decile: int | None = Field(default=None, ge=1, le=10)
    programs: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    may_qualify_for: list[MayQualify] = Field(default_factory=list)
    """Programs the household found may qualify for by the district's eligibility criteria
    (a hint for back office, never a decision)."""


class ProgramInfoPublished(EventData):
    """A version of a program-information entry (FAQ or a program's information) as intake
    needs it: which entry, which version, its district, topic and title. The text itself
    stays in the registry (read and searched there)."""

    event_type = "slrt.program_info.published.v1"
    topic = Topic.PROGRAM_INFO

    entry_id: UUID
    version: int = Field(ge=1)
    kind: Literal["faq", "program"]
    district: str = Field(pattern=r"^\d{4}$")
    info_topic: str
    program_code: str | None = None
    title: str


class PrelistEntryRequested(EventData):
    """routing asks the registry to record a person found outside DT-PPFM (daftar awal)."""

    event_type = "slrt.registry.prelist_requested.v1"
    topic = Topic.REGISTRY_REQUESTS

    request_id: UUID
    complaint_id: UUID
    ticket_number: str
    complainant_ref: str | None = None
    """``complainant:<complaint id>``: the registry redeems it at intake for the person."""
    person: Complainant | None = None
    """The person inline: only in requests of the old form (still handled)."""


class RegistryCorrectionRequested(EventData):
    """routing asks the registry to record the corrections a back office proposed from a
    complaint (one change proposal per change, one set per ``request_id``).

    Addressed to the registry only (``slrt.registry.requests``): records are named by registry
    ids; the new values are the only personal data, and only the registry reads them.
    """

    event_type = "slrt.registry.correction_requested.v1"
    topic = Topic.REGISTRY_REQUESTS

    request_id: UUID
    complaint_id: UUID
    ticket_number: str
    village_code: str = Field(pattern=r"^\d{10}$")
    """The complaint's village (the registry checks the records lie in its district)."""
    changes: list[RegistryChange] = Field(min_length=1, max_length=20)
    evidence: str = Field(max_length=2000)
    requested_by: str
    """The back office's user id (the proposal's ``created_by``)."""


class Recipient(BaseModel):
    """Where a person (staff member, facilitator, household) is reached, when the notifier
    cannot look it up itself. Personal data: in the event value only, never logged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=254)
    language: Literal["id", "en"] = "id"


class RegistryProposalUpdated(EventData):
    """A pre-list entry or profile-change proposal was recorded, reviewed or exported to SIKS-NG.

    Keyed by the complaint id when a complaint started it, else by the proposal id.
    """

    event_type = "slrt.registry.proposal_updated.v1"
    topic = Topic.REGISTRY_RESULTS

    proposal_id: UUID
    kind: Literal["prelist", "change"]
    complaint_id: UUID | None = None
    request_id: UUID | None = None
    """The PrelistEntryRequested that created it, if any."""
    status: Literal["proposed", "approved", "returned", "exported"]
    batch_id: UUID | None = None
    at: datetime


class RegistryVerificationApplied(EventData):
    """SIKS-NG's verification result for a proposal was applied to the registry."""

    event_type = "slrt.registry.verification_applied.v1"
    topic = Topic.REGISTRY_RESULTS

    proposal_id: UUID
    kind: Literal["prelist", "change"]
    complaint_id: UUID | None = None
    batch_id: UUID
    accepted: bool
    result: Literal["accepted", "rejected", "revisit"] | None = None
    """SIKS-NG's verdict; ``revisit`` (not accepted, not rejected: the entry goes back to the
    facilitator) exists only here. None on events from before the field: read ``accepted``."""
    reason: str | None = None
    """SIKS-NG's reason for a rejection or a revisit (no personal data)."""
    household_id: UUID | None = None
    """The registry household the accepted entry became (or the changed person's household)."""
    at: datetime


class NotificationRequested(EventData):
    event_type = "slrt.notification.requested.v1"
    topic = Topic.NOTIFICATION_REQUESTS

    request_id: UUID
    complaint_id: UUID | None
    kind: NotificationKind
    destination: str
    """A destination id from the program catalog, a staff user id, or a household ref."""
    template: str
    params: dict[str, Any] = Field(default_factory=dict)
    breached: bool = False
    """Breaches go out at once; other staff reminders are gathered into a daily digest."""
    referral_id: UUID | None = None
    """For referrals and answer links: the referral the program manager answers."""
    place_code: str | None = Field(default=None, pattern=r"^\d{2,10}$")
    """The complaint's place (village code): scopes who may read the delivery's status."""
    recipient: Recipient | None = None
    """Contact of a staff member or household (not needed for catalog destinations)."""


class NotificationDelivered(EventData):
    event_type = "slrt.notification.delivered.v1"
    topic = Topic.NOTIFICATION_OUTCOMES

    request_id: UUID
    complaint_id: UUID | None
    channel: str
    delivered_at: datetime
    external_ref: str | None = None


class NotificationFailed(EventData):
    event_type = "slrt.notification.failed.v1"
    topic = Topic.NOTIFICATION_OUTCOMES

    request_id: UUID
    complaint_id: UUID | None
    channel: str
    attempts: int
    last_error: str
    failed_at: datetime


class ReferralAnswered(EventData):
    """A program manager answered a referral (signed callback or answer link, via intake)."""

    event_type = "slrt.referral.answered.v1"
    topic = Topic.REFERRAL_ANSWERS

    answer_id: str
    """The webhook id or answer-link nonce: the idempotency key."""
    complaint_id: UUID
    referral_id: UUID
    decision: ReferralDecision
    note: str | None = None
    expected_date: date | None = None
    suggested_destination: str | None = None
    answered_at: datetime


PERSONAL_FIELDS = frozenset(
    {"nik", "kk_number", "name", "sex", "birth_date", "address", "phone", "email"}
)
"""Field names that hold personal data (UU PDP 27/2022) wherever they appear in an event."""

PERSONAL_DATA_ALLOWED: dict[str, frozenset[str]] = {
    # A back office's corrections from a complaint, addressed to the registry only: the new
    # values of the records it names by registry id (the change proposals it records).
    RegistryCorrectionRequested.event_type: frozenset(
        {
            "changes.address",
            "changes.kk_number",
            "changes.member.birth_date",
            "changes.member.name",
            "changes.member.nik",
            "changes.member.sex",
        }
    ),
    # A staff member's contact, when the notifier cannot look it up; a household's contact
    # never travels (``destination = household:<complaint id>``, redeemed at intake).
    NotificationRequested.event_type: frozenset({"recipient.phone", "recipient.email"}),
    # Not a person's: the program's name and its agency desk's contacts.
    ProgramCatalogEntry.event_type: frozenset({"name", "contact_phone", "contact_email"}),
    # A staff member's work contact, for every service's copy of the staff directory: the
    # notifier addresses their messages, the console shows who holds a step.
    StaffPerson.event_type: frozenset({"display_name", "email", "phone"}),
}
"""Which event types may carry which personal-data fields (dotted paths), and why. Every other
event type refers to people by id only; free text in events (descriptions, notes, reasons,
answers) is masked by the producer (``slrt.masking``). ``tests/platform/test_event_contents.py``
fails when a personal-data field appears anywhere else."""

LEGACY_PERSONAL_DATA: dict[str, frozenset[str]] = {
    # Events of the old form, still decoded and handled (events already in topics, recorded
    # histories) but no longer produced: the complainant is now a reference
    # (``complainant:<complaint id>``) that the registry alone redeems at intake.
    ComplaintSubmitted.event_type: frozenset(
        {
            "complainant.nik",
            "complainant.kk_number",
            "complainant.name",
            "complainant.sex",
            "complainant.birth_date",
            "complainant.address",
        }
    ),
    RegistryCheckRequested.event_type: frozenset({"nik", "kk_number", "name"}),
    PrelistEntryRequested.event_type: frozenset(
        {
            "person.nik",
            "person.kk_number",
            "person.name",
            "person.sex",
            "person.birth_date",
            "person.address",
        }
    ),
}
"""Personal-data fields an event model still *decodes* for events of the old form; producers
leave them empty (``tests/platform/test_event_contents.py`` checks both lists)."""


EVENT_MODELS: dict[str, type[EventData]] = {
    model.event_type: model
    for model in (
        ProgramCatalogEntry,
        ComplaintSubmitted,
        ComplaintTransitioned,
        RegistryCheckRequested,
        RegistryCheckCompleted,
        PrelistEntryRequested,
        RegistryCorrectionRequested,
        RegistryProposalUpdated,
        RegistryVerificationApplied,
        NotificationRequested,
        NotificationDelivered,
        NotificationFailed,
        ReferralAnswered,
        ProgramInfoPublished,
        StaffPerson,
        VillageAssignment,
        Supervision,
        DistrictStaffSettings,
    )
}
