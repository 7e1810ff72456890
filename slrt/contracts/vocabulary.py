"""The domain's shared vocabulary: the enumerations that events, actions and APIs use."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a complaint came in (jalur pengaduan)."""

    PUSKESOS_WALK_IN = "puskesos_walk_in"
    DISTRICT_WALK_IN = "district_walk_in"
    FACILITATOR_VISIT = "facilitator_visit"


class Category(StrEnum):
    MEMBERSHIP = "membership"
    """Keluhan kepesertaan: exclusion error, new membership."""
    IMPLEMENTATION = "implementation"
    """Keluhan non-kepesertaan: how a program is carried out."""
    PROGRAM_NEED = "program_need"
    """Kebutuhan program: the household needs a program it does not have."""
    INFORMATION = "information"
    """Permintaan informasi: answered at registration and closed."""


class LookupKind(StrEnum):
    NIK = "nik"
    KK = "kk"
    NAME_AND_PLACE = "name_and_place"


class NotificationKind(StrEnum):
    REFERRAL = "referral"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    FACILITATOR_TASK = "facilitator_task"
    HOUSEHOLD_MESSAGE = "household_message"
    ANSWER_LINK = "answer_link"
    REPORT = "report"
    """A scheduled M&E report (laporan monitoring) is ready for a staff member."""


class ReferralDecision(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNDER_REVIEW = "under_review"
    NOT_RESPONSIBLE = "not_responsible"


class ProgramChannel(StrEnum):
    """How referrals reach a program's manager (per the program's SOP)."""

    DIRECT = "direct"
    """Signed webhook to the program manager's system, or an answer link by email/SMS."""
    LAPOR = "lapor"
    """SP4N-LAPOR!, the national public-complaint system."""
    SIKS_NG = "siks_ng"
    """The ministry's registry system (membership complaints, pre-list)."""
