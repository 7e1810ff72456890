"""The routing plan against the seeded national catalog (domain.md's table as data)."""

from __future__ import annotations

import uuid

import pytest

from slrt.contracts.vocabulary import Category, ProgramChannel
from tests.workflows.catalog import NATIONAL, entry
from workflows.model import RouteRequest
from workflows.routing_plan import options, suggest

BANDUNG_VILLAGE = "3204052001"
BOGOR_VILLAGE = "3201010001"


def request(
    category: Category,
    program: str | None = None,
    sub_type: str | None = None,
    *,
    place: str = BANDUNG_VILLAGE,
    registry_programs: list[str] | None = None,
) -> RouteRequest:
    return RouteRequest(
        complaint_id=uuid.uuid4(),
        category=category,
        program_code=program,
        sub_type=sub_type,
        place_code=place,
        registry_found=registry_programs is not None,
        registry_programs=registry_programs or [],
    )


@pytest.mark.parametrize(
    ("category", "program", "sub_type", "destination", "channel"),
    [
        (Category.MEMBERSHIP, "PKH", None, "DTKS", ProgramChannel.SIKS_NG),
        (Category.MEMBERSHIP, None, None, "DTKS", ProgramChannel.SIKS_NG),
        (Category.IMPLEMENTATION, "PKH", None, "PKH", ProgramChannel.DIRECT),
        (Category.IMPLEMENTATION, "PIP", "madrasah", "PIP_KEMENAG", ProgramChannel.DIRECT),
        (Category.IMPLEMENTATION, "PIP", "general_school", "PIP_KEMENDIKBUD", ProgramChannel.LAPOR),
        (Category.IMPLEMENTATION, "BPNT", None, "BPNT", ProgramChannel.LAPOR),
        (Category.IMPLEMENTATION, "RASTRA", None, "RASTRA", ProgramChannel.LAPOR),
        (Category.IMPLEMENTATION, "PBI_JK", None, "PBI_JK", ProgramChannel.LAPOR),
        (
            Category.IMPLEMENTATION,
            "KARTU_SEHAT_BANDUNG",
            None,
            "KARTU_SEHAT_BANDUNG",
            ProgramChannel.DIRECT,
        ),
        (Category.PROGRAM_NEED, "CSR_AIR_BERSIH", None, "CSR_AIR_BERSIH", ProgramChannel.DIRECT),
        (Category.PROGRAM_NEED, "PIP", "madrasah", "PIP_KEMENAG", ProgramChannel.DIRECT),
    ],
)
def test_the_seeded_table_routes_each_row(
    category: Category,
    program: str | None,
    sub_type: str | None,
    destination: str,
    channel: ProgramChannel,
) -> None:
    plan = suggest(request(category, program, sub_type), NATIONAL)
    assert plan is not None
    assert (plan.destination, plan.channel) == (destination, channel)


def test_the_sla_comes_from_the_catalog_row() -> None:
    plan = suggest(request(Category.IMPLEMENTATION, "KARTU_SEHAT_BANDUNG"), NATIONAL)
    assert plan is not None
    assert (plan.sla_working_days, plan.reminder_working_days) == (5, 3)


def test_a_regional_program_does_not_serve_other_districts() -> None:
    assert (
        suggest(
            request(Category.IMPLEMENTATION, "KARTU_SEHAT_BANDUNG", place=BOGOR_VILLAGE), NATIONAL
        )
        is None
    )
    found = options(request(Category.IMPLEMENTATION, place=BOGOR_VILLAGE), NATIONAL)
    assert "KARTU_SEHAT_BANDUNG" not in found.destinations
    assert "PKH" in found.destinations


def test_an_exact_program_code_wins_over_its_code_family() -> None:
    catalog = [
        *NATIONAL,
        entry("PKH_BANDUNG", ProgramChannel.DIRECT, [Category.IMPLEMENTATION], area="3204"),
    ]
    plan = suggest(request(Category.IMPLEMENTATION, "PKH"), catalog)
    assert plan is not None
    assert plan.destination == "PKH"
    plan = suggest(request(Category.IMPLEMENTATION, "PKH_BANDUNG"), catalog)
    assert plan is not None
    assert plan.destination == "PKH_BANDUNG"


def test_an_unnamed_program_is_taken_from_the_households_one_current_program() -> None:
    plan = suggest(request(Category.IMPLEMENTATION, registry_programs=["BPNT"]), NATIONAL)
    assert plan is not None
    assert plan.destination == "BPNT"
    # Two current programs: back office must choose.
    assert (
        suggest(request(Category.IMPLEMENTATION, registry_programs=["BPNT", "PKH"]), NATIONAL)
        is None
    )


def test_information_requests_and_unknown_programs_have_no_suggestion() -> None:
    assert suggest(request(Category.INFORMATION), NATIONAL) is None
    assert suggest(request(Category.IMPLEMENTATION, "NOPE"), NATIONAL) is None
    assert suggest(request(Category.PROGRAM_NEED), NATIONAL) is None


def test_inactive_programs_are_never_suggested_nor_offered() -> None:
    catalog = [entry("PKH", ProgramChannel.DIRECT, [Category.IMPLEMENTATION], active=False)]
    assert suggest(request(Category.IMPLEMENTATION, "PKH"), catalog) is None
    assert options(request(Category.IMPLEMENTATION, "PKH"), catalog).destinations == {}


def test_a_program_that_does_not_take_the_category_is_not_suggested() -> None:
    assert suggest(request(Category.IMPLEMENTATION, "CSR_AIR_BERSIH"), NATIONAL) is None
