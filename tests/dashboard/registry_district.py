"""A small hand-built district in the registry's own tables, whose aggregates are worked out
by hand in test_registry_aggregates.py. Names and NIKs are synthetic."""

from __future__ import annotations

import uuid
from datetime import date

from slrt.db import Connection

PLACES = [
    ("32", "Jawa Barat", None, "province"),
    ("3204", "Kabupaten Bandung", "32", "regency"),
    ("320405", "Cileunyi", "3204", "sub_district"),
    ("320406", "Cimenyan", "3204", "sub_district"),
    ("3204052001", "Cileunyi Kulon", "320405", "village"),
    ("3204052002", "Cileunyi Wetan", "320405", "village"),
    ("3204061001", "Padasuka", "320406", "village"),
    ("3273", "Kota Bandung", "32", "regency"),
    ("327301", "Sukasari", "3273", "sub_district"),
    ("3273011001", "Sukarasa", "327301", "village"),
]
V1, V2, V3, OTHER = "3204052001", "3204052002", "3204061001", "3273011001"

# household: (village, decile, [(sex, disability)], programs)
Member = tuple[str, str | None]
HOUSEHOLDS: dict[str, tuple[str, int, list[Member], list[str]]] = {
    "H1": (V1, 1, [("female", "physical"), ("male", None)], ["PKH", "BPNT"]),
    "H2": (V1, 2, [("female", None)], ["PKH", "BPNT"]),
    "H3": (V1, 3, [("male", None)], ["BPNT"]),
    "H4": (V1, 4, [("female", "visual")], []),
    "H5": (V1, 7, [("male", None)], []),
    "H6": (V2, 1, [("female", None)], ["PKH"]),
    "H7": (V2, 5, [("male", None)], ["PIP"]),
    "H8": (V3, 2, [("female", None)], []),
    "H9": (V3, 9, [("male", None)], []),
    "H10": (OTHER, 1, [("female", None)], ["PKH"]),
}
INDIVIDUAL_PROGRAMS = {"PIP"}
"""PIP is paid to a pupil: its participation names the member."""
# (household, need, program or None)
NEEDS = [
    ("H4", "school_assistance", "PIP"),
    ("H3", "health_insurance", None),
    ("H1", "food", "BPNT"),
    ("H8", "elderly_care", None),
]


def household_id(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"slrt-test-household-{name}")


async def load(conn: Connection) -> None:
    await conn.executemany(
        "INSERT INTO places (code, name, parent_code, level) VALUES ($1, $2, $3, $4)", PLACES
    )
    for code in ("PKH", "BPNT", "PIP"):
        await conn.execute(
            "INSERT INTO programs (code, name, level, owner_agency, channel, categories, "
            "sla_working_days, version, updated_by) VALUES ($1, $1, 'national', 'Kemensos', "
            "'direct', '{implementation}', 10, 1, 'test')",
            code,
        )
    serial = 0
    for name, (village, decile, members, programs) in HOUSEHOLDS.items():
        await add_household(conn, name, village, decile, members, programs, serial)
        serial += len(members)
    for i, (name, need, program) in enumerate(NEEDS):
        await conn.execute(
            "INSERT INTO program_needs (id, household_id, need, program_code, recorded_by) "
            "VALUES ($1, $2, $3, $4, 'test')",
            uuid.uuid5(uuid.NAMESPACE_URL, f"need-{i}"),
            household_id(name),
            need,
            program,
        )
    # The same household in PKH for an earlier period too: still one household in PKH.
    await conn.execute(
        "INSERT INTO participation (household_id, program_code, period) VALUES ($1, 'PKH', "
        "'2026-05')",
        household_id("H1"),
    )
    for i, (status, reason) in enumerate(
        [
            ("proposed", None),
            ("proposed", None),
            ("exported", None),
            ("accepted", None),
            ("rejected", "not_poor"),
        ]
    ):
        await conn.execute(
            "INSERT INTO prelist_entries (id, name, village_code, status, result_reason, "
            "created_by) VALUES ($1, 'Warga', $2, $3, $4, 'test')",
            uuid.uuid5(uuid.NAMESPACE_URL, f"prelist-{i}"),
            V1,
            status,
            reason,
        )
    person = await conn.fetchval(
        "SELECT id FROM individuals WHERE household_id = $1 LIMIT 1", household_id("H1")
    )
    for i, status in enumerate(["proposed", "accepted"]):
        await conn.execute(
            "INSERT INTO change_proposals (id, individual_id, village_code, field, new_value, "
            "evidence, status, created_by) VALUES ($1, $2, $3, 'disability', 'visual', 'visit', "
            "$4, 'test')",
            uuid.uuid5(uuid.NAMESPACE_URL, f"change-{i}"),
            person,
            V1,
            status,
        )


async def add_household(
    conn: Connection,
    name: str,
    village: str,
    decile: int,
    members: list[Member],
    programs: list[str],
    serial: int,
) -> None:
    hid = household_id(name)
    kk = f"{village[:6]}{serial:010d}"
    await conn.execute(
        "INSERT INTO households (id, registry_ref, village_code, welfare_decile) "
        "VALUES ($1, $2, $3, $4)",
        hid,
        f"IDRT-{name}",
        village,
        decile,
    )
    await conn.execute("INSERT INTO families (kk_number, household_id) VALUES ($1, $2)", kk, hid)
    first: uuid.UUID | None = None
    for n, (sex, disability) in enumerate(members):
        pid = uuid.uuid5(hid, str(n))
        first = first or pid
        await conn.execute(
            "INSERT INTO individuals (id, nik, household_id, kk_number, name, name_key, sex, "
            "birth_date, relation, disability, village_code) VALUES ($1, $2, $3, $4, 'Warga', "
            "'warga', $5, $6, $7, $8, $9)",
            pid,
            f"{village[:6]}01019{serial + n:04d}"[:16].ljust(16, "0"),
            hid,
            kk,
            sex,
            date(1980, 1, 1),
            "head" if n == 0 else "member",
            disability,
            village,
        )
    for program in programs:
        await conn.execute(
            "INSERT INTO participation (household_id, individual_id, program_code, period) "
            "VALUES ($1, $2, $3, '2026-11')",
            hid,
            first if program in INDIVIDUAL_PROGRAMS else None,
            program,
        )
