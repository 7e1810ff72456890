"""What the public may know of a complaint's progress, in Bahasa Indonesia and English: its status
(open / closed / withdrawn), the label of its current step and of its outcome.

One notion for every public view: intake's tracking page (the household, by ticket and
verifier) and the dashboard's Open311 GeoReport v2 API (anyone, by ticket) both read these, so a
step is called the same everywhere. No personal data: steps and outcomes only."""

from __future__ import annotations

from typing import Literal

from slrt.contracts.complaints import ComplaintStep, Outcome

Status = Literal["open", "closed", "withdrawn"]
Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")


def status_of(step: str) -> Status:
    if step == ComplaintStep.CLOSED:
        return "closed"
    if step == ComplaintStep.WITHDRAWN:
        return "withdrawn"
    return "open"


STEP_LABELS: dict[str, dict[str, str]] = {
    "id": {
        "received": "Diterima",
        "supervisor_review": "Diperiksa supervisor",
        "returned_for_correction": "Dikembalikan untuk perbaikan",
        "registered": "Terdaftar",
        "registry_check": "Pemeriksaan data terpadu",
        "back_office": "Ditangani petugas layanan",
        "awaiting_information": "Menunggu informasi dari pelapor",
        "awaiting_registration": "Menunggu hasil verifikasi data terpadu (SIKS-NG)",
        "manager_approval": "Menunggu persetujuan manajer",
        "referred": "Dirujuk ke pengelola program",
        "under_review": "Ditinjau pengelola program",
        "feedback": "Penyampaian hasil kepada pelapor",
        "closed": "Selesai",
        "withdrawn": "Dicabut",
    },
    "en": {
        "received": "Received",
        "supervisor_review": "Supervisor review",
        "returned_for_correction": "Returned for correction",
        "registered": "Registered",
        "registry_check": "Social registry check",
        "back_office": "Handled by the back office",
        "awaiting_information": "Waiting for information from you",
        "awaiting_registration": "Waiting for the social registry's verification (SIKS-NG)",
        "manager_approval": "Waiting for the manager's approval",
        "referred": "Referred to the program manager",
        "under_review": "Under review by the program manager",
        "feedback": "Telling you the outcome",
        "closed": "Closed",
        "withdrawn": "Withdrawn",
    },
}

STATUS_LABELS: dict[str, dict[str, str]] = {
    "id": {"open": "Dalam proses", "closed": "Selesai", "withdrawn": "Dicabut"},
    "en": {"open": "In progress", "closed": "Closed", "withdrawn": "Withdrawn"},
}

OUTCOME_LABELS: dict[str, dict[str, str]] = {
    "id": {
        Outcome.ANSWERED: "Informasi telah diberikan",
        Outcome.RESOLVED_LOCALLY: "Diselesaikan oleh SLRT",
        Outcome.REFERRAL_ACCEPTED: "Diterima oleh pengelola program",
        Outcome.REFERRAL_REJECTED: "Ditolak oleh pengelola program",
        Outcome.DUPLICATE: "Sama dengan pengaduan lain",
        Outcome.WITHDRAWN: "Dicabut",
        Outcome.REGISTRY_ACCEPTED: "Diterima dalam verifikasi data terpadu",
        Outcome.REGISTRY_REJECTED: "Ditolak dalam verifikasi data terpadu",
    },
    "en": {
        Outcome.ANSWERED: "Information given",
        Outcome.RESOLVED_LOCALLY: "Resolved by SLRT",
        Outcome.REFERRAL_ACCEPTED: "Accepted by the program manager",
        Outcome.REFERRAL_REJECTED: "Rejected by the program manager",
        Outcome.DUPLICATE: "Same as another complaint",
        Outcome.WITHDRAWN: "Withdrawn",
        Outcome.REGISTRY_ACCEPTED: "Accepted by the social registry's verification",
        Outcome.REGISTRY_REJECTED: "Rejected by the social registry's verification",
    },
}


def language(requested: str | None, accept_language: str | None) -> str:
    """Bahasa Indonesia unless English is asked for (``lang=en`` or Accept-Language)."""
    if requested in ("id", "en"):
        return requested
    if accept_language:
        for part in accept_language.split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("id"):
                return "id"
            if tag.startswith("en"):
                return "en"
    return "id"


def step_label(step: str, lang: str) -> str:
    return STEP_LABELS[lang].get(step, step)


def outcome_label(outcome: str | None, lang: str) -> str | None:
    return OUTCOME_LABELS[lang].get(outcome) if outcome else None
