"""Small server-rendered pages (Bahasa Indonesia first): the public tracking page and the
program managers' answer page. Jinja2 templates (``templates/``) with autoescape, like the
dashboard's: every value is HTML-escaped; no script, no external asset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from services.intake.schemas import TrackingOut
from slrt.contracts.vocabulary import ReferralDecision

HERE = Path(__file__).parent

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, *, title: str, lang: str = "id", **context: Any) -> str:
    return _templates.get_template(template).render(title=title, lang=lang, **context)


TRACK_TEXT = {
    "id": {
        "title": "Lacak pengaduan SLRT",
        "ticket": "Nomor tiket",
        "verifier": "Kode pelacakan atau 4 angka terakhir nomor HP",
        "submit": "Lacak",
        "status": "Status",
        "step": "Tahap sekarang",
        "due": "Tahap berikutnya paling lambat",
        "outcome": "Hasil",
        "information": "Informasi yang diberikan",
        "history": "Riwayat",
        "not_found": "Tiket tidak ditemukan atau kode tidak cocok.",
        "too_many": "Terlalu banyak percobaan. Coba lagi sebentar lagi.",
        "other": "English",
    },
    "en": {
        "title": "Track an SLRT complaint",
        "ticket": "Ticket number",
        "verifier": "Tracking code or the last 4 digits of the phone number",
        "submit": "Track",
        "status": "Status",
        "step": "Current step",
        "due": "Next step due by",
        "outcome": "Outcome",
        "information": "Information given",
        "history": "History",
        "not_found": "No such ticket, or the code does not match.",
        "too_many": "Too many attempts. Try again in a minute.",
        "other": "Bahasa Indonesia",
    },
}


def tracking_form(lang: str, message: str | None = None) -> str:
    t = TRACK_TEXT[lang]
    other = "en" if lang == "id" else "id"
    return render(
        "tracking_form.html", title=t["title"], lang=lang, t=t, message=message, other=other
    )


def tracking_result(view: TrackingOut) -> str:
    t = TRACK_TEXT[view.language]
    return render("tracking_result.html", title=t["title"], lang=view.language, t=t, view=view)


DECISION_LABELS: dict[str, str] = {
    ReferralDecision.ACCEPTED: "Diterima — program akan menindaklanjuti",
    ReferralDecision.REJECTED: "Ditolak",
    ReferralDecision.UNDER_REVIEW: "Masih ditinjau (isi perkiraan tanggal keputusan)",
    ReferralDecision.NOT_RESPONSIBLE: (
        "Bukan kewenangan kami (sebutkan program yang tepat bila tahu)"
    ),
}


def answer_form(
    *,
    ticket: str,
    program: str,
    place: str,
    category: str,
    description: str,
    due: str,
    approval_note: str | None = None,
    answered: str | None = None,
) -> str:
    """The referral and the form; ``answered`` (what was recorded) replaces the form once the
    referral no longer waits for an answer."""
    return render(
        "answer_form.html",
        title="Jawaban rujukan SLRT",
        ticket=ticket,
        program=program,
        place=place,
        category=category,
        description=description,
        due=due,
        decisions=DECISION_LABELS,
        approval_note=approval_note,
        answered=answered,
    )


def answer_done(decision: str, replayed: bool) -> str:
    label = DECISION_LABELS.get(decision, decision)
    return render("answer_done.html", title="Terima kasih", label=label, replayed=replayed)


def message(title: str, text: str) -> str:
    return render("message.html", title=title, text=text)
