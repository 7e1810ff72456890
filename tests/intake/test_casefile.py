"""The case file's plain rules: the complainant as recorded, the referral history folded from the
timeline, the facilitator's visit task, and what each read discloses."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.intake.casefile import (
    complainant,
    detail_fields,
    referral_history,
    task_fields,
    visit_person,
    visit_task,
)
from services.intake.schemas import VisitPerson

T0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def entry(
    seq: int,
    from_step: str | None,
    to_step: str,
    reason: str | None,
    *,
    actor: str = "system",
    role: str = "system",
    code: str | None = None,
    **details: Any,
) -> dict[str, Any]:
    return {
        "sequence": seq,
        "from_step": from_step,
        "to_step": to_step,
        "actor": actor,
        "actor_role": role,
        "at": T0 + timedelta(hours=seq),
        "reason": reason,
        "decision_code": code,
        "details": details,
    }


def referred(seq: int, destination: str, referral_id: uuid.UUID, **more: Any) -> dict[str, Any]:
    return entry(
        seq,
        "manager_approval",
        "referred",
        "referral_approved",
        actor="mgr-1",
        role="manager",
        destination=destination,
        channel="direct",
        referral_id=str(referral_id),
        **more,
    )


def answered(
    seq: int, from_step: str, to_step: str, reason: str, code: str, **details: Any
) -> dict[str, Any]:
    return entry(
        seq,
        from_step,
        to_step,
        reason,
        actor="program:X",
        role="program_manager",
        code=code,
        **details,
    )


def test_a_referral_answered_after_a_review_keeps_both_answers_and_their_notes() -> None:
    rid = uuid.uuid4()
    history = referral_history(
        [
            entry(1, None, "received", "submitted"),
            entry(2, "back_office", "manager_approval", "referral_proposed", actor="bo-1"),
            referred(3, "PKH", rid),
            entry(4, "referred", "referred", "referral_delivered", channel="webhook"),
            answered(
                5,
                "referred",
                "under_review",
                "under_review",
                "under_review",
                note="Sedang dicek",
                expected_date="2026-12-01",
                destination="PKH",
            ),
            answered(
                6,
                "under_review",
                "feedback",
                "referral_accepted",
                "accepted",
                note="Akan dibayarkan bulan depan",
                destination="PKH",
            ),
        ]
    )
    assert len(history) == 1
    referral = history[0]
    assert referral.referral_id == rid
    assert referral.destination == "PKH"
    assert referral.approved_by == "mgr-1"
    assert referral.approval_note is None
    assert referral.delivered is True
    assert [(a.decision.value, a.note) for a in referral.answers] == [
        ("under_review", "Sedang dicek"),
        ("accepted", "Akan dibayarkan bulan depan"),
    ]
    assert referral.answers[0].expected_date == date(2026, 12, 1)
    assert referral.ended == "accepted"
    assert referral.ended_at == T0 + timedelta(hours=6)


def test_several_referrals_each_end_their_own_way() -> None:
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    history = referral_history(
        [
            referred(1, "BPNT", first, note="Segera"),
            answered(
                2,
                "referred",
                "back_office",
                "not_responsible",
                "not_responsible",
                suggested_destination="PKH",
            ),
            referred(3, "PKH", second),
            entry(4, "referred", "back_office", "no_response", code="no_response"),
            referred(5, "PKH", third),
            entry(6, "referred", "back_office", "delivery_failed", channel="webhook"),
            referred(7, "PKH", uuid.uuid4()),
            entry(8, "referred", "withdrawn", "Salah input", actor="bo-1", role="back_office"),
        ]
    )
    assert [(r.destination, r.ended) for r in history] == [
        ("BPNT", "not_responsible"),
        ("PKH", "no_response"),
        ("PKH", "delivery_failed"),
        ("PKH", "withdrawn"),
    ]
    assert history[0].answers[0].suggested_destination == "PKH"
    assert history[0].approval_note == "Segera"
    assert history[2].delivered is False


def test_a_referral_waiting_has_no_end_and_no_referral_means_no_history() -> None:
    waiting = referral_history([referred(1, "PKH", uuid.uuid4())])
    assert waiting[0].ended is None
    assert waiting[0].answers == []
    assert referral_history([entry(1, None, "received", "submitted")]) == []


def test_transitions_recorded_before_details_were_kept_still_fold() -> None:
    old = referred(1, "PKH", uuid.uuid4())
    old["details"] = {}
    history = referral_history([old])
    assert history[0].destination is None
    assert history[0].referral_id is None


def test_the_visit_task_asks_the_back_offices_question() -> None:
    timeline = [
        entry(
            1,
            "back_office",
            "awaiting_information",
            "information_requested",
            question="Berapa jumlah anggota keluarga?",
        ),
    ]
    task = visit_task("awaiting_information", timeline)
    assert task.do == "ask_question"
    assert task.question == "Berapa jumlah anggota keluarga?"


def test_the_visit_task_tells_the_outcome_with_what_to_pass_on() -> None:
    resolved = visit_task(
        "feedback",
        [
            entry(
                1,
                "back_office",
                "feedback",
                "resolved_locally",
                actor="bo-1",
                role="back_office",
                answer="Sudah didaftarkan ulang",
            )
        ],
    )
    assert (resolved.do, resolved.outcome, resolved.message, resolved.program) == (
        "tell_outcome",
        "resolved_locally",
        "Sudah didaftarkan ulang",
        None,
    )
    accepted = visit_task(
        "feedback",
        [
            referred(1, "PKH", uuid.uuid4()),
            answered(
                2,
                "referred",
                "feedback",
                "referral_accepted",
                "accepted",
                destination="PKH",
                note="Dibayar bulan depan",
            ),
            entry(
                3, "feedback", "feedback", "household_not_reached", actor="f-1", role="facilitator"
            ),
        ],
    )
    assert (accepted.outcome, accepted.program, accepted.message) == (
        "referral_accepted",
        "PKH",
        "Dibayar bulan depan",
    )
    assert visit_task("feedback", []).do == "tell_outcome"


RECORDED = {
    "anonymous": False,
    "complainant": {
        "nik": "3204054107850003",
        "kk_number": None,
        "name": "Siti Aminah",
        "sex": "female",
        "birth_date": "1985-07-01",
        "address": "Kp. Sukamaju RT 01 RW 02",
        "village_code": "3204052001",
    },
    "phone": "081234567890",
}


def test_the_complainant_as_recorded_and_nothing_for_anonymous_reports() -> None:
    person = complainant(RECORDED)
    assert person is not None
    assert (person.name, person.nik, person.phone) == (
        "Siti Aminah",
        "3204054107850003",
        "081234567890",
    )
    assert person.birth_date == date(1985, 7, 1)
    assert visit_person(RECORDED) == VisitPerson(
        name="Siti Aminah", address="Kp. Sukamaju RT 01 RW 02"
    )
    anonymous = {"anonymous": True, "complainant": None, "phone": None}
    assert complainant(anonymous) is None
    assert visit_person(anonymous) is None


def test_what_each_read_discloses() -> None:
    assert detail_fields(anonymous=False) == ["description", "complainant", "timeline.details"]
    assert detail_fields(anonymous=True) == ["description", "timeline.details"]
    assert task_fields(None) == ["task"]
    assert task_fields(VisitPerson(name="x", address=None)) == [
        "complainant.name",
        "complainant.address",
        "task",
    ]
