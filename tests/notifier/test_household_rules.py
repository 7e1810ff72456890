"""Household messages in the notifier, as plain functions: the texts (Bahasa Indonesia, one
GSM-7 SMS of at most 160 characters) and what a redeemed contact leads to."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.notifier import household, templates
from services.notifier.domain import SendResult
from slrt.contracts.contacts import HouseholdContact, HouseholdMessage, household_reference
from slrt.contracts.events import NotificationRequested
from slrt.contracts.vocabulary import NotificationKind

TRACK = "https://slrt.bandungkab.go.id/track"
TICKET = "3204-26-000123"
LONG_NOTE = (
    "Bantuan PKH tahap 3 akan disalurkan bersama tahap 4 melalui rekening KKS; mohon cek saldo "
    "di agen bank terdekat setelah tanggal 15 Desember dan simpan bukti penarikan – terima kasih."
)
OUTCOMES: list[dict[str, Any]] = [
    {"outcome": "resolved_locally", "decided_by": "slrt", "note": LONG_NOTE, "reopenable": True},
    {
        "outcome": "referral_accepted",
        "decided_by": "PIP_KEMENDIKBUD",
        "note": LONG_NOTE,
        "reopenable": True,
    },
    {
        "outcome": "referral_rejected",
        "decided_by": "PKH",
        "note": "Tidak memenuhi syarat",
        "reopenable": False,
    },
    {"outcome": "answered", "decided_by": "slrt", "reopenable": False},
    {
        "outcome": "duplicate",
        "decided_by": "slrt",
        "duplicate_of": "3204-26-000122",
        "reopenable": False,
    },
    {"outcome": "withdrawn", "decided_by": "slrt", "reopenable": False},
]


def _cases() -> list[tuple[str, dict[str, Any]]]:
    base = {"ticket": TICKET, "question": "Bulan apa saja bantuan belum diterima? " * 5}
    cases = [(m.value, base) for m in HouseholdMessage if m is not HouseholdMessage.OUTCOME]
    cases += [(HouseholdMessage.OUTCOME.value, {**base, **o}) for o in OUTCOMES]
    cases += [(HouseholdMessage.FINAL.value, {**base, **o}) for o in OUTCOMES]
    return cases


@pytest.mark.parametrize(("name", "params"), _cases())
@pytest.mark.parametrize("language", ["id", "en"])
def test_every_household_sms_fits_one_gsm7_message_with_the_ticket(
    name: str, params: dict[str, Any], language: templates.Language
) -> None:
    template = templates.TEMPLATES[name]
    words = templates.household_params(params, language, TRACK)
    sms = templates.render_sms(template, words, language, 160)
    assert len(sms) <= 160
    assert sms.isascii()
    assert TICKET in sms
    assert "{" not in sms
    assert " - " not in sms


def test_the_registration_sms_says_how_to_track_in_bahasa_indonesia() -> None:
    words = templates.household_params({"ticket": TICKET}, "id", TRACK)
    sms = templates.render_sms(templates.TEMPLATES["household_registered"], words, "id", 160)
    assert sms == (
        f"SLRT: pengaduan Anda tercatat, nomor {TICKET}. Cek status di {TRACK} dengan nomor "
        "ini + 4 angka akhir HP/kode lacak."
    )


def test_the_outcome_says_what_by_whom_and_what_next_shortening_only_the_note() -> None:
    words = templates.household_params({"ticket": TICKET, **OUTCOMES[1]}, "id", TRACK)
    sms = templates.render_sms(templates.TEMPLATES["household_outcome"], words, "id", 160)
    assert sms.startswith(f"SLRT: pengaduan {TICKET} diterima oleh program PIP_KEMENDIKBUD. Bant")
    assert sms.endswith(f"... Tidak puas? Sampaikan ke fasilitator desa atau {TRACK}")
    full = templates.render_text(templates.TEMPLATES["household_outcome"], words, "id")
    assert "simpan bukti penarikan - terima kasih." in full  # the email keeps the whole note


def test_an_outcome_that_cannot_be_reopened_says_the_complaint_is_over() -> None:
    words = templates.household_params({"ticket": TICKET, **OUTCOMES[4]}, "id", TRACK)
    text = templates.render_text(templates.TEMPLATES["household_outcome"], words, "id")
    assert text == (
        f"SLRT: pengaduan {TICKET} ditutup oleh SLRT karena sama dengan pengaduan "
        "3204-26-000122. Pengaduan selesai."
    )


def _request(**params: Any) -> NotificationRequested:
    complaint_id = uuid.uuid4()
    return NotificationRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint_id,
        kind=NotificationKind.HOUSEHOLD_MESSAGE,
        destination=household_reference(complaint_id),
        template="household_outcome",
        params={"ticket": TICKET, "place_code": "3204052001", **OUTCOMES[0], **params},
    )


def _contact(**fields: Any) -> HouseholdContact:
    values: dict[str, Any] = {
        "reference": "household:x",
        "ticket_number": TICKET,
        "place_code": "3204052001",
        "anonymous": False,
    }
    return HouseholdContact(**{**values, **fields})


def test_a_phone_gets_the_sms_and_an_email_gets_a_copy_under_a_derived_request_id() -> None:
    request = _request()
    step = household.plan(request, _contact(phone="0812345678901", email="a@b.id"), TRACK)
    assert isinstance(step, household.Send)
    assert step.request.recipient is not None
    assert step.request.recipient.phone == "0812345678901"
    assert step.copy is not None
    assert step.copy.recipient is None
    assert step.copy.params["via"] == "email"
    again = household.plan(request, _contact(phone="1", email="a@b.id"), TRACK)
    assert isinstance(again, household.Send)
    assert again.copy is not None
    assert again.copy.request_id == step.copy.request_id  # a retry derives the same copy
    copy_step = household.plan(step.copy, _contact(phone="0812345678901", email="a@b.id"), TRACK)
    assert isinstance(copy_step, household.Send)
    assert copy_step.copy is None
    assert copy_step.request.recipient is not None
    assert copy_step.request.recipient.phone is None


def test_no_phone_and_no_email_hands_the_message_to_the_village_facilitator() -> None:
    request = _request()
    step = household.plan(request, _contact(), TRACK)
    assert isinstance(step, household.HandOver)
    task = step.task
    assert task.kind is NotificationKind.FACILITATOR_TASK
    assert task.destination == "facilitator:3204052001"
    assert task.template == "household_via_facilitator"
    assert task.place_code == "3204052001"
    assert task.params["message"].startswith(f"SLRT: pengaduan {TICKET} telah diselesaikan oleh")
    assert task.request_id == household.facilitator_task(request, _contact(), TRACK).request_id


def test_an_anonymous_complaint_is_told_nothing() -> None:
    step = household.plan(_request(), _contact(anonymous=True), TRACK)
    assert isinstance(step, SendResult)
    assert step.error is not None
    assert "anonymous" in step.error


def test_the_old_reference_form_is_redeemed_through_the_complaint_id() -> None:
    request = _request().model_copy(update={"destination": f"household:{TICKET}"})
    assert request.complaint_id is not None
    assert household.reference_of(request) == household_reference(request.complaint_id)
