"""What leaves the system, per destination: the versioned referral webhook payload, the
LAPOR! report and the SIKS-NG submission. Each is built from the request's documented params
(docs/notifier.md) by whitelisting fields; the NIK goes only where the catalog says the
destination needs it, and 16-digit numbers in free text are masked everywhere else."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slrt.contracts.events import NotificationRequested, ProgramCatalogEntry
from slrt.contracts.vocabulary import ReferralDecision

WEBHOOK_PAYLOAD_TYPE = "slrt.referral.v1"
ALIASES = {"summary": ("description",), "ticket_number": ("ticket",), "due_date": ("due_on",)}
_NIK_LIKE = re.compile(r"(?<!\d)\d{16}(?!\d)")
NIK_MASK = "[NIK disamarkan]"


def mask_nik(text: str) -> str:
    return _NIK_LIKE.sub(NIK_MASK, text)


def _first(params: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` present (the workflow and older callers name some fields apart)."""
    return next((params[k] for k in keys if params.get(k) is not None), None)


def _text(params: dict[str, Any], key: str, needs_nik: bool, limit: int = 5000) -> str | None:
    value = _first(params, key, *ALIASES.get(key, ()))
    if value is None:
        return None
    text = str(value)[:limit]
    return text if needs_nik else mask_nik(text)


def _registry(params: dict[str, Any]) -> dict[str, Any]:
    raw = params.get("registry")
    if not isinstance(raw, dict):
        return {"checked": False}
    decile = raw.get("welfare_decile")
    return {
        "checked": True,
        "found": bool(raw.get("found")),
        "welfare_decile": decile if isinstance(decile, int) else None,
        "programs": [str(p) for p in raw.get("programs", []) if isinstance(p, str)],
        "household_id": str(raw["household_id"]) if raw.get("household_id") else None,
    }


def answer_callback_url(intake_public_url: str, referral_id: str) -> str:
    return f"{intake_public_url.rstrip('/')}/v1/referrals/{referral_id}/callback"


def referral_webhook(
    request: NotificationRequested,
    program: ProgramCatalogEntry,
    *,
    intake_public_url: str,
    sent_at: datetime,
) -> dict[str, Any]:
    """The referral as a program manager's system receives it (``slrt.referral.v1``)."""
    params = request.params
    referral_id = str(request.referral_id)
    payload: dict[str, Any] = {
        "type": WEBHOOK_PAYLOAD_TYPE,
        "version": 1,
        "referral_id": referral_id,
        "complaint_id": str(request.complaint_id) if request.complaint_id else None,
        "ticket_number": _first(params, "ticket_number", "ticket"),
        "program": program.code,
        "category": params.get("category"),
        "sub_type": params.get("sub_type"),
        "summary": _text(params, "summary", program.needs_nik),
        "village_code": request.place_code or params.get("village_code"),
        "registry": _registry(params),
        "due_date": _first(params, "due_date", "due_on"),
        "approval_note": _text(params, "approval_note", program.needs_nik, 2000),
        "sent_at": sent_at.isoformat(),
        "answer": {
            "callback_url": answer_callback_url(intake_public_url, referral_id),
            "decisions": [d.value for d in ReferralDecision],
            "signing": "Standard Webhooks (HMAC-SHA256) with this destination's secret",
        },
    }
    if program.needs_nik and params.get("nik"):
        payload["person"] = {"nik": str(params["nik"])}
    return payload


LAPOR_NOTE_HEADING = "Catatan persetujuan Manajer SLRT"
"""How the manager's approval note is introduced in a LAPOR! report's text (isi)."""


def lapor_report(request: NotificationRequested, program: ProgramCatalogEntry) -> dict[str, Any]:
    """A referral filed as a LAPOR! report (laporan), confidential, on the household's behalf."""
    params = request.params
    ticket = _first(params, "ticket_number", "ticket") or "-"
    body = _text(params, "summary", program.needs_nik) or "-"
    note = _text(params, "approval_note", program.needs_nik, 2000)
    if note:
        body = f"{body}\n\n{LAPOR_NOTE_HEADING}: {note}"
    return {
        "judul": f"Rujukan SLRT {ticket} - {program.name}"[:150],
        "isi": body,
        "kategori": params.get("sub_type") or params.get("category") or "lainnya",
        "instansi_tujuan": program.owner_agency,
        "kode_wilayah": request.place_code or params.get("village_code"),
        "rahasia": True,
        "anonim": True,
        "referensi_eksternal": str(request.referral_id),
    }


SUBMISSION_KINDS = {"membership": "keluhan_kepesertaan", "prelist": "usulan_daftar_awal"}


def siks_ng_submission(
    request: NotificationRequested, program: ProgramCatalogEntry
) -> dict[str, Any]:
    """A membership complaint or pre-list proposal as a SIKS-NG submission (usulan)."""
    params = request.params
    kind = SUBMISSION_KINDS.get(str(params.get("category")), "keluhan_kepesertaan")
    submission: dict[str, Any] = {
        "jenis": kind,
        "referensi": str(request.referral_id),
        "nomor_tiket": _first(params, "ticket_number", "ticket"),
        "kode_wilayah": request.place_code or params.get("village_code"),
        "ringkasan": _text(params, "summary", program.needs_nik),
        "id_rumah_tangga": _registry(params).get("household_id"),
    }
    if program.needs_nik and params.get("nik"):
        submission["nik"] = str(params["nik"])
    return submission


LAPOR_DECISIONS: dict[str, ReferralDecision] = {
    "tindak_lanjut": ReferralDecision.UNDER_REVIEW,
    "selesai": ReferralDecision.ACCEPTED,
    "ditolak": ReferralDecision.REJECTED,
    "bukan_kewenangan": ReferralDecision.NOT_RESPONSIBLE,
}
"""LAPOR! statuses that answer a referral; the others (belum_terverifikasi, terverifikasi,
didisposisikan) mean it is still on its way to the agency."""
LAPOR_FINAL = frozenset({"selesai", "ditolak", "bukan_kewenangan"})


def lapor_decision(status: str) -> ReferralDecision | None:
    return LAPOR_DECISIONS.get(status)


SIKS_NG_FILED = "diajukan"
SIKS_NG_DECISIONS: dict[str, ReferralDecision] = {
    "diverifikasi": ReferralDecision.UNDER_REVIEW,
    "disetujui": ReferralDecision.ACCEPTED,
    "ditolak": ReferralDecision.REJECTED,
    "bukan_kewenangan": ReferralDecision.NOT_RESPONSIBLE,
}
"""SIKS-NG statuses that answer a membership referral: Pokja Data Terpadu verifying it
(under review), its verdict (approved, rejected) or not the registry's business; ``diajukan``
(filed, not looked at yet) answers nothing."""
SIKS_NG_FINAL = frozenset({"disetujui", "ditolak", "bukan_kewenangan"})


def siks_ng_decision(status: str) -> ReferralDecision | None:
    return SIKS_NG_DECISIONS.get(status)


def siks_ng_answer_id(submission_id: str, status: str) -> str:
    """The answer's idempotency key: one answer per submission and status."""
    return f"siks_ng:{submission_id}:{status}"
