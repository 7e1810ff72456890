"""The notifier's rules as plain functions."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from services.notifier import templates
from services.notifier.contacts import ContactDirectory
from services.notifier.domain import (
    DeliveryStatus,
    Verdict,
    classify_http,
    digest_groups,
    horizon,
    may_move,
    next_attempt_at,
    next_digest_time,
    normalise_request,
    parse_retry_after,
)
from services.notifier.guards import CircuitBreaker, TokenBucket
from services.notifier.payloads import (
    LAPOR_NOTE_HEADING,
    NIK_MASK,
    lapor_decision,
    lapor_report,
    referral_webhook,
    siks_ng_answer_id,
    siks_ng_decision,
)
from services.notifier.phones import InvalidPhone, normalise
from services.notifier.settings import STANDARD_WEBHOOKS_SCHEDULE
from slrt.contracts.events import NotificationRequested, ProgramCatalogEntry, Recipient
from slrt.contracts.vocabulary import (
    Category,
    NotificationKind,
    ProgramChannel,
    ReferralDecision,
)

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "verdict", "disable"),
    [
        (200, Verdict.DELIVERED, False),
        (204, Verdict.DELIVERED, False),
        (400, Verdict.FINAL, False),
        (401, Verdict.FINAL, False),
        (404, Verdict.FINAL, False),
        (408, Verdict.RETRY, False),
        (410, Verdict.FINAL, True),
        (429, Verdict.RETRY, False),
        (500, Verdict.RETRY, False),
        (503, Verdict.RETRY, False),
    ],
)
def test_http_answers_are_classified(status: int, verdict: Verdict, disable: bool) -> None:
    result = classify_http(status, None, now=NOW)
    assert result.verdict is verdict
    assert result.disable_endpoint is disable


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert classify_http(429, "7", now=NOW).retry_after == 7
    assert parse_retry_after("Fri, 27 Nov 2026 10:00:30 GMT", NOW) == 30
    assert parse_retry_after("soon", NOW) is None


def test_retry_delays_follow_the_schedule_within_the_jitter_and_then_stop() -> None:
    schedule = [1.0, 10.0, 100.0]
    rng = random.Random(7)
    for attempts_made, base in enumerate(schedule, start=1):
        for _ in range(50):
            when = next_attempt_at(attempts_made, NOW, schedule, jitter=0.2, rng=rng)
            assert when is not None
            delay = (when - NOW).total_seconds()
            assert base * 0.8 <= delay <= base * 1.2
    assert next_attempt_at(len(schedule) + 1, NOW, schedule, jitter=0.2) is None


def test_retry_after_is_a_floor_for_the_next_attempt() -> None:
    when = next_attempt_at(1, NOW, [1.0, 2.0], jitter=0.0, retry_after=30)
    assert when == NOW + timedelta(seconds=30)


def test_the_default_schedule_is_standard_webhooks_over_about_a_day() -> None:
    assert list(STANDARD_WEBHOOKS_SCHEDULE) == sorted(STANDARD_WEBHOOKS_SCHEDULE)
    assert horizon(STANDARD_WEBHOOKS_SCHEDULE) == timedelta(hours=27, minutes=35, seconds=5)


def test_delivery_state_machine() -> None:
    assert may_move(DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
    assert may_move(DeliveryStatus.FAILED, DeliveryStatus.PENDING)
    assert not may_move(DeliveryStatus.DELIVERED, DeliveryStatus.PENDING)
    assert not may_move(DeliveryStatus.FAILED, DeliveryStatus.DELIVERED)


def test_digest_goes_out_at_the_next_local_digest_hour() -> None:
    # 10:00 UTC is 17:00 WIB: the next 07:00 WIB is tomorrow 00:00 UTC.
    assert next_digest_time(NOW, 7, "Asia/Jakarta") == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    early = datetime(2026, 11, 27, 23, 0, tzinfo=UTC)  # 06:00 WIB
    assert next_digest_time(early, 7, "Asia/Jakarta") == datetime(2026, 11, 28, 0, 0, tzinfo=UTC)
    # 07:30 WIB
    assert next_digest_time(early, 7, "Asia/Jakarta", 30) == datetime(
        2026, 11, 28, 0, 30, tzinfo=UTC
    )


def test_a_persons_digest_groups_their_steps_overdue_and_at_risk() -> None:
    def reminder(ticket: str, due_on: str, *, breached: bool = False) -> NotificationRequested:
        return NotificationRequested(
            request_id=uuid.uuid4(),
            complaint_id=uuid.uuid4(),
            kind=NotificationKind.REMINDER,
            destination="person:p",
            template="step_at_risk",
            params={"ticket": ticket, "due_on": due_on},
            breached=breached,
        )

    today = date(2026, 11, 30)
    overdue, at_risk = digest_groups(
        [
            reminder("T-2", "2026-12-02"),
            reminder("T-1", "2026-11-27"),
            reminder("T-3", "2026-12-04", breached=True),
            reminder("T-2", "2026-12-02"),
            reminder("T-4", "not a date"),
        ],
        today,
    )
    assert overdue == ["T-1", "T-3"]
    assert at_risk == ["T-2", "T-4"]


@pytest.mark.parametrize("name", sorted(templates.TEMPLATES))
@pytest.mark.parametrize("language", ["id", "en"])
def test_every_sms_fits_the_configured_length_even_with_long_params(
    name: str, language: templates.Language
) -> None:
    params = {
        "ticket": "SLRT-3204-000123",
        "program": "Program Indonesia Pintar (Kemendikbud)",
        "due_date": "2026-12-15",
        "link": "https://slrt.example.go.id/v1/answer/" + "x" * 40,
        "step": "manager_approval",
        "task": "sampaikan hasil",
        "note": "Catatan panjang " * 30,
        "outcome": "Hasil “panjang” — " * 30,
        "question": "Apakah ada kartu KKS? " * 20,
        "answer": "Sudah diselesaikan di kantor desa. " * 20,
        "level": 2,
        "count": 12,
        "tickets": ", ".join(f"SLRT-3204-{n:06}" for n in range(12)),
    }
    for limit in (70, 120, 160):
        text = templates.render_sms(templates.TEMPLATES[name], params, language, limit)
        assert len(text) <= limit
        assert text.isascii()
        assert text.startswith("SLRT")


def test_sms_texts_are_bahasa_indonesia_by_default() -> None:
    text = templates.render_sms(
        templates.template_for("complaint_registered", NotificationKind.HOUSEHOLD_MESSAGE),
        {"ticket": "T-1"},
        "id",
        160,
    )
    assert text == (
        "SLRT: pengaduan Anda tercatat, nomor T-1. Simpan nomor ini untuk menanyakan statusnya."
    )


@pytest.mark.parametrize(
    "raw", ["081234567890", "0812-3456-7890", "6281234567890", "+62 812 3456 7890"]
)
def test_phone_numbers_are_normalised_to_e164(raw: str) -> None:
    assert normalise(raw) == "+6281234567890"


@pytest.mark.parametrize("raw", ["12", "not a number", "+62 1"])
def test_bad_phone_numbers_are_refused_without_echoing_them(raw: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalise(raw)
    assert raw not in str(caught.value)


def test_token_bucket_spaces_calls_beyond_the_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    now[0] = 10.0
    assert bucket.reserve() == 0.0


def test_circuit_opens_after_consecutive_failures_and_lets_a_trial_through_later() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=30, clock=lambda: now[0])
    breaker.record(False)
    assert breaker.allows()
    breaker.record(False)
    assert not breaker.allows()
    now[0] = 31
    assert breaker.allows()
    breaker.record(True)
    assert not breaker.is_open


def test_lapor_statuses_map_to_referral_answers() -> None:
    assert lapor_decision("selesai") is ReferralDecision.ACCEPTED
    assert lapor_decision("tindak_lanjut") is ReferralDecision.UNDER_REVIEW
    assert lapor_decision("ditolak") is ReferralDecision.REJECTED
    assert lapor_decision("bukan_kewenangan") is ReferralDecision.NOT_RESPONSIBLE
    assert lapor_decision("terverifikasi") is None


def test_siks_ng_statuses_map_to_referral_answers() -> None:
    assert siks_ng_decision("diverifikasi") is ReferralDecision.UNDER_REVIEW
    assert siks_ng_decision("disetujui") is ReferralDecision.ACCEPTED
    assert siks_ng_decision("ditolak") is ReferralDecision.REJECTED
    assert siks_ng_decision("bukan_kewenangan") is ReferralDecision.NOT_RESPONSIBLE
    assert siks_ng_decision("diajukan") is None
    assert siks_ng_decision("") is None
    # One answer per submission and status: a repeated poll gives the same idempotency key.
    assert siks_ng_answer_id("SIKS-1", "ditolak") == "siks_ng:SIKS-1:ditolak"


def test_the_webhook_payload_carries_the_nik_only_when_the_destination_needs_it() -> None:
    nik = "3204054101800002"
    request = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        kind=NotificationKind.REFERRAL,
        destination="X",
        template="referral",
        params={"nik": nik, "summary": f"NIK {nik}", "ticket_number": "T-1"},
    )

    def entry(needs_nik: bool) -> ProgramCatalogEntry:
        return ProgramCatalogEntry(
            code="X",
            name="X",
            level="district",
            owner_agency="Dinsos",
            channel=ProgramChannel.DIRECT,
            categories=[Category.IMPLEMENTATION],
            sla_working_days=5,
            needs_nik=needs_nik,
            version=1,
        )

    without = referral_webhook(request, entry(False), intake_public_url="http://i", sent_at=NOW)
    assert nik not in str(without)
    with_nik = referral_webhook(request, entry(True), intake_public_url="http://i", sent_at=NOW)
    assert with_nik["person"] == {"nik": nik}


def test_staff_contacts_fall_back_to_the_same_role_at_a_wider_area() -> None:
    directory = ContactDirectory(
        {
            "back_office:3204": Recipient(email="bo@kab.test"),
            "manager:32": Recipient(email="mgr@prov.test"),
            "user-9": Recipient(phone="081234567890"),
        }
    )
    assert directory.lookup("back_office:3204052001") == Recipient(email="bo@kab.test")
    assert directory.lookup("manager:320405") == Recipient(email="mgr@prov.test")
    assert directory.lookup("user-9") == Recipient(phone="081234567890")
    assert directory.lookup("supervisor:320405") is None
    assert directory.lookup("facilitator:9999") is None


def test_referral_id_and_place_are_taken_from_params_when_the_fields_are_empty() -> None:
    referral_id = uuid.uuid4()
    request = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        kind=NotificationKind.REFERRAL,
        destination="PKH",
        template="referral",
        params={"referral_id": str(referral_id), "place_code": "3204052001"},
    )
    normalised = normalise_request(request)
    assert normalised.referral_id == referral_id
    assert normalised.place_code == "3204052001"
    odd = request.model_copy(update={"params": {"referral_id": "x", "place_code": "nowhere"}})
    assert normalise_request(odd) == odd


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_kind_has_a_text_even_under_an_unknown_template_name(kind: NotificationKind) -> None:
    template = templates.template_for("no-such-template", kind)
    text = templates.render_sms(template, {"ticket": "T-1"}, "id", 160)
    assert text.startswith("SLRT:")
    assert templates.DEFAULT_FOR_KIND[kind] in templates.TEMPLATES


def test_the_report_announcement_keeps_its_link_whole() -> None:
    params = {
        "kind": "bulanan",
        "area_name": "Kabupaten Bandung " * 10,
        "period": "2026-11",
        "page_url": "https://slrt.example.go.id/v1/reports/6f1c2a9e",
    }
    text = templates.render_sms(templates.TEMPLATES["me_report_ready"], params, "id", 160)
    assert len(text) <= 160
    assert text.endswith(params["page_url"])


def test_the_managers_approval_note_goes_to_the_destination_with_niks_masked() -> None:
    nik = "3204054101800002"
    note = f"Disetujui; cek NIK {nik} di data PKH"
    request = NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        kind=NotificationKind.REFERRAL,
        destination="BPNT",
        template="referral",
        params={"summary": "Beras rusak", "ticket": "T-1", "approval_note": note},
    )
    for channel in (ProgramChannel.DIRECT, ProgramChannel.LAPOR):
        entry = ProgramCatalogEntry(
            code="BPNT",
            name="Bantuan Pangan Non Tunai",
            level="national",
            owner_agency="Perum BULOG",
            channel=channel,
            categories=[Category.IMPLEMENTATION],
            sla_working_days=5,
            version=1,
        )
        webhook = referral_webhook(request, entry, intake_public_url="http://i", sent_at=NOW)
        assert webhook["approval_note"] == f"Disetujui; cek NIK {NIK_MASK} di data PKH"
        report = lapor_report(request, entry)
        assert report["isi"] == (
            f"Beras rusak\n\n{LAPOR_NOTE_HEADING}: Disetujui; cek NIK {NIK_MASK} di data PKH"
        )
    without = request.model_copy(update={"params": {"summary": "Beras rusak"}})
    assert lapor_report(without, entry)["isi"] == "Beras rusak"
    assert (
        referral_webhook(without, entry, intake_public_url="http://i", sent_at=NOW)["approval_note"]
        is None
    )
