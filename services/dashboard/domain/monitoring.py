"""The monitoring cycle of the guideline's chapter VII, as plain rules: the questionnaire
(kuesioner pemantauan) kept by Setnas and extended by provinces and districts, its answers
checked question by question, the quarter of a round, and the one state machine a round and a
monthly report both follow on their way up (draft → submitted → returned with a comment →
submitted → accepted by a level above)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from services.dashboard.domain.periods import Period, period_of
from services.dashboard.domain.suppression import suppress_column
from slrt.errors import Conflict, FieldError, Invalid, Refused, field_error

Status = Literal["draft", "submitted", "returned", "accepted"]
STATUSES: tuple[Status, ...] = ("draft", "submitted", "returned", "accepted")
Action = Literal["save", "submit", "return", "accept"]
ANSWER_TYPES = ("yes_no", "choice", "number", "text", "scale")
PREFILLS = ("visits_done", "captured_at_visits", "registry_updates", "tasks_overdue")
"""Facilitator-activity figures the system fills in (``monitoring.prefill``)."""
TEXT_MAX = 2000

STATUS_NAMES = {
    "draft": ("Draf", "Draft"),
    "submitted": ("Dikirim", "Submitted"),
    "returned": ("Dikembalikan", "Returned"),
    "accepted": ("Diterima", "Accepted"),
    "missing": ("Belum ada", "Missing"),
}


# --- the instrument -------------------------------------------------------------------------


def _q(qid: str, text: str, kind: str, required: bool = True, **extra: Any) -> dict[str, Any]:
    return {"id": qid, "text": text, "type": kind, "required": required, **extra}


NATIONAL_INSTRUMENT: list[dict[str, Any]] = [
    {
        "id": "kegiatan",
        "title": "Pelaksanaan kegiatan sesuai rencana",
        "questions": [
            _q(
                "kegiatan_sesuai_rencana",
                "Apakah kegiatan SLRT triwulan ini terlaksana sesuai rencana?",
                "yes_no",
            ),
            _q(
                "kegiatan_persentase",
                "Berapa persen kegiatan yang direncanakan sudah terlaksana?",
                "choice",
                options=["<25%", "25-50%", "51-75%", ">75%"],
            ),
            _q(
                "kunjungan_rumah",
                "Jumlah kunjungan rumah dan penyampaian hasil oleh fasilitator (dari sistem)",
                "number",
                prefill="visits_done",
            ),
            _q(
                "keluhan_dari_kunjungan",
                "Jumlah keluhan yang dicatat saat kunjungan rumah (dari sistem)",
                "number",
                prefill="captured_at_visits",
            ),
            _q(
                "kegiatan_belum_terlaksana",
                "Kegiatan yang belum terlaksana dan alasannya",
                "text",
                required=False,
            ),
        ],
    },
    {
        "id": "pemutakhiran",
        "title": "Pemutakhiran data oleh fasilitator",
        "questions": [
            _q(
                "update_data",
                "Jumlah usulan daftar awal dan perubahan data yang diinput (dari sistem)",
                "number",
                prefill="registry_updates",
            ),
            _q(
                "tugas_terlambat",
                "Jumlah tugas fasilitator yang melewati batas waktu (dari sistem)",
                "number",
                prefill="tasks_overdue",
            ),
            _q("update_tepat_waktu", "Apakah pemutakhiran data dilakukan tepat waktu?", "yes_no"),
        ],
    },
    {
        "id": "kemampuan",
        "title": "Kemampuan fasilitator menggunakan tablet dan aplikasi",
        "questions": [
            _q(
                "kemampuan_tablet",
                "Kemampuan fasilitator menggunakan tablet (1 = sangat kurang, 5 = sangat baik)",
                "scale",
                min=1,
                max=5,
            ),
            _q(
                "kemampuan_aplikasi",
                "Kemampuan fasilitator mengoperasikan aplikasi SLRT "
                "(1 = sangat kurang, 5 = sangat baik)",
                "scale",
                min=1,
                max=5,
            ),
            _q("perlu_pelatihan", "Apakah fasilitator memerlukan pelatihan tambahan?", "yes_no"),
        ],
    },
    {
        "id": "tantangan",
        "title": "Tantangan yang dihadapi",
        "questions": [
            _q(
                "tantangan_utama",
                "Tantangan utama triwulan ini",
                "choice",
                options=[
                    "anggaran",
                    "sumber daya manusia",
                    "sarana dan prasarana",
                    "koordinasi",
                    "regulasi",
                    "lainnya",
                ],
            ),
            _q("tantangan_uraian", "Uraian tantangan dan upaya yang dilakukan", "text"),
        ],
    },
]
"""Setnas's questionnaire, version 1 (Pedoman Umum SLRT, II.F and VII.A.1: whether activities
were done as planned, how many data updates facilitators entered, facilitators' skill with the
tablet and the application; and the challenges met)."""


def check_instrument(sections: Any, *, national: bool) -> list[dict[str, Any]]:
    """A new version of an instrument (Setnas's whole questionnaire, or a province's or
    district's own questions), checked; raises Invalid naming each broken rule."""
    errors: list[FieldError] = []
    if not isinstance(sections, list) or not sections:
        raise Invalid(errors=[field_error("sections", "required", "at least one section")])
    seen: set[str] = set()
    for s, section in enumerate(sections):
        where = f"sections[{s}]"
        if not isinstance(section, dict):
            errors.append(field_error(where, "type", "an object"))
            continue
        if not str(section.get("id", "")).isidentifier():
            errors.append(field_error(f"{where}.id", "pattern", "letters, digits and _"))
        if not str(section.get("title", "")).strip():
            errors.append(field_error(f"{where}.title", "required", "a title"))
        questions = section.get("questions")
        if not isinstance(questions, list) or not questions:
            errors.append(field_error(f"{where}.questions", "required", "at least one question"))
            continue
        for n, q in enumerate(questions):
            errors.extend(_check_question(q, f"{where}.questions[{n}]", seen, national))
    if errors:
        raise Invalid("the instrument is not valid", errors=errors)
    return [
        {
            "id": s["id"],
            "title": str(s["title"]).strip(),
            "questions": [_normal_question(q) for q in s["questions"]],
        }
        for s in sections
    ]


def _check_question(q: Any, where: str, seen: set[str], national: bool) -> list[FieldError]:
    if not isinstance(q, dict):
        return [field_error(where, "type", "an object")]
    errors: list[FieldError] = []
    qid = str(q.get("id", ""))
    if not qid.isidentifier():
        errors.append(field_error(f"{where}.id", "pattern", "letters, digits and _"))
    elif qid in seen:
        errors.append(field_error(f"{where}.id", "unique", "another question has this id"))
    seen.add(qid)
    if not str(q.get("text", "")).strip():
        errors.append(field_error(f"{where}.text", "required", "the question's text"))
    kind = q.get("type")
    if kind not in ANSWER_TYPES:
        errors.append(field_error(f"{where}.type", "enum", " or ".join(ANSWER_TYPES)))
    if kind == "choice":
        options = q.get("options")
        if (
            not isinstance(options, list)
            or len(options) < 2
            or not all(isinstance(o, str) and o.strip() for o in options)
        ):
            errors.append(field_error(f"{where}.options", "required", "two or more options"))
    if kind == "scale":
        low, high = q.get("min", 1), q.get("max", 5)
        if not (isinstance(low, int) and isinstance(high, int) and low < high):
            errors.append(field_error(f"{where}.max", "range", "whole numbers with min < max"))
    prefill = q.get("prefill")
    if prefill is not None and (prefill not in PREFILLS or kind != "number"):
        errors.append(
            field_error(f"{where}.prefill", "enum", f"a number question; {', '.join(PREFILLS)}")
        )
    if "required" in q and not isinstance(q["required"], bool):
        errors.append(field_error(f"{where}.required", "type", "true or false"))
    return errors


def _normal_question(q: dict[str, Any]) -> dict[str, Any]:
    out = {"id": q["id"], "text": str(q["text"]).strip(), "type": q["type"]}
    out["required"] = bool(q.get("required", True))
    if q["type"] == "choice":
        out["options"] = [str(o).strip() for o in q["options"]]
    if q["type"] == "scale":
        out["min"], out["max"] = q.get("min", 1), q.get("max", 5)
    if q.get("prefill"):
        out["prefill"] = q["prefill"]
    return out


def ancestry(area: str) -> list[str]:
    """The areas whose instruments an area's questionnaire carries: national, then its
    province, then its district."""
    return [""] + [area[:n] for n in (2, 4) if len(area) >= n]


def assemble(instruments: Mapping[str, tuple[int, list[dict[str, Any]]]]) -> dict[str, Any]:
    """The form of a round: the national sections, then each extending area's own questions.
    An extension's answers are keyed ``<area>.<question id>`` so they never collide with the
    national instrument's (whose keys are the plain ids)."""
    sections: list[dict[str, Any]] = []
    versions: dict[str, int] = {}
    for area in sorted(instruments, key=len):
        version, own = instruments[area]
        versions[area] = version
        for section in own:
            questions = [
                {**q, "key": q["id"] if area == "" else f"{area}.{q['id']}"}
                for q in section["questions"]
            ]
            sections.append({**section, "area": area, "questions": questions})
    return {"versions": versions, "sections": sections}


def questions(form: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["key"]: q for section in form["sections"] for q in section["questions"]}


def check_answers(
    form: Mapping[str, Any], answers: Mapping[str, Any], *, complete: bool
) -> dict[str, Any]:
    """Answers to a round's form, normalised (yes/no → bool, numbers → int); raises Invalid
    naming each question and the rule it breaks. ``complete`` (on submission): every required
    question answered."""
    known = questions(form)
    errors: list[FieldError] = []
    checked: dict[str, Any] = {}
    for key in answers:
        if key not in known:
            errors.append(field_error(f"answers.{key}", "unknown", "not a question of this form"))
    for key, q in known.items():
        raw = answers.get(key)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if complete and q["required"]:
                errors.append(field_error(f"answers.{key}", "required", f"answer: {q['text']}"))
            continue
        value, problem = _answer(q, raw)
        if problem:
            errors.append(field_error(f"answers.{key}", problem[0], problem[1]))
        else:
            checked[key] = value
    if errors:
        raise Invalid("some answers are not valid", errors=errors)
    return checked


def _answer(q: Mapping[str, Any], raw: Any) -> tuple[Any, tuple[str, str] | None]:
    kind = q["type"]
    if kind == "yes_no":
        if isinstance(raw, bool):
            return raw, None
        word = str(raw).strip().lower()
        if word in ("ya", "yes", "true"):
            return True, None
        if word in ("tidak", "no", "false"):
            return False, None
        return None, ("yes_no", "ya or tidak")
    if kind == "choice":
        if raw in q["options"]:
            return raw, None
        return None, ("choice", "one of: " + "; ".join(q["options"]))
    if kind in ("number", "scale"):
        number = _whole(raw)
        low, high = (q["min"], q["max"]) if kind == "scale" else (0, None)
        if number is None:
            return None, ("integer", "a whole number")
        if number < low or (high is not None and number > high):
            upper = f" to {high}" if high is not None else " or more"
            return None, ("range", f"from {low}{upper}")
        return number, None
    text = str(raw).strip()
    if len(text) > TEXT_MAX:
        return None, ("max_length", f"at most {TEXT_MAX} characters")
    return text, None


def _whole(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


# --- periods ---------------------------------------------------------------------------------


def parse_quarter(text: str) -> Period:
    """``2026-Q4`` → the quarter; raises Invalid naming ``quarter``."""
    try:
        year, q = text.split("-Q")
        number = int(q)
        if not 1 <= number <= 4:
            raise ValueError
        return period_of("quarterly", date(int(year), 3 * number - 2, 1))
    except ValueError:
        raise Invalid(errors=[field_error("quarter", "format", "YYYY-Qn, n 1 to 4")]) from None


def quarter_label(period: Period) -> str:
    return f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"


DUE_DAYS = {4: 10, 2: 20, 0: 30}
"""Days after a period ends by which an area's submission is due: the district first, then the
province (which reads its districts'), then the national summary."""


def due_on(area: str, period_end: date) -> date:
    return period_end + timedelta(days=DUE_DAYS.get(min(len(area), 4), 10))


def is_late(status: str | None, due: date, submitted_on: date | None, today: date) -> bool:
    """Late: not submitted (or accepted) by its due day, or submitted after it."""
    if status in ("submitted", "accepted") and submitted_on is not None:
        return submitted_on > due
    return today > due


# --- the way up ------------------------------------------------------------------------------

Relation = Literal["own", "above"]


def relation(viewer_area: str, area: str) -> Relation | None:
    """The area's own organisers, or a level above it (who accepts or returns)."""
    if viewer_area == area:
        return "own"
    if area.startswith(viewer_area) and len(viewer_area) < len(area):
        return "above"
    return None


def next_status(current: str, action: Action, who: Relation | None, comment: str = "") -> Status:
    """What ``action`` by ``who`` makes of a submission in ``current``; raises Refused (not
    theirs to do) or Conflict (not in a state that allows it)."""
    if action in ("save", "submit"):
        if who != "own":
            raise Refused("only the area's own organisers fill in and submit")
        if current not in ("draft", "returned"):
            raise Conflict(f"already {current}", kind="wrong-status")
        return (
            "submitted"
            if action == "submit"
            else ("returned" if current == "returned" else "draft")
        )
    if who != "above":
        raise Refused("only a level above returns or accepts")
    if current != "submitted":
        raise Conflict(f"{current}, not submitted", kind="wrong-status")
    if action == "return":
        if not comment.strip():
            raise Invalid(errors=[field_error("comment", "required", "say what to correct")])
        return "returned"
    return "accepted"


# --- the quarterly summary -------------------------------------------------------------------


@dataclass(frozen=True)
class AnsweredRound:
    area: str
    status: str
    answers: Mapping[str, Any]


def child_of(area: str, parent: str) -> str:
    """The part of ``area`` one level below ``parent`` (or ``area`` itself)."""
    length = {0: 2, 2: 4}.get(len(parent), len(area))
    return area[:length]


def summarise(
    form: Mapping[str, Any], rounds: Sequence[AnsweredRound], parent: str, suppress: bool
) -> dict[str, Any]:
    """The quarter's answers in ``parent``: per child area how many rounds were answered and
    their figures; per closed question (yes/no, choice, scale) how many areas chose each
    answer. Only submitted or accepted rounds count. Counts of areas are small-cell suppressed
    for viewers above the district (a district's answer is its organisers')."""
    rounds = [r for r in rounds if r.area.startswith(parent)]
    counted = [r for r in rounds if r.status in ("submitted", "accepted")]
    children: dict[str, dict[str, Any]] = {}
    for r in rounds:
        child = children.setdefault(
            child_of(r.area, parent), {"rounds": 0, "answered": 0, "numbers": {}}
        )
        child["rounds"] += 1
        if r in counted:
            child["answered"] += 1
            for key, q in questions(form).items():
                if q["type"] == "number" and isinstance(r.answers.get(key), int):
                    child["numbers"][key] = child["numbers"].get(key, 0) + r.answers[key]
    closed = []
    for key, q in questions(form).items():
        if q["type"] not in ("yes_no", "choice", "scale"):
            continue
        if q["type"] == "yes_no":
            options: list[Any] = [True, False]
        elif q["type"] == "choice":
            options = list(q["options"])
        else:
            options = list(range(q["min"], q["max"] + 1))
        counts = [sum(1 for r in counted if r.answers.get(key) == o) for o in options]
        shown = suppress_column(counts) if suppress else list(counts)
        labels = ["ya" if o is True else "tidak" if o is False else str(o) for o in options]
        closed.append(
            {"key": key, "text": q["text"], "counts": list(zip(labels, shown, strict=True))}
        )
    return {"children": children, "closed": closed, "answered": len(counted)}
