"""Message texts in Bahasa Indonesia (with English variants), short enough for one SMS.

A template names its parameters; one of them may be *elastic* (free text such as an outcome
note), which is shortened to make the SMS fit the configured length. Texts stay within the GSM-7
alphabet (plain ASCII) so that one SMS holds 160 characters.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from slrt.contracts.vocabulary import NotificationKind

Language = Literal["id", "en"]
ELLIPSIS = "..."


@dataclass(frozen=True)
class Template:
    subject: dict[Language, str]
    text: dict[Language, str]
    elastic: str | None = None


TEMPLATES: dict[str, Template] = {
    "referral_answer_link": Template(
        subject={"id": "Rujukan SLRT {ticket}", "en": "SLRT referral {ticket}"},
        text={
            "id": "SLRT: rujukan {ticket} untuk program {program}. Mohon dijawab sebelum "
            "{due_date}: {link}",
            "en": "SLRT: referral {ticket} for program {program}. Please answer by "
            "{due_date}: {link}",
        },
    ),
    "reminder": Template(
        subject={"id": "Pengingat SLRT {ticket}", "en": "SLRT reminder {ticket}"},
        text={
            "id": "SLRT: pengingat, pengaduan {ticket} di tahap {step} jatuh tempo {due_date}.",
            "en": "SLRT: reminder, complaint {ticket} at step {step} is due {due_date}.",
        },
    ),
    "escalation": Template(
        subject={"id": "Eskalasi SLRT {ticket}", "en": "SLRT escalation {ticket}"},
        text={
            "id": "SLRT: ESKALASI, pengaduan {ticket} melewati batas waktu di tahap {step}.",
            "en": "SLRT: ESCALATION, complaint {ticket} is past its deadline at step {step}.",
        },
    ),
    "facilitator_task": Template(
        subject={"id": "Tugas SLRT {ticket}", "en": "SLRT task {ticket}"},
        text={
            "id": "SLRT: tugas baru, {task} untuk pengaduan {ticket}. {note}",
            "en": "SLRT: new task, {task} for complaint {ticket}. {note}",
        },
        elastic="note",
    ),
    "complaint_registered": Template(
        subject={"id": "Pengaduan SLRT {ticket}", "en": "SLRT complaint {ticket}"},
        text={
            "id": "SLRT: pengaduan Anda tercatat, nomor {ticket}. Simpan nomor ini untuk "
            "menanyakan statusnya.",
            "en": "SLRT: your complaint is registered as {ticket}. Keep this number to ask "
            "about its status.",
        },
    ),
    "complaint_referred": Template(
        subject={"id": "Pengaduan SLRT {ticket}", "en": "SLRT complaint {ticket}"},
        text={
            "id": "SLRT: pengaduan {ticket} telah dirujuk ke {program}. Kami akan mengabari "
            "hasilnya.",
            "en": "SLRT: complaint {ticket} was referred to {program}. We will tell you the "
            "outcome.",
        },
    ),
    "complaint_outcome": Template(
        subject={"id": "Hasil pengaduan SLRT {ticket}", "en": "SLRT complaint {ticket} outcome"},
        text={
            "id": "SLRT: pengaduan {ticket} selesai. {outcome}",
            "en": "SLRT: complaint {ticket} is closed. {outcome}",
        },
        elastic="outcome",
    ),
    # The complaint workflow's names (workflows/complaint/).
    "correct_complaint": Template(
        subject={"id": "Perbaikan pengaduan SLRT {ticket}", "en": "SLRT correction {ticket}"},
        text={
            "id": "SLRT: pengaduan {ticket} dikembalikan untuk diperbaiki. {note}",
            "en": "SLRT: complaint {ticket} was returned for correction. {note}",
        },
        elastic="note",
    ),
    "ask_household": Template(
        subject={"id": "Tugas SLRT {ticket}", "en": "SLRT task {ticket}"},
        text={
            "id": "SLRT: tanyakan kepada rumah tangga (pengaduan {ticket}): {question}",
            "en": "SLRT: ask the household (complaint {ticket}): {question}",
        },
        elastic="question",
    ),
    "tell_household": Template(
        subject={"id": "Tugas SLRT {ticket}", "en": "SLRT task {ticket}"},
        text={
            "id": "SLRT: sampaikan hasil pengaduan {ticket} kepada rumah tangga. {answer}",
            "en": "SLRT: tell the household the outcome of complaint {ticket}. {answer}",
        },
        elastic="answer",
    ),
    "step_at_risk": Template(
        subject={"id": "Pengingat SLRT {ticket}", "en": "SLRT reminder {ticket}"},
        text={
            "id": "SLRT: pengingat, pengaduan {ticket} di tahap {step} jatuh tempo {due_date}.",
            "en": "SLRT: reminder, complaint {ticket} at step {step} is due {due_date}.",
        },
    ),
    "sla_breached": Template(
        subject={"id": "Eskalasi SLRT {ticket}", "en": "SLRT escalation {ticket}"},
        text={
            "id": "SLRT: ESKALASI tingkat {level}, pengaduan {ticket} melewati batas "
            "{due_date} di tahap {step}.",
            "en": "SLRT: ESCALATION level {level}, complaint {ticket} missed {due_date} at "
            "step {step}.",
        },
    ),
    "referral_reminder": Template(
        subject={"id": "Pengingat rujukan SLRT {ticket}", "en": "SLRT referral reminder {ticket}"},
        text={
            "id": "SLRT: pengingat, rujukan {ticket} menunggu jawaban Anda sebelum {due_date}.",
            "en": "SLRT: reminder, referral {ticket} awaits your answer by {due_date}.",
        },
    ),
    "referral_overdue": Template(
        subject={"id": "Rujukan SLRT {ticket} terlambat", "en": "SLRT referral {ticket} overdue"},
        text={
            "id": "SLRT: rujukan {ticket} melewati batas jawaban {due_date}. Mohon segera dijawab.",
            "en": "SLRT: referral {ticket} is past its answer date {due_date}. Please answer now.",
        },
    ),
    "referral_no_response": Template(
        subject={"id": "Eskalasi SLRT {ticket}", "en": "SLRT escalation {ticket}"},
        text={
            "id": "SLRT: ESKALASI, rujukan {ticket} tidak dijawab program sampai batas waktu.",
            "en": "SLRT: ESCALATION, referral {ticket} got no answer from the program in time.",
        },
    ),
    "referral_delivery_failed": Template(
        subject={"id": "Eskalasi SLRT {ticket}", "en": "SLRT escalation {ticket}"},
        text={
            "id": "SLRT: ESKALASI, rujukan {ticket} gagal terkirim ke program. Mohon "
            "ditindaklanjuti.",
            "en": "SLRT: ESCALATION, referral {ticket} could not be delivered to the program. "
            "Please follow up.",
        },
    ),
    "me_report_ready": Template(
        subject={"id": "Laporan SLRT {period}", "en": "SLRT report {period}"},
        text={
            "id": "SLRT: laporan {kind} {area_name} periode {period} sudah tersedia: {page_url}",
            "en": "SLRT: the {kind} report for {area_name}, {period}, is ready: {page_url}",
        },
        elastic="area_name",
    ),
    # The dashboard's reminder of a monitoring questionnaire or M&E report still to submit: a
    # staff reminder, so it waits for the person's daily digest (listed there by its ticket).
    "me_due_reminder": Template(
        subject={"id": "Pengingat pemantauan SLRT", "en": "SLRT monitoring reminder"},
        text={
            "id": "SLRT: pengingat, {ticket}. Isi dan kirim di {page_url}",
            "en": "SLRT: reminder, {ticket}. Fill in and submit at {page_url}",
        },
        elastic="ticket",
    ),
    # Household messages (workflows/household.py; params from household_params below).
    "household_registered": Template(
        subject={
            "id": "Pengaduan SLRT {ticket} tercatat",
            "en": "SLRT complaint {ticket} registered",
        },
        text={
            "id": "SLRT: pengaduan Anda tercatat, nomor {ticket}. Cek status di {track_url} "
            "dengan nomor ini + 4 angka akhir HP/kode lacak.",
            "en": "SLRT: your complaint is registered as {ticket}. Track it at {track_url} "
            "with this number + last 4 phone digits/tracking code.",
        },
    ),
    "household_information_needed": Template(
        subject={
            "id": "SLRT {ticket}: perlu keterangan",
            "en": "SLRT {ticket}: information needed",
        },
        text={
            "id": "SLRT: pengaduan {ticket} perlu keterangan Anda: {question} Sampaikan ke "
            "fasilitator desa atau Puskesos.",
            "en": "SLRT: complaint {ticket} needs information from you: {question} Tell your "
            "village facilitator or the Puskesos.",
        },
        elastic="question",
    ),
    "household_outcome": Template(
        subject={"id": "Hasil pengaduan SLRT {ticket}", "en": "SLRT complaint {ticket} outcome"},
        text={
            "id": "SLRT: pengaduan {ticket} {decision}.{note} {next}",
            "en": "SLRT: complaint {ticket} {decision}.{note} {next}",
        },
        elastic="note",
    ),
    "household_reopened": Template(
        subject={
            "id": "Pengaduan SLRT {ticket} dibuka kembali",
            "en": "SLRT complaint {ticket} reopened",
        },
        text={
            "id": "SLRT: pengaduan {ticket} dibuka kembali karena Anda belum puas dan akan "
            "ditinjau ulang. Pantau di {track_url}",
            "en": "SLRT: complaint {ticket} is reopened as you were not satisfied and will be "
            "looked at again. Track it at {track_url}",
        },
    ),
    "household_final": Template(
        subject={"id": "Pengaduan SLRT {ticket} selesai", "en": "SLRT complaint {ticket} closed"},
        text={
            "id": "SLRT: masa keberatan pengaduan {ticket} sudah lewat. Pengaduan ditutup: "
            "{decision}. Terima kasih.",
            "en": "SLRT: the objection period of complaint {ticket} is over. It is closed: "
            "{decision}. Thank you.",
        },
    ),
    "household_registry_result": Template(
        subject={
            "id": "SLRT {ticket}: hasil verifikasi data terpadu",
            "en": "SLRT {ticket}: social registry verification",
        },
        text={
            "id": "SLRT: hasil verifikasi data terpadu (SIKS-NG) untuk pengaduan {ticket}: "
            "{verdict}.{note} Info: {track_url}",
            "en": "SLRT: social registry verification (SIKS-NG) for complaint {ticket}: "
            "{verdict}.{note} Info: {track_url}",
        },
        elastic="note",
    ),
    "household_via_facilitator": Template(
        subject={"id": "Tugas SLRT {ticket}", "en": "SLRT task {ticket}"},
        text={
            "id": "SLRT: rumah tangga pengaduan {ticket} tanpa HP/email. Mohon sampaikan: "
            "{message}",
            "en": "SLRT: the household of complaint {ticket} has no phone/email. Please tell "
            "them: {message}",
        },
        elastic="message",
    ),
    "notice": Template(
        subject={"id": "Pemberitahuan SLRT", "en": "SLRT notice"},
        text={
            "id": "SLRT: ada pemberitahuan baru untuk Anda. {ticket}",
            "en": "SLRT: there is a new notice for you. {ticket}",
        },
    ),
    "digest": Template(
        subject={"id": "Rekap harian SLRT", "en": "SLRT daily digest"},
        text={
            "id": "SLRT: {count} hal menunggu tindakan Anda. {tickets}",
            "en": "SLRT: {count} items await your action. {tickets}",
        },
        elastic="tickets",
    ),
}

DEFAULT_FOR_KIND: dict[NotificationKind, str] = {
    NotificationKind.REMINDER: "reminder",
    NotificationKind.ESCALATION: "escalation",
    NotificationKind.FACILITATOR_TASK: "facilitator_task",
    NotificationKind.HOUSEHOLD_MESSAGE: "complaint_outcome",
    NotificationKind.ANSWER_LINK: "referral_answer_link",
    NotificationKind.REFERRAL: "referral_answer_link",
    NotificationKind.REPORT: "me_report_ready",
}


def template_for(name: str, kind: NotificationKind) -> Template:
    """The named template, or the kind's default when the name is unknown."""
    return TEMPLATES.get(name) or TEMPLATES[DEFAULT_FOR_KIND.get(kind, "notice")]


