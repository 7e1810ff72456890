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
            "id": "SLRT: {count} pengaduan menunggu tindakan Anda: {tickets}",
            "en": "SLRT: {count} complaints await your action: {tickets}",
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
