"""The national catalog rows of domain.md's routing table, as the registry seeds them."""

from __future__ import annotations

from slrt.contracts.events import ProgramCatalogEntry
from slrt.contracts.vocabulary import Category, ProgramChannel

IMPL = [Category.IMPLEMENTATION]


def entry(
    code: str,
    channel: ProgramChannel,
    categories: list[Category],
    *,
    sub_types: list[str] | None = None,
    area: str = "",
    level: str = "national",
    sla: int = 10,
    reminder: int | None = None,
    version: int = 1,
    active: bool = True,
) -> ProgramCatalogEntry:
    return ProgramCatalogEntry(
        code=code,
        name=code.replace("_", " "),
        level=level,
        owner_agency=f"owner of {code}",
        area=area,
        channel=channel,
        categories=categories,
        sub_types=sub_types or [],
        sla_working_days=sla,
        reminder_working_days=reminder,
        version=version,
        active=active,
    )


NATIONAL = [
    entry("DTKS", ProgramChannel.SIKS_NG, [Category.MEMBERSHIP], sla=20),
    entry("PKH", ProgramChannel.DIRECT, [*IMPL, Category.PROGRAM_NEED]),
    entry(
        "PIP_KEMENAG", ProgramChannel.DIRECT, [*IMPL, Category.PROGRAM_NEED], sub_types=["madrasah"]
    ),
    entry(
        "PIP_KEMENDIKBUD",
        ProgramChannel.LAPOR,
        [*IMPL, Category.PROGRAM_NEED],
        sub_types=["general_school"],
    ),
    entry("BPNT", ProgramChannel.LAPOR, IMPL),
    entry("RASTRA", ProgramChannel.LAPOR, IMPL),
    entry("PBI_JK", ProgramChannel.LAPOR, [*IMPL, Category.PROGRAM_NEED]),
    entry(
        "KARTU_SEHAT_BANDUNG",
        ProgramChannel.DIRECT,
        [*IMPL, Category.PROGRAM_NEED],
        area="3204",
        level="district",
        sla=5,
        reminder=3,
    ),
    entry("CSR_AIR_BERSIH", ProgramChannel.DIRECT, [Category.PROGRAM_NEED], level="non_government"),
]
