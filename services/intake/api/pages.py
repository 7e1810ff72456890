"""Small server-rendered pages (Bahasa Indonesia first): the public tracking page and the
program managers' answer page. Every value is HTML-escaped; no script, no external asset."""

from __future__ import annotations

from html import escape

from services.intake.schemas import TrackingOut

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}label{display:block;margin-top:1rem}input,textarea,select{width:100%;"
    "padding:.4rem}button{margin-top:1rem;padding:.5rem 1rem}table{border-collapse:collapse}"
    "td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}"
)


def page(title: str, body: str, lang: str = "id") -> str:
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


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
        "history": "History",
        "not_found": "No such ticket, or the code does not match.",
        "too_many": "Too many attempts. Try again in a minute.",
        "other": "Bahasa Indonesia",
    },
}


def tracking_form(lang: str, message: str | None = None) -> str:
    t = TRACK_TEXT[lang]
    other = "en" if lang == "id" else "id"
    note = f'<p role="alert">{escape(message)}</p>' if message else ""
    body = (
        f'{note}<form method="post" action="/track?lang={lang}">'
        f'<label>{escape(t["ticket"])}<input name="ticket_number" required maxlength="20" '
        'placeholder="3204-26-000123"></label>'
        f'<label>{escape(t["verifier"])}<input name="verifier" required maxlength="32" '
        'autocomplete="off"></label>'
        f'<button type="submit">{escape(t["submit"])}</button></form>'
        f'<p><a href="/track?lang={other}">{escape(t["other"])}</a></p>'
    )
    return page(t["title"], body, lang)


def tracking_result(view: TrackingOut) -> str:
    t = TRACK_TEXT[view.language]
    rows = "".join(
        f"<tr><td>{escape(s.at.date().isoformat())}</td><td>{escape(s.label)}</td></tr>"
        for s in view.steps
    )
    due = view.next_step_due.isoformat() if view.next_step_due else "—"
    outcome = (
        f"<p><strong>{escape(t['outcome'])}:</strong> {escape(view.outcome_label)}</p>"
        if view.outcome_label
        else ""
    )
    body = (
        f"<p><strong>{escape(t['ticket'])}:</strong> {escape(view.ticket_number)}</p>"
        f"<p><strong>{escape(t['status'])}:</strong> {escape(view.status_label)}</p>"
        f"<p><strong>{escape(t['step'])}:</strong> {escape(view.current_step_label)}</p>"
        f"<p><strong>{escape(t['due'])}:</strong> {escape(due)}</p>{outcome}"
        f"<h2>{escape(t['history'])}</h2><table>{rows}</table>"
    )
    return page(t["title"], body, view.language)


DECISION_LABELS = {
    "accepted": "Diterima — program akan menindaklanjuti",
    "rejected": "Ditolak",
    "under_review": "Masih ditinjau (isi perkiraan tanggal keputusan)",
    "not_responsible": "Bukan kewenangan kami (sebutkan program yang tepat bila tahu)",
}


def answer_form(
    *, ticket: str, program: str, place: str, category: str, description: str, due: str
) -> str:
    choices = "".join(
        f'<label><input type="radio" name="decision" value="{value}" required> '
        f"{escape(label)}</label>"
        for value, label in DECISION_LABELS.items()
    )
    body = (
        "<table>"
        f"<tr><th>Nomor tiket</th><td>{escape(ticket)}</td></tr>"
        f"<tr><th>Program</th><td>{escape(program)}</td></tr>"
        f"<tr><th>Wilayah</th><td>{escape(place)}</td></tr>"
        f"<tr><th>Jenis</th><td>{escape(category)}</td></tr>"
        f"<tr><th>Batas jawaban</th><td>{escape(due)}</td></tr>"
        "</table>"
        f"<h2>Isi rujukan</h2><p>{escape(description)}</p>"
        '<form method="post"><fieldset><legend>Keputusan</legend>'
        f"{choices}</fieldset>"
        '<label>Catatan<textarea name="note" maxlength="2000" rows="4"></textarea></label>'
        '<label>Perkiraan tanggal keputusan<input type="date" name="expected_date"></label>'
        '<label>Program yang tepat (kode)<input name="suggested_destination" maxlength="40">'
        '</label><button type="submit">Kirim jawaban</button></form>'
    )
    return page("Jawaban rujukan SLRT", body)


def answer_done(decision: str, replayed: bool) -> str:
    already = "Jawaban ini sudah tercatat sebelumnya. " if replayed else ""
    label = DECISION_LABELS.get(decision, decision)
    return page(
        "Terima kasih",
        f"<p>{escape(already)}Jawaban Anda tercatat: <strong>{escape(label)}</strong>.</p>",
    )


def message(title: str, text: str) -> str:
    return page(title, f"<p>{escape(text)}</p>")
