"""The demo's own rules, without the stack: the week covers every path, the totals count each
complaint exactly once, the timeline shows step changes only; each path's expected effects
agree with its moves, and the oracle flags exactly the effects that differ."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path
from typing import Any

from services.notifier.contacts import ContactDirectory
from slrt_dev.demo.effects import (
    TOTAL,
    Outside,
    answers,
    contributions,
    dashboard,
    messages,
)
from slrt_dev.demo.paths import (
    FACILITATOR_MAILBOX,
    HOUSEHOLD,
    PATHS,
    Contact,
    Message,
    Via,
    Who,
    week,
)
from slrt_dev.demo.play import siks_ng_results
from slrt_dev.demo.played import Played
from slrt_dev.demo.report import _steps, totals
from slrt_dev.stack.standins import write_contacts

LAPOR_ANSWER = {
    "selesai": "accepted",
    "ditolak": "rejected",
    "tindak_lanjut": "under_review",
    "bukan_kewenangan": "not_responsible",
}
SIKS_NG_ANSWER = {
    "disetujui": "accepted",
    "ditolak": "rejected",
    "diverifikasi": "under_review",
    "bukan_kewenangan": "not_responsible",
}


def test_a_week_as_long_as_the_paths_plays_each_path_once_and_longer_weeks_repeat_them() -> None:
    assert week(len(PATHS)) == list(PATHS)
    longer = week(2 * len(PATHS) + 1)
    assert longer[len(PATHS) :][: len(PATHS)] == list(PATHS)
    assert longer[-1] == PATHS[0]
    assert len({p.key for p in PATHS}) == len(PATHS)


def test_every_path_ends_where_its_last_move_leads() -> None:
    for path in PATHS:
        if path.end_step == "closed" and path.moves:
            assert path.moves[-1].at_step == "feedback", path.key
        assert (path.end_outcome is None) == (path.end_step not in {"closed", "withdrawn"})


def test_totals_count_every_complaint_once_and_only_expected_ends_as_expected() -> None:
    closed = Played(PATHS[0], "c1", "T1", PATHS[0].end_step, PATHS[0].end_outcome)
    stuck = Played(PATHS[1], "c2", "T2", "back_office", None, problem="waited")
    refused = Played(PATHS[2], problem="submission refused: 422")
    counts = totals([closed, stuck, refused])
    assert counts["submitted"] == 2
    assert counts["not submitted"] == 1
    assert counts["as expected"] == 1
    ended = {k: v for k, v in counts.items() if k.startswith("ended ")}
    assert sum(ended.values()) == 3
    assert ended["ended back_office"] == 1
    assert counts["past an SLA deadline on the way"] == 0
    closed.timeline = [
        {"from_step": "back_office", "to_step": "back_office", "reason": "step_breached"}
    ]
    assert totals([closed, stuck])["past an SLA deadline on the way"] == 1


def test_the_timeline_shows_step_changes_with_seconds_since_submission() -> None:
    played = Played(PATHS[0], "c1", "T1", "closed", "answered")
    played.timeline = [
        {"from_step": None, "to_step": "received", "at": "2026-11-27T10:00:00+00:00"},
        {"from_step": "received", "to_step": "referred", "at": "2026-11-27T10:00:04+00:00"},
        {"from_step": "referred", "to_step": "referred", "at": "2026-11-27T10:00:05+00:00"},
        {"from_step": "referred", "to_step": "closed", "at": "2026-11-27T10:00:09+00:00"},
    ]
    assert _steps(played) == "received +0s → referred +4s → closed +9s"


def test_a_path_that_must_pass_a_step_reason_is_not_as_expected_without_it() -> None:
    (no_response,) = [p for p in PATHS if p.key == "no_response"]
    assert no_response.passes_through == ("no_response",)
    assert any(m.after_sla for m in no_response.moves)
    ended = Played(no_response, "c1", "T1", "closed", "resolved_locally")
    ended.timeline = [{"from_step": "referred", "to_step": "back_office", "reason": "answered"}]
    assert not ended.as_expected
    ended.timeline.append(
        {"from_step": "referred", "to_step": "back_office", "reason": "no_response"}
    )
    assert ended.as_expected


# --- the oracle's expectations and checks ------------------------------------------------------

ANSWERING_MOVES = {
    "lapor": Via.LAPOR,
    "webhook": Via.WEBHOOK,
    "answer_link": Via.ANSWER_LINK,
    "siks_ng": Via.SIKS_NG,
}
STATUS_ANSWER = {"lapor": LAPOR_ANSWER, "siks_ng": SIKS_NG_ANSWER}


def test_each_paths_referrals_are_the_ones_its_moves_make_and_answer() -> None:
    for path in PATHS:
        made: list[tuple[str, list[str], Via | None]] = []
        for move in path.moves:
            if move.body.get("kind") == "refer":
                made.append((move.body["destination_program"], [], None))
            elif move.action in ANSWERING_MOVES:
                program, answers, _ = made[-1]
                decision = (
                    move.body.get("decision") or STATUS_ANSWER[move.action][move.body["status"]]
                )
                made[-1] = (program, [*answers, decision], ANSWERING_MOVES[move.action])
        declared = [(r.program, list(r.answers)) for r in path.referrals]
        assert [(program, answers) for program, answers, _ in made] == declared, path.key
        for (_, _, via), referral in zip(made, path.referrals, strict=True):
            assert via in (None, referral.via), path.key
            if referral.expired:  # nobody answers: the expiry comes on the SLA clock
                assert any(m.after_sla for m in path.moves), path.key


def test_the_week_shows_all_four_ways_a_destination_answers_and_asks_the_household() -> None:
    vias = {r.via for path in PATHS for r in path.referrals if r.answers}
    assert vias == {Via.LAPOR, Via.WEBHOOK, Via.ANSWER_LINK, Via.SIKS_NG}
    asking = [p for p in PATHS if Message.INFORMATION_NEEDED in p.messages]
    assert [m.body.get("kind") for m in asking[0].moves].count("request_information") == 1


def test_every_named_complainant_is_registered_and_told_the_outcome_anonymous_none() -> None:
    for path in PATHS:
        if path.who is Who.ANONYMOUS:
            assert path.messages == (), path.key
            continue
        assert Counter(path.messages)[Message.REGISTERED] == 1, path.key
        assert Counter(path.messages)[Message.OUTCOME] == 1, path.key
        # Satisfied households and non-reopenable outcomes end at once: no final message.
        assert Message.FINAL not in path.messages, path.key


def _played(key: str) -> Played:
    (path,) = [p for p in PATHS if p.key == key]
    played = Played(path, "c1", "3204-26-000001", path.end_step, path.end_outcome)
    named = path.who is not Who.ANONYMOUS
    played.phone = "+62812000010001" if named and path.contact is Contact.PHONE else None
    played.email = "warga@surel.demo.example" if named and path.contact is Contact.EMAIL else None
    played.village = "3204052001"
    return played


def _sms(reference: str, text: str, to: str = "+62812000010001") -> dict[str, Any]:
    return {"to": to, "text": text, "reference": reference}


def _delivery(request_id: str, template: str, **fields: Any) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "kind": "household_message",
        "template": template,
        "referral_id": None,
        "channel": "sms",
        "status": "delivered",
        **fields,
    }


def test_messages_are_as_expected_only_when_exactly_the_paths_templates_arrive_right() -> None:
    played = _played("accepted")
    ok = "Pengaduan Anda nomor 3204-26-000001 telah diterima."
    deliveries = [
        _delivery("r1", "household_registered"),
        _delivery("r2", "household_outcome"),
    ]
    outside = Outside(sms=[_sms("r1", ok), _sms("r2", ok), _sms("x", ok, to="+62899")])
    messages(played, deliveries, outside)
    assert played.wrong == {}
    assert played.seen["messages"] == "outcome, registered"

    missing = _played("accepted")
    messages(missing, deliveries, Outside(sms=[_sms("r1", ok)]))
    assert missing.wrong["messages"] == ["SMS missing outcome"]

    wrong = _played("accepted")
    english = "Your complaint 3204-26-000001 was received."
    bad = Outside(sms=[_sms("r1", english), _sms("r2", "Pengaduan Anda " + "x" * 160)])
    messages(wrong, deliveries, bad)
    assert wrong.wrong["messages"] == [
        "registered: not in Bahasa Indonesia",
        "outcome: no ticket 3204-26-000001",
        "outcome: not ≤160 ASCII characters",
    ]


def test_an_anonymous_complaint_must_push_no_household_message() -> None:
    played = _played("anonymous")
    messages(played, [], Outside())
    assert played.wrong == {}
    pushed = _played("anonymous")
    messages(pushed, [_delivery("r1", "household_registered", status="failed")], Outside())
    assert pushed.wrong["messages"] == ["anonymous, yet household messages pushed: registered"]


def _referral_delivery(referral_id: str, channel: str, request_id: str = "q1") -> dict[str, Any]:
    return {
        "request_id": request_id,
        "kind": "referral",
        "template": "referral",
        "referral_id": referral_id,
        "channel": channel,
        "status": "delivered",
    }


def _answers_on_timeline(*decisions: str) -> list[dict[str, Any]]:
    return [{"actor_role": "program_manager", "decision_code": d} for d in decisions]


def test_a_lapor_referral_needs_one_report_in_the_status_the_agency_left_it() -> None:
    played = _played("accepted")
    lapor = [{"referensi_eksternal": "ref1", "status": "selesai"}]
    sent = [_referral_delivery("ref1", "lapor")]
    answers(played, sent, Outside(lapor=lapor), [], _answers_on_timeline("accepted"))
    assert played.wrong == {}
    twice = _played("accepted")
    answers(twice, sent, Outside(lapor=lapor * 2), [], _answers_on_timeline("accepted"))
    assert twice.wrong["answers"] == ["BPNT: 2 LAPOR! reports, expected 1"]


def test_a_siks_ng_referral_needs_one_submission_in_the_status_of_the_verdict() -> None:
    played = _played("siks_ng")
    filed = [{"referensi": "ref1", "status": "disetujui"}]
    sent = [_referral_delivery("ref1", "siks_ng")]
    timeline = _answers_on_timeline("under_review", "accepted")
    answers(played, sent, Outside(siks_ng=filed), [], timeline)
    assert played.wrong == {}
    assert played.seen["answers"] == "MEMBERSHIP_DTKS SIKS-NG ×1 → accepted"
    pending = _played("siks_ng")
    still = [{"referensi": "ref1", "status": "diverifikasi"}]
    answers(pending, sent, Outside(siks_ng=still), [], timeline)
    assert pending.wrong["answers"] == ["MEMBERSHIP_DTKS: SIKS-NG submission is diverifikasi"]
    lost = _played("siks_ng")
    answers(lost, sent, Outside(), [], timeline)
    assert lost.wrong["answers"] == ["MEMBERSHIP_DTKS: 0 SIKS-NG submissions, expected 1"]


def test_a_webhook_referral_needs_one_verified_delivery_and_one_answer_on_the_callback() -> None:
    played = _played("webhook")
    sent = [_referral_delivery("ref1", "webhook")]
    received = [{"webhook_id": "w1", "referral_id": "ref1", "verified": True}] * 2  # a retry
    recorded = [{"referral_id": "ref1", "decision": "accepted", "via": "callback"}]
    timeline = _answers_on_timeline("accepted")
    answers(played, sent, Outside(webhooks=received), recorded, timeline)
    assert played.wrong == {}
    unanswered = _played("webhook")
    answers(unanswered, sent, Outside(webhooks=received), [], [])
    assert len(unanswered.wrong["answers"]) == 2


def test_an_answer_link_must_be_emailed_once_and_used_once() -> None:
    played = _played("answer_link")
    sent = [_referral_delivery("ref1", "email", request_id="q7")]
    mail = [{"message_id": "q7", "text": "…"}]
    once = [{"referral_id": "ref1", "decision": "rejected", "via": "answer_link"}]
    timeline = _answers_on_timeline("rejected")
    answers(played, sent, Outside(mail=mail), once, timeline)
    assert played.wrong == {}
    reused = _played("answer_link")
    answers(reused, sent, Outside(mail=mail), once * 2, timeline)
    assert reused.wrong["answers"][0].startswith("RUTILAHU: intake recorded")


def test_a_program_need_complaint_about_a_registered_household_counts_a_need_for_planning() -> None:
    (need,) = [p for p in PATHS if p.category == "program_need"]
    assert need.who is Who.REGISTERED
    gained = contributions(_played(need.key))
    assert gained[("program_gaps", "RUTILAHU", "Recorded needs")] == 1
    assert gained[("program_gaps", "RUTILAHU", "Needs not covered")] == 1
    others = Counter[tuple[str, str, str]]()
    for path in PATHS:
        if path.category != "program_need":
            others += contributions(_played(path.key))
    assert not [key for key in others if key[0] == "program_gaps"]
    played = _played(need.key)
    before = {("program_gaps", "RUTILAHU", "Recorded needs"): 2}
    now = {**before, **{k: v + before.get(k, 0) for k, v in gained.items()}}
    assert dashboard([played], before, now) == []
    now[("program_gaps", "RUTILAHU", "Recorded needs")] -= 1
    missed = _played(need.key)
    assert dashboard([missed], before, now) == [
        "program_gaps RUTILAHU Recorded needs: dashboard +0, played 1"
    ]
    assert missed.wrong["dashboard"] == ["program_gaps RUTILAHU"]


def test_the_dashboard_must_gain_what_was_played_and_a_difference_flags_its_complaints() -> None:
    played = _played("rerouted")
    played.timeline = [{"to_step": s} for s in ("registered", "back_office", "referred", "closed")]
    other = _played("information")
    gained = contributions(played) + contributions(other)
    assert gained[("agencies", "BPNT", "Answered")] == 1
    assert gained[("agencies", "BPNT", "Accepted")] == 0
    assert gained[("agencies", "PIS_PBI", "Accepted")] == 1
    assert gained[("places", TOTAL, "Closed")] == 2
    assert gained[("funnel", "Referred", "Complaints")] == 1
    assert gained[("program", "No program", "Complaints")] == 1
    before = {("agencies", "PIS_PBI", "Accepted"): 4}
    now = {k: v + before.get(k, 0) for k, v in gained.items()}
    assert dashboard([played, other], before, now) == []
    assert played.seen["dashboard"] == "agrees"
    now[("agencies", "PIS_PBI", "Accepted")] -= 1
    assert dashboard([played, other], before, now) == [
        "agencies PIS_PBI Accepted: dashboard +0, played 1"
    ]
    assert played.wrong["dashboard"]
    assert not other.wrong.get("dashboard")


def test_a_complaint_that_ended_well_but_whose_effects_differ_is_not_as_expected() -> None:
    played = _played("back_office")
    assert played.as_expected
    played.flag("messages", "SMS missing outcome")
    assert played.ended_as_expected
    assert not played.as_expected
    counts = totals([played])
    assert counts["reached its path's end"] == 1
    assert counts["messages as expected"] == 0
    assert counts["answers as expected"] == 1
    assert counts["as expected"] == 0


def test_the_week_reaches_a_household_by_email_only_and_one_with_no_contact_at_all() -> None:
    contacts = {p.key: p.contact for p in PATHS if p.who is not Who.ANONYMOUS}
    assert Counter(contacts.values())[Contact.EMAIL] == 1
    assert Counter(contacts.values())[Contact.NONE] == 1
    for path in PATHS:
        if path.contact is not Contact.PHONE:  # cheap: resolved at the back office
            assert path.who is Who.REGISTERED, path.key
            assert [m.action for m in path.moves] == ["back-office-action", "feedback"]
            assert path.messages == (Message.REGISTERED, Message.OUTCOME), path.key


def _mail(request_id: str, text: str, to: str = "warga@surel.demo.example") -> dict[str, Any]:
    return {"to": to, "subject": "SLRT", "message_id": request_id, "text": text}


def test_an_email_only_household_gets_its_messages_as_emails_to_its_address_and_no_sms() -> None:
    ok = "Pengaduan Anda nomor 3204-26-000001 telah diterima. " + "Rincian. " * 30  # > 160
    deliveries = [
        _delivery("r1", "household_registered", channel="email"),
        _delivery("r2", "household_outcome", channel="email"),
    ]
    played = _played("email_only")
    messages(played, deliveries, Outside(mail=[_mail("r1", ok), _mail("r2", ok)]))
    assert played.wrong == {}
    assert played.seen["messages"] == "email: outcome, registered"

    texted = _played("email_only")
    sms = [_sms("r1", ok, to="+62812000099999")]
    messages(texted, deliveries, Outside(sms=sms, mail=[_mail("r1", ok), _mail("r2", ok)]))
    assert texted.wrong["messages"] == ["1 SMS without a phone given"]

    elsewhere = _played("email_only")
    english = "Your complaint was received."
    mail = [_mail("r1", english), _mail("r2", ok, to="lain@contoh.example")]
    messages(elsewhere, deliveries, Outside(mail=mail))
    assert elsewhere.wrong["messages"] == [
        "email missing outcome",
        "registered: no ticket 3204-26-000001",
        "registered: not in Bahasa Indonesia",
        "1 household email(s) to another address",
    ]


def _task(
    request_id: str, status: str = "delivered", village: str = "3204052001"
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "kind": "facilitator_task",
        "template": "household_via_facilitator",
        "destination": f"facilitator:{village}",
        "referral_id": None,
        "channel": "email",
        "status": status,
    }


def test_a_household_without_contact_is_handed_to_the_facilitator_whose_tasks_go_out() -> None:
    handed = {"status": "handed_to_facilitator", "channel": "facilitator"}
    deliveries = [
        _delivery("r1", "household_registered", **handed),
        _delivery("r2", "household_outcome", **handed),
        _task("t1"),
        _task("t2"),
    ]
    played = _played("no_contact")
    messages(played, deliveries, Outside())
    assert played.wrong == {}
    assert played.seen["messages"] == "facilitator: outcome, registered (tasks 2/2 sent)"

    failed = _played("no_contact")
    broken = [
        _delivery("r1", "household_registered", **handed),
        _delivery("r2", "household_outcome", status="failed"),
        _task("t1", status="failed"),
        _task("t2", village="3204052002"),
    ]
    messages(failed, broken, Outside(sms=[_sms("r1", "Pengaduan Anda")]))
    assert failed.wrong["messages"] == [
        "outcome: failed, not handed_to_facilitator",
        "1 handed over, facilitator's tasks: failed",
        "1 SMS, 0 email(s) without any contact",
    ]


def test_the_stacks_contact_directory_sends_the_districts_facilitators_tasks_to_the_sink(
    tmp_path: Path,
) -> None:
    contacts = tmp_path / "contacts.json"
    write_contacts(contacts, "3204")
    found = ContactDirectory.from_file(contacts).lookup("facilitator:3204052001")
    assert found is not None
    assert found.email == FACILITATOR_MAILBOX


def test_siks_ng_answers_every_item_of_an_exported_batch_in_the_results_layout() -> None:
    exported = (
        "batch_id,item_id,item_type,complaint_id,village_code,nik\n"
        "b1,i1,change,c1,3204052001,3204054101800002\n"
        "b1,i2,change,c2,3204052001,3204054101800003\n"
    )
    rows = list(csv.DictReader(io.StringIO(siks_ng_results(exported, "accepted"))))
    assert [(r["batch_id"], r["item_id"], r["result"], r["reason"]) for r in rows] == [
        ("b1", "i1", "accepted", ""),
        ("b1", "i2", "accepted", ""),
    ]
    assert set(rows[0]) == {
        "batch_id",
        "item_id",
        "result",
        "reason",
        "household_ref",
        "welfare_decile",
    }
    rejected = list(csv.DictReader(io.StringIO(siks_ng_results(exported, "rejected"))))
    assert all(r["reason"] for r in rejected), "a rejection names its reason"


def test_a_correction_names_the_complaints_household_and_waits_for_siks_ngs_result() -> None:
    (path,) = [p for p in PATHS if p.key == "correction"]
    proposed, verified = path.moves[0], path.moves[1]
    assert proposed.action == "registry-correction"
    assert proposed.body["await_result"]
    assert [c["household_id"] for c in proposed.body["changes"]] == [HOUSEHOLD]
    assert (verified.at_step, verified.action) == ("awaiting_registration", "siks_ng_verification")
    assert (path.end_step, path.end_outcome) == ("closed", "registry_accepted")
