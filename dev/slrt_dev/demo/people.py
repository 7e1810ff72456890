"""Who complains: members of the loaded district's households, and residents it does not know.

Personal data is read from the registry here and sent only to intake's API; the demo prints
tickets, never names or NIKs. Each play gives its people new phone numbers (``run``), so the
messages a household receives at the SMS gateway stand-in are this play's, whatever earlier
plays sent; a complainant who gives an email instead gets an address made from that number."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True)
class Person:
    nik: str
    name: str
    sex: str
    village_code: str
    phone: str

    @property
    def e164(self) -> str:
        """The number as the SMS gateway receives it (``0812…`` → ``+62812…``)."""
        return "+62" + self.phone.removeprefix("0")

    @property
    def email(self) -> str:
        """An address of this play's own for the person (built from the play's number), for a
        path whose complainant gives an email instead of a phone."""
        return f"warga.{self.phone}@surel.demo.example"


async def registered(
    conn: asyncpg.Connection, district: str, count: int, run: int = 0
) -> list[Person]:
    """``count`` adults of the district with a well-formed NIK, each from a different household."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (household_id) nik, name, sex, village_code
        FROM registry.individuals
        WHERE village_code LIKE $1 || '%' AND birth_date < now() - interval '18 years'
          AND substr(nik, 1, 4) = $1
        ORDER BY household_id, nik
        LIMIT $2
        """,
        district,
        count,
    )
    return [
        Person(r["nik"], r["name"], r["sex"], r["village_code"], _phone(run, i))
        for i, r in enumerate(rows)
    ]


async def unregistered(
    conn: asyncpg.Connection, village_code: str, count: int, run: int = 0
) -> list[Person]:
    """Residents of ``village_code`` whose NIK the registry does not hold (the pre-list's
    people). The NIK is shaped like a real one: sub-district, birth date, serial."""
    found: list[Person] = []
    serial = 9000
    while len(found) < count:
        nik = f"{village_code[:6]}150385{serial:04d}"
        serial += 1
        if await conn.fetchval("SELECT 1 FROM registry.individuals WHERE nik = $1", nik):
            continue
        phone = _phone(run, 5000 + len(found))
        found.append(Person(nik, "Warga Belum Terdaftar", "male", village_code, phone))
    return found


def _phone(run: int, n: int) -> str:
    """A mobile number of its own for person ``n`` of play ``run`` (13 digits: 0812, the run's
    five, the person's four)."""
    return f"0812{run % 100_000:05d}{n % 10_000:04d}"
