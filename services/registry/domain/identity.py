"""Identity numbers: NIK (Nomor Induk Kependudukan) and KK (Kartu Keluarga) numbers.

A NIK is ``PPRRSS DDMMYY XXXX``: the sub-district where it was issued, the birth date with 40
added to the day for women, and a serial. A KK number starts with the same six-digit place
code. Only a number that cannot be a NIK at all (wrong length, no valid birth date) is refused;
a NIK that disagrees with the recorded place, birth date or sex is a data-quality warning
(real registry data has such errors, and a complaint is never refused for them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from stdnum import numdb
from stdnum.id import nik as stdnum_nik

Sex = Literal["male", "female"]

_SIXTEEN_DIGITS = re.compile(r"^\d{16}$")


class IdentityError(ValueError):
    """The number cannot be a NIK / KK number. The message never contains the number."""


@dataclass(frozen=True)
class DecodedNik:
    sub_district_code: str
    birth_date: date
    sex: Sex
    serial: str


def compact(number: str) -> str:
    """Strip the separators people type (spaces, dots, dashes)."""
    return str(stdnum_nik.compact(number))


def decode_nik(number: str, *, today: date) -> DecodedNik:
    """Place, birth date and sex encoded in a NIK.

    The year has two digits; the century is the one that puts the birth date on or before
    ``today`` (stdnum's own decoder prefers 19xx, which would make a child born in 2015 a
    centenarian).
    """
    number = compact(number)
    if not _SIXTEEN_DIGITS.match(number):
        raise IdentityError("a NIK has 16 digits")
    day_field = int(number[6:8])
    sex: Sex = "female" if day_field > 40 else "male"
    day = day_field - 40 if day_field > 40 else day_field
    month = int(number[8:10])
    yy = int(number[10:12])
    century = 2000 if 2000 + yy <= today.year else 1900
    try:
        born = date(century + yy, month, day)
    except ValueError:
        raise IdentityError("a NIK encodes a valid birth date in digits 7-12") from None
    if born > today:  # born this century's year but later in the year than today
        born = born.replace(year=born.year - 100) if (month, day) != (2, 29) else born
    return DecodedNik(number[:6], born, sex, number[12:])


def validate_nik(number: str, *, today: date) -> str:
    """The compact NIK, or :class:`IdentityError` when it cannot be one."""
    decode_nik(number, today=today)
    return compact(number)


def validate_kk(number: str) -> str:
    """The compact KK number (16 digits, a real sub-district prefix is checked as a warning)."""
    number = compact(number)
    if not _SIXTEEN_DIGITS.match(number):
        raise IdentityError("a KK number has 16 digits")
    if number[:2] == "00":
        raise IdentityError("a KK number starts with a province code")
    return number


def known_regency(code: str) -> bool:
    """Whether python-stdnum's Kemendagri table knows the regency (first four digits)."""
    parts = numdb.get("id/loc").info(code[:4])
    return len(parts) == 2 and all(info for _, info in parts)


class IdentityWarning(StrEnum):
    """Data-quality warnings: codes only, never the data itself."""

    NIK_PLACE_UNKNOWN = "nik_place_unknown"
    NIK_PLACE_OUTSIDE_REGENCY = "nik_place_outside_regency"
    NIK_BIRTH_DATE_MISMATCH = "nik_birth_date_mismatch"
    NIK_SEX_MISMATCH = "nik_sex_mismatch"
    NIK_INVALID = "nik_invalid"
    KK_PLACE_OUTSIDE_REGENCY = "kk_place_outside_regency"


def identity_warnings(
    *,
    nik: str,
    kk_number: str | None,
    birth_date: date | None,
    sex: Sex | None,
    village_code: str | None,
    today: date,
) -> list[IdentityWarning]:
    """What the NIK / KK number says that disagrees with the recorded person.

    People move after their NIK is issued, so a different sub-district inside the same regency
    is normal; only a NIK from another regency is flagged.
    """
    try:
        decoded = decode_nik(nik, today=today)
    except IdentityError:
        return [IdentityWarning.NIK_INVALID]
    found: list[IdentityWarning] = []
    if not known_regency(decoded.sub_district_code):
        found.append(IdentityWarning.NIK_PLACE_UNKNOWN)
    elif village_code is not None and decoded.sub_district_code[:4] != village_code[:4]:
        found.append(IdentityWarning.NIK_PLACE_OUTSIDE_REGENCY)
    if birth_date is not None and birth_date != decoded.birth_date:
        found.append(IdentityWarning.NIK_BIRTH_DATE_MISMATCH)
    if sex is not None and sex != decoded.sex:
        found.append(IdentityWarning.NIK_SEX_MISMATCH)
    if kk_number is not None and village_code is not None and kk_number[:4] != village_code[:4]:
        found.append(IdentityWarning.KK_PLACE_OUTSIDE_REGENCY)
    return found


def make_nik(sub_district_code: str, birth_date: date, sex: Sex, serial: int) -> str:
    """The NIK for these facts (used by the synthetic generator)."""
    if not re.fullmatch(r"\d{6}", sub_district_code) or not 1 <= serial <= 9999:
        raise IdentityError("a NIK needs a six-digit sub-district code and a serial 1-9999")
    day = birth_date.day + (40 if sex == "female" else 0)
    born = f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"
    return f"{sub_district_code}{born}{serial:04d}"


def make_kk(sub_district_code: str, issued_on: date, serial: int) -> str:
    """A KK number: sub-district code, issue date DDMMYY, serial."""
    if not re.fullmatch(r"\d{6}", sub_district_code) or not 1 <= serial <= 9999:
        raise IdentityError("a KK number needs a six-digit sub-district code and a serial 1-9999")
    return f"{sub_district_code}{issued_on:%d%m%y}{serial:04d}"
