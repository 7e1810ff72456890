"""The routing plan (rencana rujukan): where a complaint's referral should go.

A pure function of the complaint and the program catalog. The catalog rows carry the SOP of
each program (which categories it takes, which sub-types, which channel, which SLA); the code
holds no routing table. Seeded national rows (domain.md): membership → Pusdatin via SIKS-NG,
PKH direct, PIP split by sub-type (madrasah → Kemenag direct, general school → Kemendikbud via
LAPOR!), BPNT/Rastra and PIS-PBI/KIS via LAPOR!, regional/CSR/NGO and program needs direct.
"""

from __future__ import annotations

from collections.abc import Iterable

from slrt.contracts.events import ProgramCatalogEntry
from slrt.contracts.vocabulary import Category, ProgramChannel
from workflows.model import RoutePlan, RouteRequest, RoutingOptions


def plan_of(entry: ProgramCatalogEntry) -> RoutePlan:
    return RoutePlan(
        destination=entry.code,
        program_name=entry.name,
        owner_agency=entry.owner_agency,
        channel=entry.channel,
        sla_working_days=entry.sla_working_days,
        reminder_working_days=entry.reminder_working_days,
    )


def serves(entry: ProgramCatalogEntry, place_code: str) -> bool:
    return entry.active and place_code.startswith(entry.area)


def _same_program(entry: ProgramCatalogEntry, program_code: str) -> bool:
    """``PIP`` names the family of ``PIP_KEMENAG`` and ``PIP_KEMENDIKBUD`` (split by sub-type)."""
    code, wanted = entry.code.upper(), program_code.upper()
    return code == wanted or code.startswith(f"{wanted}_")


def _best(
    candidates: list[ProgramCatalogEntry], sub_type: str | None
) -> ProgramCatalogEntry | None:
    if not candidates:
        return None
    if sub_type is not None:
        exact = [e for e in candidates if sub_type in e.sub_types]
        candidates = exact or [e for e in candidates if not e.sub_types]
    elif len(candidates) > 1:
        candidates = [e for e in candidates if not e.sub_types] or candidates
    # The most local program wins (village over district over national), then the code.
    ranked = sorted(candidates, key=lambda e: (-len(e.area), e.code))
    return ranked[0] if ranked else None


def suggest(request: RouteRequest, catalog: Iterable[ProgramCatalogEntry]) -> RoutePlan | None:
    """The catalog's suggestion for ``request``, or None when back office must choose."""
    usable = [e for e in catalog if serves(e, request.place_code)]
    takes = [e for e in usable if request.category in e.categories]
    if request.category is Category.INFORMATION:
        return None
    if request.category is Category.MEMBERSHIP:
        # Membership goes to whoever keeps the registry (SIKS-NG), whatever the program.
        registry_keepers = [e for e in takes if e.channel is ProgramChannel.SIKS_NG]
        chosen = _best(registry_keepers, None) or _best(
            [e for e in takes if request.program_code and _same_program(e, request.program_code)],
            request.sub_type,
        )
        return plan_of(chosen) if chosen else None
    program = request.program_code
    if program is None and request.category is Category.IMPLEMENTATION:
        # Unnamed program: the household's one current program that takes such complaints.
        current = {p.upper() for p in request.registry_programs}
        matching = [e for e in takes if any(_same_program(e, p) for p in current)]
        families = {e.code.split("_")[0].upper() for e in matching}
        if len(families) == 1:
            program = families.pop()
    if program is None:
        return None
    exact = [e for e in takes if e.code.upper() == program.upper()]
    family = exact or [e for e in takes if _same_program(e, program)]
    chosen = _best(family, request.sub_type)
    return plan_of(chosen) if chosen else None


def options(request: RouteRequest, catalog: Iterable[ProgramCatalogEntry]) -> RoutingOptions:
    entries = list(catalog)
    return RoutingOptions(
        suggested=suggest(request, entries),
        destinations={e.code: plan_of(e) for e in entries if serves(e, request.place_code)},
    )
