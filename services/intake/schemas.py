"""Request and response bodies of the public API (what the OpenAPI document shows)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from slrt.contracts.complaints import (
    ComplaintStep,
    InformationAnswer,
    Outcome,
    RegistrySummary,
)
from slrt.contracts.corrections import RegistryCorrection
from slrt.contracts.vocabulary import Category, Channel, ReferralDecision
from slrt.public_status import Status as Status


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComplainantIn(_In):
    """Who brings the complaint (pelapor). Personal data: stored by intake only."""

    nik: str | None = Field(default=None, max_length=32, description="16-digit NIK, optional")
    kk_number: str | None = Field(default=None, pattern=r"^\d{16}$")
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{8,15}$")
    """Where SLRT sends the household its ticket and news by SMS (never published)."""
    email: str | None = Field(
        default=None,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="optional; household messages go there too",
    )
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    address: str | None = Field(default=None, max_length=500)


class ComplainantOut(BaseModel):
    """The complainant as intake recorded them at submission (pelapor). Personal data."""

    name: str
    nik: str | None = None
    kk_number: str | None = None
    phone: str | None = None
    email: str | None = None
    sex: Literal["male", "female"] | None = None
    birth_date: date | None = None
    address: str | None = None
    village_code: str


class InformationAnswerIn(_In):
    """The answer the front office gave to an information request, from the district's
    program information (``GET /v1/program-info/search`` at the registry)."""

    entry_id: UUID
    """The program-information entry (FAQ or a program's) that answered it."""
    entry_version: int = Field(ge=1)
    """The version of the entry read out."""
    answer: str = Field(min_length=1, max_length=5000)
    """What the household was told, in the front office's words."""


class SubmissionIn(_In):
    """A complaint, program need or information request."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "puskesos_walk_in",
                    "village_code": "32.04.05.2001",
                    "complainant": {
                        "name": "Siti Aminah",
                        "nik": "3204054107850003",
                        "phone": "081234567890",
                        "sex": "female",
                    },
                    "category": "membership",
                    "description": "Keluarga kami tidak terdaftar sebagai penerima PKH.",
                    "occurred_on": "2026-10-01",
                },
                {
                    "channel": "district_walk_in",
                    "village_code": "3204052001",
                    "anonymous": True,
                    "category": "implementation",
                    "program_code": "PKH",
                    "description": "Dana bantuan dipotong oleh oknum pendamping.",
                },
            ]
        },
    )

    channel: Channel
    village_code: str = Field(
        pattern=r"^\d{2}\.?\d{2}\.?\d{2}\.?\d{4}$",
        description="Kemendagri village code (10 digits), with or without dots",
    )
    anonymous: bool = False
    """Only implementation complaints may be anonymous: no personal data is stored then."""
    complainant: ComplainantIn | None = None
    category: Category
    program_code: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    sub_type: str | None = Field(default=None, max_length=50)
    description: str = Field(min_length=1, max_length=5000)
    occurred_on: date | None = None
    answer: InformationAnswerIn | None = None
    """Information requests only: the entry that answered it and the answer given (recorded
    on the request's closing transition and in its case file)."""


class BatchItemIn(SubmissionIn):
    client_id: UUID
    """The tablet's own id of this item; resending it never creates a second complaint."""
    attachments: list[Annotated[str, Field(pattern=r"^[\x21-\x7e]{1,100}$")]] = Field(
        default_factory=list, max_length=50
    )
    """The tablet's client ids of the files that go with this complaint (by reference: each
    is uploaded separately, to the complaint id this batch answers, with its client id as
    ``Idempotency-Key``); the answer lists those not uploaded yet."""


class BatchIn(_In):
    items: list[BatchItemIn] = Field(min_length=1)


class Links(BaseModel):
    self: str
    tracking: str


class SubmissionOut(BaseModel):
    complaint_id: UUID
    ticket_number: str
    status: Status
    step: ComplaintStep
    tracking_code: str
    """The verifier for public tracking (besides the phone's last 4 digits): write it on the
    receipt. Anonymous reporters have only this."""
    warnings: list[str] = Field(default_factory=list)
    links: Links


class FieldProblem(BaseModel):
    field: str
    rule: str
    message: str


class BatchItemOut(BaseModel):
    client_id: UUID
    result: Literal["created", "replayed", "rejected"]
    complaint: SubmissionOut | None = None
    errors: list[FieldProblem] = Field(default_factory=list)
    attachments_missing: list[str] = Field(default_factory=list)
    """Of the item's ``attachments``, the client ids not uploaded yet: upload each to
    ``attachments_upload`` with its client id as ``Idempotency-Key``."""
    attachments_upload: str | None = None


class BatchOut(BaseModel):
    items: list[BatchItemOut]
    created: int
    replayed: int
    rejected: int


class TimelineEntry(BaseModel):
    sequence: int
    from_step: str | None
    to_step: str
    actor: str
    actor_role: str
    at: datetime
    reason: str | None = None
    decision_code: str | None = None


class Flags(BaseModel):
    repeat: bool
    escalated: bool
    overdue: bool


class ComplaintOut(BaseModel):
    complaint_id: UUID
    ticket_number: str
    status: Status
    step: str
    holder_role: str | None
    place_code: str
    category: str
    channel: str
    program_code: str | None
    referral_destination: str | None
    referral_id: UUID | None
    step_due: date | None
    resolve_due: date | None
    flags: Flags
    registry: RegistrySummary | None
    outcome: str | None
    submitted_at: datetime
    updated_at: datetime
    timeline: list[TimelineEntry] | None = None
    assignee: UUID | None = None
    """The directory person who holds the current step (``person_id`` of the staff
    directory); null when nobody in particular does (the area's role holders share it) or the
    step is no person's (a system's, a program's, over)."""
    assignee_basis: str | None = None
    """Why they hold it: ``village_assignment``, ``supervisor_queue``, ``supervision``,
    ``sole_role_holder`` (``role_holders`` when nobody in particular)."""


class ComplaintPage(BaseModel):
    items: list[ComplaintOut]
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; null on the last page."""


class VisitPerson(BaseModel):
    """Whom the facilitator visits, as recorded at submission."""

    name: str
    address: str | None


class VisitTask(BaseModel):
    """What the visit is for."""

    do: Literal["tell_outcome", "ask_question"]
    question: str | None = None
    """``ask_question``: what the back office asks the household."""
    outcome: str | None = None
    """``tell_outcome``: why the complaint came to feedback (``resolved_locally``,
    ``referral_accepted``, ``referral_rejected`` …)."""
    program: str | None = None
    """``tell_outcome`` after a referral: the program that answered."""
    message: str | None = None
    """``tell_outcome``: the back office's answer or the program's note, to pass on."""


class TaskOut(BaseModel):
    """Something a facilitator must do on a visit (tugas fasilitator)."""

    complaint_id: UUID
    ticket_number: str
    kind: Literal["feedback_visit", "information_request"]
    place_code: str
    village_name: str | None = None
    category: str
    step_due: date | None
    overdue: bool
    household: VisitPerson | None = None
    """Whom to visit (None for an anonymous report: there is nobody to visit)."""
    task: VisitTask | None = None
    assignee: UUID | None = None
    """The facilitator (directory person) the visit is assigned to."""


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


# --- Human actions (the bodies; actor and request id come from the token and the header) ---


class SupervisorReviewIn(_In):
    decision: Literal["approve", "return_for_correction"]
    note: str | None = Field(default=None, max_length=2000)


class CorrectionIn(_In):
    description: str = Field(min_length=1, max_length=5000)
    category: Category
    program_code: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{1,39}$")
    sub_type: str | None = Field(default=None, max_length=50)


class BackOfficeActionIn(_In):
    kind: Literal["resolve", "refer", "mark_duplicate", "request_information", "await_registration"]
    answer: str | None = Field(default=None, max_length=5000)
    decision_code: str | None = Field(default=None, max_length=50)
    destination_program: str | None = Field(default=None, max_length=40)
    override_reason: str | None = Field(default=None, max_length=2000)
    duplicate_of: str | None = Field(default=None, max_length=20)
    question: str | None = Field(default=None, max_length=2000)


class RegistryCorrectionIn(RegistryCorrection):
    """A registry correction proposed from the complaint (``docs/api.md``)."""


class InformationIn(_In):
    information: str = Field(min_length=1, max_length=5000)


class ManagerDecisionIn(_In):
    decision: Literal["approve", "send_back"]
    note: str | None = Field(default=None, max_length=2000)


class FeedbackIn(_In):
    household_told: bool
    visited_on: date
    household_response: Literal["satisfied", "not_satisfied"] | None = None
    note: str | None = Field(default=None, max_length=2000)


class WithdrawIn(_In):
    reason: str = Field(min_length=1, max_length=2000)


class ErasureIn(_In):
    """A data subject's request to erase their personal data (UU PDP 27/2022)."""

    reason: str = Field(min_length=1, max_length=500, pattern=r"\S")
    """Why (the request's reference, e.g. the letter's number); kept masked in the audit log.
    Name the request, not the person."""


class ErasureOut(BaseModel):
    complaint_id: UUID
    ticket_number: str
    erased_at: datetime
    """When the personal data was erased (the first time: a repeat answers the same)."""
    attachments_deleted: int
    """Attachments deleted by this call (0 on a repeat)."""
    already_erased: bool
    """True when the complaint's personal data had been erased before this call."""


class ActionOut(BaseModel):
    complaint_id: UUID
    action: str
    request_id: str
    accepted: bool = True
    result: Any = None
    """What the workflow answered (its state after the action)."""


# --- Program managers' answers ---------------------------------------------------------------


class ReferralAnswerIn(_In):
    decision: ReferralDecision
    note: str | None = Field(default=None, max_length=2000)
    expected_date: date | None = None
    """For ``under_review``: when the program expects to decide."""
    suggested_destination: str | None = Field(default=None, max_length=40)
    """For ``not_responsible``: the program that should take it, if known."""


class ReferralAnswerOut(BaseModel):
    answer_id: str
    referral_id: UUID
    decision: ReferralDecision
    replayed: bool


# --- Public tracking ---------------------------------------------------------------------------


class TrackingIn(_In):
    ticket_number: str = Field(max_length=20)
    verifier: str = Field(min_length=4, max_length=32)
    """The last 4 digits of the complainant's phone, or the tracking code."""


class TrackingStep(BaseModel):
    step: str
    label: str
    at: datetime


class TrackingInformation(BaseModel):
    """The program information an information request was answered from: the entry's title
    and topic (public text kept by the district), never the answer's own words."""

    title: str
    topic: str
    entry_version: int


class TrackingOut(BaseModel):
    """What the household may see: no personal data, no staff names."""

    ticket_number: str
    status: Status
    status_label: str
    current_step: str
    current_step_label: str
    next_step_due: date | None
    steps: list[TrackingStep]
    outcome: Outcome | None
    outcome_label: str | None
    can_respond: bool
    language: Literal["id", "en"]
    information: TrackingInformation | None = None
    """An information request answered from the district's program information."""


class HouseholdResponseIn(TrackingIn):
    response: Literal["satisfied", "not_satisfied"]
    appeal: bool = False
    note: str | None = Field(default=None, max_length=2000)


class ReferralAnswerView(BaseModel):
    """The destination's answer on record."""

    decision: str
    note: str | None = None
    expected_date: date | None = None
    suggested_destination: str | None = None
    answered_at: datetime | None = None


class ReferralOut(BaseModel):
    """A referral (rujukan) as its program manager and the staff of its area see it, before and
    after its answer: where it went, the manager's approval note, the answer; no identity
    data."""

    referral_id: UUID
    complaint_id: UUID
    ticket_number: str
    program: str
    """The destination (program code)."""
    place_code: str
    category: str
    status: str
    """referred, under_review, accepted, rejected, not_responsible, no_response,
    delivery_failed, withdrawn or closed."""
    step: str | None
    """The complaint's current step."""
    channel: str | None = None
    approved_at: datetime
    approval_note: str | None = None
    """The manager's note on approving, sent to the destination with the referral."""
    separation_of_duties: bool | None = None
    """False when the approval was made with separation of duties turned off."""
    delivered_at: datetime | None = None
    answer_due: date | None
    """While the referral waits for an answer: when it is due."""
    answer: ReferralAnswerView | None = None
    closed_at: datetime | None = None
    description: str | None = None
    """The complaint's text (single reads only)."""
    complainant: ComplainantOut | None = None
    """Who brought it, as recorded (single reads only; none for an anonymous report)."""


class ReferralPage(BaseModel):
    items: list[ReferralOut]
    next_cursor: str | None


# --- Staff reads of personal data (audited) ---------------------------------------------------


class CaseTimelineEntry(TimelineEntry):
    details: dict[str, Any] = Field(default_factory=dict)
    """What the step carried: the back office's answer, the question asked and the household's
    information, a note, the referral's destination, a program manager's note... (empty for
    transitions recorded before intake kept details)."""


class ReferralAnswerEntry(BaseModel):
    """One answer of the program manager, as the workflow applied it."""

    decision: ReferralDecision
    note: str | None = None
    expected_date: date | None = None
    suggested_destination: str | None = None
    at: datetime


ReferralEnd = Literal[
    "accepted", "rejected", "not_responsible", "no_response", "delivery_failed", "withdrawn"
]
"""How a referral ended."""


class ReferralHistoryEntry(BaseModel):
    """One referral of the complaint, from the manager's approval to its end."""

    referral_id: UUID | None
    destination: str | None
    channel: str | None = None
    approved_by: str
    approval_note: str | None = None
    """The manager's note with the approval, where the workflow records one."""
    referred_at: datetime
    delivered: bool | None = None
    """True once the notifier delivered it, False when delivery failed, None while unknown."""
    answers: list[ReferralAnswerEntry] = Field(default_factory=list)
    ended: ReferralEnd | None = None
    """How the referral ended; None while it waits for (a final) answer."""
    ended_at: datetime | None = None


class ComplaintDetailOut(ComplaintOut):
    """A complaint's case file for the staff who act on it: the status read plus what it is
    about and who brought it. Reading it writes an audit row."""

    description: str
    """As it stands: the facilitator's last correction (after a supervisor's return), else as
    submitted."""
    submitted_description: str
    """As submitted."""
    corrected_at: datetime | None
    """When the description was last corrected (None: never)."""
    sub_type: str | None
    occurred_on: date | None
    anonymous: bool
    complainant: ComplainantOut | None
    """None for an anonymous report (intake keeps no personal data of it)."""
    submission_warnings: list[str]
    """What the NIK check noted at submission (``nik_sex_mismatch`` ...)."""
    timeline: list[CaseTimelineEntry]  # type: ignore[assignment]
    referrals: list[ReferralHistoryEntry]
    """Every referral with each destination's answers and notes, oldest first."""
    information_answer: InformationAnswer | None = None
    """An information request's answer as given (the full text; the timeline's is masked)."""


class AuditEntry(BaseModel):
    """One read of a complaint's personal data."""

    id: int
    at: datetime
    actor: str
    """The reader's user id (token subject), or ``program:<code>`` for an answer link."""
    actor_role: str
    action: str
    """``complaint_detail``, ``task_feed``, ``referral_read``, ``answer_page``, or
    ``contact_redeemed`` (the notifier took a household's phone/email to send a message),
    ``complainant_redeemed`` (the registry took the complainant's identity for a check or a
    pre-list entry)."""
    complaint_id: UUID | None
    place_code: str
    step: str | None
    """Why: the complaint's step when it was read (the step the reader acts on)."""
    fields: list[str]
    """What was read: ``description``, ``complainant``, ``timeline.details`` …"""


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None


class AttachmentOut(BaseModel):
    """A complaint's attachment as kept: what it is, never what it shows (read it through its
    download link)."""

    attachment_id: UUID
    complaint_id: UUID
    content_type: str = Field(
        description="judged by the content: image/jpeg, image/png, application/pdf"
    )
    size_bytes: int = Field(description="as kept (images re-encoded without metadata)")
    sha256: str = Field(description="of the file as kept")
    width: int | None = None
    height: int | None = None
    uploaded_at: datetime
    uploaded_role: str
    link: str = Field(description="where to ask for a short-lived download link (audited)")


class AttachmentPage(BaseModel):
    items: list[AttachmentOut]


class AttachmentLinkOut(BaseModel):
    url: str = Field(description="a short-lived download link; no bearer token needed")
    expires_at: datetime
