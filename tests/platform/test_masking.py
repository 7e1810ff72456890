"""Free text is masked before it leaves intake: NIK/KK-like numbers, phones, emails and long
digit runs go; money, dates and short numbers stay."""

from __future__ import annotations

import pytest

from slrt.contracts.complaints import Actor, Withdraw
from slrt.masking import mask_fields, mask_free_text, unmasked_fields


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("NIK saya 3204054107850001, tolong dicek", "NIK saya [NIK], tolong dicek"),
        ("KK: 3204.0512.0309.0007.", "KK: [NIK]."),
        ("nik 3204 0541 0785 0001 atas nama ibu", "nik [NIK] atas nama ibu"),
        ("hubungi 081234567890", "hubungi [telepon]"),
        ("hubungi 0812-3456-7890 sore", "hubungi [telepon] sore"),
        ("WA +62 812 3456 7890", "WA [telepon]"),
        ("telp 6281234567890.", "telp [telepon]."),
        ("email siti.aminah@gmail.com ya", "email [email] ya"),
        ("rekening BRI 0123456789012", "rekening BRI [nomor]"),
        ("kartu BPJS 0001234567891", "kartu BPJS [nomor]"),
    ],
)
def test_personal_numbers_and_addresses_are_masked(text: str, masked: str) -> None:
    assert mask_free_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Bantuan PKH tahap 3 sebesar Rp 1.500.000 belum diterima",
        "Uang Rp 10.000.000 dipotong Rp 200.000",
        "sejak 12-05-2024 dan 2025",
        "Kp. Sukamaju RT 01 RW 02, beras 10 kg",
        "tiket SLRT-3204-2026-000123",
        "",
    ],
)
def test_what_is_not_personal_stays(text: str) -> None:
    assert mask_free_text(text) == text


def test_a_longer_digit_run_is_not_cut_into_a_nik_and_a_rest() -> None:
    assert mask_free_text("32040541078500019") == "[nomor]"


def test_an_action_is_masked_field_by_field_and_the_original_is_kept_apart() -> None:
    action = Withdraw(
        actor=Actor(user_id="u", role="back_office", area="3204"),
        request_id="k",
        reason="NIK 3204054107850001 pindah",
    )
    masked = mask_fields(action)
    assert masked.reason == "NIK [NIK] pindah"
    assert masked.actor == action.actor
    assert unmasked_fields(action, masked) == {"reason": "NIK 3204054107850001 pindah"}
    clean = Withdraw(actor=action.actor, request_id="k", reason="pindah")
    assert mask_fields(clean) is clean
    assert unmasked_fields(clean, clean) == {}
