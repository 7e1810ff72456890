"""Identity rules: NIK and KK format, what the NIK encodes, and mismatches as warnings."""

from __future__ import annotations

from datetime import date

import pytest

from services.registry.domain.identity import (
    IdentityError,
    IdentityWarning,
    decode_nik,
    identity_warnings,
    make_kk,
    make_nik,
    validate_kk,
    validate_nik,
)

TODAY = date(2026, 11, 27)


def test_a_nik_encodes_sub_district_birth_date_and_serial() -> None:
    decoded = decode_nik("3204051708450001", today=TODAY)
    assert decoded.sub_district_code == "320405"
    assert decoded.birth_date == date(1945, 8, 17)
    assert decoded.sex == "male"
    assert decoded.serial == "0001"


def test_women_have_forty_added_to_the_day() -> None:
    decoded = decode_nik("3204055708450002", today=TODAY)
    assert decoded.birth_date == date(1945, 8, 17)
    assert decoded.sex == "female"


def test_the_century_puts_the_birth_date_in_the_past() -> None:
    assert decode_nik("3204050103150001", today=TODAY).birth_date == date(2015, 3, 1)
    assert decode_nik("3204050103300001", today=TODAY).birth_date == date(1930, 3, 1)
    # Two-digit year of this year but later than today: born a century ago.
    assert decode_nik("3204051512260001", today=TODAY).birth_date == date(1926, 12, 15)


def test_separators_people_type_are_accepted() -> None:
    assert validate_nik("3204.0517 0845-0001", today=TODAY) == "3204051708450001"


@pytest.mark.parametrize(
    "number",
    [
        "320405170845000",  # 15 digits
        "32040517084500011",  # 17 digits
        "3204053208450001",  # day 32
        "3204051713450001",  # month 13
        "3204057208450001",  # day 72 (= 32 for a woman)
        "320405170845000A",
    ],
)
def test_a_number_that_cannot_be_a_nik_is_refused(number: str) -> None:
    with pytest.raises(IdentityError) as raised:
        validate_nik(number, today=TODAY)
    assert number not in str(raised.value)  # never echo the number


def test_kk_numbers() -> None:
    assert validate_kk("3204 0518 1025 0001") == "3204051810250001"
    with pytest.raises(IdentityError):
        validate_kk("320405181025001")
    with pytest.raises(IdentityError):
        validate_kk("0004051810250001")


def test_made_numbers_decode_to_what_they_were_made_from() -> None:
    nik = make_nik("320405", date(2009, 2, 28), "female", 12)
    assert nik == "3204056802090012"
    decoded = decode_nik(nik, today=TODAY)
    assert (decoded.birth_date, decoded.sex, decoded.serial) == (
        date(2009, 2, 28),
        "female",
        "0012",
    )
    assert make_kk("320405", date(2025, 10, 18), 1) == "3204051810250001"
    with pytest.raises(IdentityError):
        make_nik("3204", date(2009, 2, 28), "female", 1)


def test_a_consistent_record_raises_no_warning() -> None:
    assert (
        identity_warnings(
            nik="3204055708450002",
            kk_number="3204051810250001",
            birth_date=date(1945, 8, 17),
            sex="female",
            village_code="3204052001",
            today=TODAY,
        )
        == []
    )


def test_mismatches_are_warnings_not_rejections() -> None:
    found = identity_warnings(
        nik="3204055708450002",
        kk_number="3273051810250001",
        birth_date=date(1945, 8, 18),
        sex="male",
        village_code="3204052001",
        today=TODAY,
    )
    assert found == [
        IdentityWarning.NIK_BIRTH_DATE_MISMATCH,
        IdentityWarning.NIK_SEX_MISMATCH,
        IdentityWarning.KK_PLACE_OUTSIDE_REGENCY,
    ]


def test_a_nik_from_another_regency_or_an_unknown_one_is_flagged() -> None:
    moved = identity_warnings(
        nik="3273055708450002",
        kk_number=None,
        birth_date=None,
        sex=None,
        village_code="3204052001",
        today=TODAY,
    )
    assert moved == [IdentityWarning.NIK_PLACE_OUTSIDE_REGENCY]
    # Moving within the regency (another sub-district) is normal and not flagged.
    within = identity_warnings(
        nik="3204105708450002",
        kk_number=None,
        birth_date=None,
        sex=None,
        village_code="3204052001",
        today=TODAY,
    )
    assert within == []
    unknown = identity_warnings(
        nik="3299055708450002",
        kk_number=None,
        birth_date=None,
        sex=None,
        village_code="3204052001",
        today=TODAY,
    )
    assert unknown == [IdentityWarning.NIK_PLACE_UNKNOWN]
    broken = identity_warnings(
        nik="3204059908450002",
        kk_number=None,
        birth_date=None,
        sex=None,
        village_code="3204052001",
        today=TODAY,
    )
    assert broken == [IdentityWarning.NIK_INVALID]