def to_gsm(text: str) -> str:
    """Plain ASCII (the GSM-7 safe subset): accents dropped, typographic marks replaced."""
    replaced = (
        text.replace("\u2026", ELLIPSIS)
        .replace("\u2013", "-")
        .replace("\u2014", "-")
        .replace("\u2018", "'")
        .replace("\u2019", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
    )
    decomposed = unicodedata.normalize("NFKD", replaced)
    return "".join(c for c in decomposed if c.isascii() and (c.isprintable() or c == "\n"))


def _fill(pattern: str, params: Mapping[str, Any]) -> str:
    names = [field for _, field, _, _ in string.Formatter().parse(pattern) if field]
    values = {name: to_gsm(str(params.get(name, "-"))) for name in names}
    return pattern.format(**values)


def render_text(template: Template, params: Mapping[str, Any], language: Language) -> str:
    """The full text (for email bodies)."""
    return _fill(template.text[language], params).strip()


def render_subject(template: Template, params: Mapping[str, Any], language: Language) -> str:
    return _fill(template.subject[language], params)


def render_sms(
    template: Template, params: Mapping[str, Any], language: Language, max_length: int
) -> str:
    """The text as one SMS of at most ``max_length`` characters (the elastic part shortened,
    and as a last resort the whole text cut)."""
    text = render_text(template, params, language)
    if len(text) <= max_length:
        return text
    if template.elastic is not None:
        value = to_gsm(str(params.get(template.elastic, "")))
        room = max_length - (len(text) - len(value)) - len(ELLIPSIS)
        if room > 0:
            shortened = {**params, template.elastic: value[:room].rstrip() + ELLIPSIS}
            text = render_text(template, shortened, language)
            if len(text) <= max_length:
                return text
    return text[: max_length - len(ELLIPSIS)].rstrip() + ELLIPSIS


HOUSEHOLD_TEMPLATES = frozenset(
    {
        "household_registered",
        "household_information_needed",
        "household_outcome",
        "household_reopened",
        "household_final",
        "household_registry_result",
    }
)

_DECISIONS: dict[Language, dict[str, str]] = {
    "id": {
        "answered": "telah dijawab oleh SLRT",
        "resolved_locally": "telah diselesaikan oleh SLRT",
        "referral_accepted": "diterima oleh program {by}",
        "referral_rejected": "ditolak oleh program {by}",
        "duplicate": "ditutup oleh SLRT karena sama dengan pengaduan {other}",
        "withdrawn": "dicabut oleh SLRT",
        "registry_accepted": "diterima dalam verifikasi data terpadu (SIKS-NG)",
        "registry_rejected": "ditolak dalam verifikasi data terpadu (SIKS-NG)",
    },
    "en": {
        "answered": "was answered by SLRT",
        "resolved_locally": "was resolved by SLRT",
        "referral_accepted": "was accepted by the {by} program",
        "referral_rejected": "was rejected by the {by} program",
        "duplicate": "was closed by SLRT as a duplicate of complaint {other}",
        "withdrawn": "was withdrawn by SLRT",
        "registry_accepted": "was accepted by the social registry's verification (SIKS-NG)",
        "registry_rejected": "was rejected by the social registry's verification (SIKS-NG)",
    },
}
_NEXT: dict[Language, dict[bool, str]] = {
    "id": {
        True: "Tidak puas? Sampaikan ke fasilitator desa atau {track_url}",
        False: "Pengaduan selesai.",
    },
    "en": {
        True: "Not satisfied? Tell your facilitator or {track_url}",
        False: "The complaint is closed.",
    },
}


_VERDICTS: dict[Language, dict[tuple[str, str], str]] = {
    "id": {
        ("prelist", "accepted"): "Anda telah terdaftar dalam data terpadu",
        ("prelist", "rejected"): "pendaftaran Anda dalam data terpadu ditolak",
        ("prelist", "revisit"): "data Anda perlu diperiksa ulang, fasilitator desa akan datang",
        ("change", "accepted"): "usulan perbaikan data Anda diterima",
        ("change", "rejected"): "usulan perbaikan data Anda ditolak",
        ("change", "revisit"): "usulan perbaikan data perlu diperiksa ulang, fasilitator "
        "desa akan datang",
    },
    "en": {
        ("prelist", "accepted"): "you are now in the social registry",
        ("prelist", "rejected"): "your registration in the social registry was rejected",
        ("prelist", "revisit"): "your data must be checked again; the village facilitator "
        "will visit",
        ("change", "accepted"): "the correction of your data was accepted",
        ("change", "rejected"): "the correction of your data was rejected",
        ("change", "revisit"): "the correction of your data must be checked again; the "
        "village facilitator will visit",
    },
}


def verdict_text(params: Mapping[str, Any], language: Language) -> str:
    """SIKS-NG's verdict on what the complaint proposed to the registry, in words."""
    key = (str(params.get("kind") or "change"), str(params.get("result") or ""))
    fallback = "sudah ada hasilnya" if language == "id" else "the result is in"
    return _VERDICTS[language].get(key, fallback)


def decision_text(params: Mapping[str, Any], language: Language) -> str:
    """What was decided and by whom (an office or a program, never a person)."""
    outcome = str(params.get("outcome") or "")
    pattern = _DECISIONS[language].get(outcome)
    if pattern is None:
        return "telah diputuskan" if language == "id" else "was decided"
    by = str(params.get("decided_by") or "SLRT")
    return pattern.format(by=by, other=params.get("duplicate_of") or "lain")


def household_params(
    params: Mapping[str, Any], language: Language, track_url: str
) -> dict[str, Any]:
    """A household message's parameters put into words: ``decision``, ``next`` (whether and
    where the household may still object), the ``note`` with its leading space, ``track_url``."""
    found = dict(params)
    found["track_url"] = track_url
    found["decision"] = decision_text(params, language)
    found["verdict"] = verdict_text(params, language)
    found["next"] = _NEXT[language][bool(params.get("reopenable"))].format(track_url=track_url)
    note = str(params.get("note") or params.get("reason") or "").strip()
    if note and note[-1] not in ".!?":
        note += "."
    found["note"] = f" {note}" if note else ""
    return found
