"""The household's messages about the social registry's verification (issue 15, item 1): in
Bahasa Indonesia, one GSM-7 SMS with the ticket, saying what SIKS-NG decided."""

from __future__ import annotations

from typing import Any

import pytest

from services.notifier import templates

TRACK = "https://slrt.bandungkab.go.id/track"
TICKET = "3204-26-000123"
REASON = "Alamat tidak ditemukan saat verifikasi lapangan oleh petugas; mohon lengkapi RT/RW " * 3


@pytest.mark.parametrize("kind", ["prelist", "change"])
@pytest.mark.parametrize("result", ["accepted", "rejected", "revisit"])
@pytest.mark.parametrize("language", ["id", "en"])
def test_every_registry_result_fits_one_sms_with_the_ticket(
    kind: str, result: str, language: templates.Language
) -> None:
    params: dict[str, Any] = {"ticket": TICKET, "kind": kind, "result": result}
    if result != "accepted":
        params["reason"] = REASON
    words = templates.household_params(params, language, TRACK)
    sms = templates.render_sms(
        templates.TEMPLATES["household_registry_result"], words, language, 160
    )
    assert len(sms) <= 160
    assert sms.isascii()
    assert TICKET in sms
    assert "{" not in sms
    assert "household_registry_result" in templates.HOUSEHOLD_TEMPLATES


def test_an_accepted_pre_list_entry_tells_the_household_it_is_registered() -> None:
    words = templates.household_params(
        {"ticket": TICKET, "kind": "prelist", "result": "accepted"}, "id", TRACK
    )
    text = templates.render_text(templates.TEMPLATES["household_registry_result"], words, "id")
    assert text == (
        f"SLRT: hasil verifikasi data terpadu (SIKS-NG) untuk pengaduan {TICKET}: Anda telah "
        f"terdaftar dalam data terpadu. Info: {TRACK}"
    )


def test_a_rejected_correction_gives_siks_ngs_reason() -> None:
    words = templates.household_params(
        {"ticket": TICKET, "kind": "change", "result": "rejected", "reason": "KK tidak sah"},
        "id",
        TRACK,
    )
    text = templates.render_text(templates.TEMPLATES["household_registry_result"], words, "id")
    assert "usulan perbaikan data Anda ditolak. KK tidak sah. Info:" in text


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ("registry_accepted", "diterima dalam verifikasi data terpadu (SIKS-NG)"),
        ("registry_rejected", "ditolak dalam verifikasi data terpadu (SIKS-NG)"),
    ],
)
def test_the_outcome_of_a_complaint_decided_by_the_registry(outcome: str, words: str) -> None:
    params = {"ticket": TICKET, "outcome": outcome, "decided_by": "siks_ng", "reopenable": True}
    found = templates.household_params(params, "id", TRACK)
    sms = templates.render_sms(templates.TEMPLATES["household_outcome"], found, "id", 160)
    assert sms.startswith(f"SLRT: pengaduan {TICKET} {words}.")
    assert len(sms) <= 160
