"""LAPOR!, SIKS-NG, answer links by email and SMS, household SMS, staff digests."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from services.notifier.payloads import NIK_MASK
from slrt import answer_links
from slrt.contracts.events import NotificationRequested, Recipient, ReferralAnswered
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import NotificationKind, ProgramChannel, ReferralDecision
from tests.support.notifier import (
    ANSWER_LINK_KEY,
    WEBHOOK_SECRET_REF,
    StandIns,
    StartNotifier,
    outcomes_for,
    program,
    referral,
)

NIK = "3204054101800002"


def staff_request(kind: NotificationKind, ticket: str, **fields: object) -> NotificationRequested:
    values: dict[str, object] = {
        "request_id": uuid.uuid4(),
        "complaint_id": uuid.uuid4(),
        "kind": kind,
        "destination": "user-back-office-7",
        "template": kind.value,
        "place_code": "3204052001",
        "params": {"ticket_number": ticket, "step": "back_office", "due_date": "2026-12-01"},
        "recipient": Recipient(email="bo7@slrt.test"),
    }
    values.update(fields)
    return NotificationRequested(**values)


async def test_lapor_referral_is_filed_and_its_status_mapped_back_to_an_answer(
    start_notifier: StartNotifier, standins: StandIns, kafka_bootstrap: str
) -> None:
    notifier = await start_notifier()
    await notifier.catalog(program("PIP-KEMENDIKBUD", ProgramChannel.LAPOR))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral("PIP-KEMENDIKBUD")
    await notifier.request(request)
    await notifier.status(request, "delivered")
    tracking_id = await notifier.pool.fetchval(
        "SELECT external_ref FROM deliveries WHERE request_id = $1", request.request_id
    )
    filed = standins.lapor.reports[tracking_id]["report"]
    assert filed["referensi_eksternal"] == str(request.referral_id)
    assert NIK not in str(filed), "LAPOR! does not need the NIK"
    assert NIK_MASK in filed["isi"]
    assert (
        await notifier.pool.fetchval(
            "SELECT status FROM lapor_reports WHERE tracking_id = $1", tracking_id
        )
        == "belum_terverifikasi"
    )

    # The agency finishes it in LAPOR!: the poller maps that to an accepted referral.
    report = standins.lapor.reports[tracking_id]
    report.update(status="selesai", tanggapan="Dana sudah disalurkan.")
    await notifier.until("SELECT final FROM lapor_reports WHERE tracking_id = $1", tracking_id)
    assert request.referral_id is not None
    answers = await outcomes_for(
        kafka_bootstrap, request.referral_id, expect=1, topic=Topic.REFERRAL_ANSWERS
    )
    assert len(answers) == 1
    key, envelope = answers[0]
    assert key == str(request.complaint_id).encode()
    answer = envelope.parse(ReferralAnswered)
    assert answer.decision is ReferralDecision.ACCEPTED
    assert answer.answer_id == f"lapor:{tracking_id}:selesai"
    assert answer.note == "Dana sudah disalurkan."


async def test_siks_ng_submission_carries_the_nik_because_its_destination_needs_it(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    notifier = await start_notifier()
    await notifier.catalog(program("DTKS", ProgramChannel.SIKS_NG, needs_nik=True))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral(
        "DTKS", params={"ticket_number": "T-1", "category": "membership", "nik": NIK}
    )
    await notifier.request(request)
    await notifier.status(request, "delivered")
    (kept,) = standins.siks_ng.submissions.values()
    submission = kept["submission"]
    assert submission["jenis"] == "keluhan_kepesertaan"
    assert submission["nik"] == NIK


async def test_siks_ng_verdict_on_a_membership_referral_comes_back_as_its_answer_once(
    start_notifier: StartNotifier, standins: StandIns, kafka_bootstrap: str
) -> None:
    notifier = await start_notifier()
    await notifier.catalog(program("DTKS", ProgramChannel.SIKS_NG, needs_nik=True))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral(
        "DTKS", params={"ticket_number": "T-2", "category": "membership", "nik": NIK}
    )
    await notifier.request(request)
    await notifier.status(request, "delivered")
    submission_id = await notifier.pool.fetchval(
        "SELECT external_ref FROM deliveries WHERE request_id = $1", request.request_id
    )
    followed = await notifier.pool.fetchrow(
        "SELECT * FROM siks_ng_submissions WHERE submission_id = $1", submission_id
    )
    assert followed is not None
    assert (followed["referral_id"], followed["status"]) == (request.referral_id, "diajukan")

    # Pokja Data Terpadu verifies it, then approves it; the verifier quotes the NIK.
    kept = standins.siks_ng.submissions[submission_id]
    kept.update(status="diverifikasi")
    await notifier.until(
        "SELECT count(*) FROM siks_ng_verdicts WHERE submission_id = $1",
        submission_id,
        check=lambda n: n == 1,
    )
    kept.update(status="disetujui", keterangan=f"NIK {NIK} masuk DTKS periode berikutnya.")
    await notifier.until(
        "SELECT final FROM siks_ng_submissions WHERE submission_id = $1", submission_id
    )
    # Polled again (a restart, a slow tick): nothing new goes out.
    assert await notifier.notifier.siks_ng.poll_once() == 0
    assert request.referral_id is not None
    answers = await outcomes_for(
        kafka_bootstrap, request.referral_id, expect=2, topic=Topic.REFERRAL_ANSWERS
    )
    parsed = [envelope.parse(ReferralAnswered) for _, envelope in answers]
    assert [(a.answer_id, a.decision) for a in parsed] == [
        (f"siks_ng:{submission_id}:diverifikasi", ReferralDecision.UNDER_REVIEW),
        (f"siks_ng:{submission_id}:disetujui", ReferralDecision.ACCEPTED),
    ]
    assert {key for key, _ in answers} == {str(request.complaint_id).encode()}
    assert parsed[1].note == f"NIK {NIK_MASK} masuk DTKS periode berikutnya."
    # The audit: each status SIKS-NG gave, when it was seen and the answer it became.
    audit = await notifier.pool.fetch(
        "SELECT status, answer_id, decision FROM siks_ng_verdicts WHERE submission_id = $1"
        " ORDER BY seen_at",
        submission_id,
    )
    assert [tuple(r) for r in audit] == [
        ("diverifikasi", f"siks_ng:{submission_id}:diverifikasi", "under_review"),
        ("disetujui", f"siks_ng:{submission_id}:disetujui", "accepted"),
    ]


async def test_answer_link_goes_by_email_to_a_program_manager_without_a_system(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    notifier = await start_notifier()
    await notifier.catalog(
        program("BEASISWA-KAB", ProgramChannel.DIRECT, contact_email="pengelola@kab.test")
    )
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral("BEASISWA-KAB")
    await notifier.request(request)
    await notifier.status(request, "delivered")
    (mail,) = standins.smtp.messages
    assert mail["To"] == "pengelola@kab.test"
    body = mail.get_content()
    assert "Mohon dijawab" in body
    assert NIK not in body
    link = next(word for word in body.split() if word.startswith("http://intake.test/"))
    token = link.removeprefix("http://intake.test/v1/answer/")
    verified = answer_links.verify(ANSWER_LINK_KEY, token)
    assert verified.referral_id == request.referral_id
    assert verified.program == "BEASISWA-KAB"


async def test_household_sms_is_in_bahasa_indonesia_e164_and_fits_the_configured_length(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    standins.sms.max_length = 120  # the gateway refuses anything longer
    notifier = await start_notifier(sms_max_length=120)
    request = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        kind=NotificationKind.HOUSEHOLD_MESSAGE,
        destination="household-42",
        template="complaint_outcome",
        params={"ticket_number": "SLRT-3204-000123", "outcome": "Bantuan disetujui. " * 20},
        recipient=Recipient(phone="0812-3456-7890"),
    )
    await notifier.request(request)
    await notifier.status(request, "delivered")
    (sms,) = standins.sms.messages
    assert sms["to"] == "+6281234567890"
    assert len(sms["text"]) <= 120
    assert sms["text"].startswith("SLRT: pengaduan SLRT-3204-000123 selesai.")
    assert sms["text"].endswith("...")


async def test_staff_reminders_wait_for_one_daily_digest_while_breaches_go_at_once(
    start_notifier: StartNotifier, standins: StandIns
) -> None:
    notifier = await start_notifier()
    reminders = [staff_request(NotificationKind.REMINDER, ticket) for ticket in ("T-001", "T-002")]
    breach = staff_request(NotificationKind.REMINDER, "T-003", breached=True)
    for request in [*reminders, breach]:
        await notifier.request(request)
    await notifier.status(breach, "delivered")
    assert [await notifier.status(r, "digest") for r in reminders] == ["digest", "digest"]
    assert len(standins.smtp.messages) == 1
    assert "T-003" in standins.smtp.messages[0]["Subject"]

    # The digest hour arrives.
    await notifier.pool.execute(
        "UPDATE deliveries SET next_attempt_at = now() WHERE status = 'digest'"
    )
    for request in reminders:
        await notifier.status(request, "delivered")
    assert len(standins.smtp.messages) == 2, "one digest for both reminders"
    digest = standins.smtp.messages[1]
    assert digest["Subject"] == "Rekap harian SLRT"
    assert "2 hal menunggu tindakan Anda. Berisiko terlambat: T-001, T-002." in digest.get_content()


async def test_requests_shaped_as_the_complaint_workflow_sends_them(
    start_notifier: StartNotifier, standins: StandIns, tmp_path: Path
) -> None:
    contacts = tmp_path / "contacts.json"
    contacts.write_text(json.dumps({"back_office:3204": {"email": "bo@kab.test"}}))
    notifier = await start_notifier(contacts_file=contacts)
    await notifier.catalog(
        program(
            "PKH",
            ProgramChannel.DIRECT,
            callback_url=f"{standins.receiver_url}/webhooks/referrals",
            webhook_secret_ref=WEBHOOK_SECRET_REF,
            contact_email="pkh@kemensos.test",
        )
    )
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    complaint_id, referral_id = uuid.uuid4(), uuid.uuid4()
    # As workflows/complaint/ builds them: identifiers and place in params.
    referral_request = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint_id,
        kind=NotificationKind.REFERRAL,
        destination="PKH",
        template="referral",
        params={
            "ticket": "SLRT-3204-000900",
            "referral_id": str(referral_id),
            "place_code": "3204052001",
            "description": f"Pembayaran terlambat, NIK {NIK}",
            "due_on": "2026-12-20",
        },
    )
    at_risk = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint_id,
        kind=NotificationKind.ESCALATION,
        destination="back_office:3204052001",
        template="sla_breached",
        params={
            "ticket": "SLRT-3204-000900",
            "step": "back_office",
            "due_on": "2026-12-01",
            "level": 1,
        },
        breached=True,
    )
    overdue = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint_id,
        kind=NotificationKind.REMINDER,
        destination="PKH",
        template="referral_overdue",
        params={"ticket": "SLRT-3204-000900", "due_on": "2026-12-20"},
        breached=True,
    )
    for request in (referral_request, at_risk, overdue):
        await notifier.request(request)
    for request in (referral_request, at_risk, overdue):
        await notifier.status(request, "delivered")

    (received,) = standins.receiver.received
    payload = received.payload
    assert payload["referral_id"] == str(referral_id)
    assert payload["ticket_number"] == "SLRT-3204-000900"
    assert payload["due_date"] == "2026-12-20"
    assert payload["village_code"] == "3204052001"
    assert NIK not in received.body.decode()
    mails = {m["To"]: m for m in standins.smtp.messages}
    assert "ESKALASI tingkat 1" in mails["bo@kab.test"].get_content()
    assert "melewati batas jawaban 2026-12-20" in mails["pkh@kemensos.test"].get_content()
    assert (
        await notifier.pool.fetchval(
            "SELECT count(*) FROM deliveries WHERE referral_id = $1 AND place_code = '3204052001'",
            referral_id,
        )
        == 1
    )
