"""The monitoring cycle's rules as plain functions: the instrument and its extensions, answers
checked question by question, the way up (who may do what, in which state), lateness, and the
quarterly summary's small cells."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.dashboard.domain import monitoring as rules
from services.dashboard.domain.monitoring import AnsweredRound
from slrt.errors import Conflict, Invalid, Refused

EXTENSION = [
    {
        "id": "lokal",
        "title": "Pertanyaan kabupaten",
        "questions": [
            {"id": "rakor", "text": "Rakor bulanan diadakan?", "type": "yes_no"},
            {"id": "catatan", "text": "Catatan", "type": "text", "required": False},
        ],
    }
]


def _form(with_district: bool = True) -> dict[str, Any]:
    national = rules.check_instrument(rules.NATIONAL_INSTRUMENT, national=True)
    instruments = {"": (1, national)}
    if with_district:
        instruments["3204"] = (2, rules.check_instrument(EXTENSION, national=False))
    return rules.assemble(instruments)


def _complete_answers(form: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for key, q in rules.questions(form).items():
        answers[key] = {
            "yes_no": "ya",
            "choice": (q.get("options") or ["x"])[0],
            "number": "3",
            "text": "cukup",
            "scale": 4,
        }[q["type"]]
    return answers


def test_the_national_instrument_covers_the_guideline_and_extensions_get_their_own_keys() -> None:
    form = _form()
    assert form["versions"] == {"": 1, "3204": 2}
    keys = rules.questions(form)
    assert {"kegiatan_sesuai_rencana", "kemampuan_tablet", "tantangan_uraian"} <= set(keys)
    assert keys["3204.rakor"]["type"] == "yes_no"  # never collides with a national id
    prefilled = {q["prefill"] for q in keys.values() if q.get("prefill")}
    assert prefilled == set(rules.PREFILLS)
    assert rules.ancestry("3204") == ["", "32", "3204"]
    assert rules.ancestry("32") == ["", "32"]
    assert rules.ancestry("") == [""]


def test_a_bad_instrument_names_each_broken_rule() -> None:
    bad = [
        {
            "id": "s",
            "title": "T",
            "questions": [
                {"id": "a", "text": "A", "type": "choice", "options": ["only"]},
                {"id": "a", "text": "B", "type": "colour"},
                {"id": "c", "text": "C", "type": "text", "prefill": "visits_done"},
            ],
        }
    ]
    with pytest.raises(Invalid) as caught:
        rules.check_instrument(bad, national=False)
    found = {(e["field"], e["rule"]) for e in caught.value.errors}
    assert found == {
        ("sections[0].questions[0].options", "required"),
        ("sections[0].questions[1].id", "unique"),
        ("sections[0].questions[1].type", "enum"),
        ("sections[0].questions[2].prefill", "enum"),
    }


def test_answers_are_checked_question_by_question() -> None:
    form = _form()
    draft = rules.check_answers(form, {"kegiatan_sesuai_rencana": "tidak"}, complete=False)
    assert draft == {"kegiatan_sesuai_rencana": False}
    with pytest.raises(Invalid) as caught:
        rules.check_answers(
            form,
            {
                "kemampuan_tablet": "9",
                "kegiatan_persentase": "semua",
                "kunjungan_rumah": "-1",
                "update_data": "banyak",
                "perlu_pelatihan": "mungkin",
                "nope": 1,
            },
            complete=True,
        )
    errors = {e["field"]: e["rule"] for e in caught.value.errors}
    assert errors["answers.kemampuan_tablet"] == "range"
    assert errors["answers.kegiatan_persentase"] == "choice"
    assert errors["answers.kunjungan_rumah"] == "range"
    assert errors["answers.update_data"] == "integer"
    assert errors["answers.perlu_pelatihan"] == "yes_no"
    assert errors["answers.nope"] == "unknown"
    assert errors["answers.3204.rakor"] == "required"
    assert "answers.3204.catatan" not in errors  # not required
    full = rules.check_answers(form, _complete_answers(form), complete=True)
    assert full["kunjungan_rumah"] == 3
    assert full["3204.rakor"] is True


def test_the_way_up() -> None:
    assert rules.relation("3204", "3204") == "own"
    assert rules.relation("32", "3204") == "above"
    assert rules.relation("", "32") == "above"
    assert rules.relation("3273", "3204") is None
    assert rules.next_status("draft", "save", "own") == "draft"
    assert rules.next_status("draft", "submit", "own") == "submitted"
    assert rules.next_status("submitted", "return", "above", "isi ulang") == "returned"
    assert rules.next_status("returned", "save", "own") == "returned"
    assert rules.next_status("returned", "submit", "own") == "submitted"
    assert rules.next_status("submitted", "accept", "above") == "accepted"
    with pytest.raises(Refused):
        rules.next_status("submitted", "accept", "own")
    with pytest.raises(Refused):
        rules.next_status("draft", "submit", "above")
    with pytest.raises(Conflict):
        rules.next_status("accepted", "submit", "own")
    with pytest.raises(Conflict):
        rules.next_status("draft", "accept", "above")
    with pytest.raises(Invalid) as caught:
        rules.next_status("submitted", "return", "above", "  ")
    assert caught.value.errors[0]["field"] == "comment"


def test_due_days_and_lateness() -> None:
    end = date(2026, 11, 30)
    assert rules.due_on("3204", end) == date(2026, 12, 10)
    assert rules.due_on("32", end) == date(2026, 12, 20)
    assert rules.due_on("", end) == date(2026, 12, 30)
    due = date(2026, 12, 10)
    assert not rules.is_late("draft", due, None, date(2026, 12, 10))
    assert rules.is_late("draft", due, None, date(2026, 12, 11))
    assert rules.is_late("submitted", due, date(2026, 12, 12), date(2026, 12, 12))
    assert not rules.is_late("accepted", due, date(2026, 12, 9), date(2027, 1, 5))
    assert rules.parse_quarter("2026-Q4").start == date(2026, 10, 1)
    assert rules.quarter_label(rules.parse_quarter("2026-Q2")) == "2026-Q2"
    with pytest.raises(Invalid):
        rules.parse_quarter("2026-Q5")


def test_the_summary_counts_areas_and_hides_small_cells_above_the_district() -> None:
    form = _form(with_district=False)
    answers = rules.check_answers(form, _complete_answers(form), complete=True)
    no_skill = {**answers, "perlu_pelatihan": False}
    rounds = [AnsweredRound(f"32{n:02d}", "accepted", answers) for n in range(1, 8)]
    rounds.append(AnsweredRound("3290", "submitted", no_skill))
    rounds.append(AnsweredRound("3291", "draft", {}))  # not counted until submitted
    rounds.append(AnsweredRound("3301", "accepted", answers))
    full = rules.summarise(form, rounds, "", suppress=False)
    training = next(c for c in full["closed"] if c["key"] == "perlu_pelatihan")
    assert training["counts"] == [("ya", 8), ("tidak", 1)]
    assert full["children"]["32"] == {
        "rounds": 9,
        "answered": 8,
        "numbers": {
            k: 24
            for k in ("kunjungan_rumah", "keluhan_dari_kunjungan", "update_data", "tugas_terlambat")
        },
    }
    hidden = rules.summarise(form, rounds, "", suppress=True)
    training = next(c for c in hidden["closed"] if c["key"] == "perlu_pelatihan")
    # One area said no: hidden, and the other cell too (it would give it away from the total).
    assert training["counts"] == [("ya", None), ("tidak", None)]
    assert set(rules.summarise(form, rounds, "32", suppress=True)["children"]) == {
        f"32{n:02d}" for n in range(1, 8)
    } | {"3290", "3291"}


def test_a_reminder_is_a_staff_reminder_the_notifier_keeps_for_the_digest() -> None:
    import uuid

    from services.dashboard.monitoring import _reminder
    from services.dashboard.settings import DashboardSettings
    from services.notifier import templates
    from services.notifier.domain import is_digest

    round_id = uuid.uuid4()
    row = {
        "what": "round",
        "id": round_id,
        "area": "3204",
        "start": date(2026, 10, 1),
        "kind": "quarterly",
        "due_on": date(2027, 1, 10),
    }
    request = _reminder(DashboardSettings(), row, "due_soon", "manager:3204")
    assert is_digest(request)  # kind reminder, not breached: the daily digest (rekap harian)
    assert request.request_id == uuid.uuid5(round_id, "due_soon:manager:3204")
    assert request.params["ticket"] == (
        "Kuesioner pemantauan 2026-Q4 Kabupaten Bandung (jatuh tempo 2027-01-10)"
    )
    text = templates.render_text(
        templates.template_for(request.template, request.kind), request.params, "id"
    )
    assert text.startswith("SLRT: pengingat, Kuesioner pemantauan 2026-Q4 Kabupaten Bandung")
    assert text.endswith(f"/monitoring/rounds/{round_id}")
