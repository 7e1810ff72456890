"""Answering a registry check (pemeriksaan DT-PPFM) for a complaint."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from services.registry.domain.identity import IdentityError, compact, identity_warnings, validate_kk
from services.registry.domain.matching import pick_name_match
from services.registry.domain.program_info import may_qualify_for
from services.registry.store import needs, persons, program_info
from slrt.contracts.complaints import MayQualify
from slrt.contracts.events import RegistryCheckCompleted, RegistryCheckRequested
from slrt.contracts.vocabulary import Category, LookupKind
from slrt.db import Connection

CHECK_ACTOR = "system:registry-check"


async def answer(
    conn: Connection, request: RegistryCheckRequested, *, today: date
) -> RegistryCheckCompleted:
    """Found or not, with the household, decile, programs and data-quality warnings.

    The read is audit-logged against the complaint like any person read. A program-need
    complaint about a household found records the need (once per complaint).
    """
    found = await _find(conn, request, today)
    individual_id, household_id, decile, warnings = found
    programs: list[str] = []
    hints: list[MayQualify] = []
    if household_id is not None:
        programs = await persons.programs(conn, household_id, individual_id)
        hints = await _may_qualify(conn, household_id, today)
        if request.category is Category.PROGRAM_NEED:
            await needs.record_from_complaint(
                conn,
                complaint_id=request.complaint_id,
                household_id=household_id,
                individual_id=individual_id,
                program_code=request.program_code,
            )
        await persons.audit(
            conn,
            actor=CHECK_ACTOR,
            action="registry_check",
            reads=[(individual_id, household_id)],
            complaint_id=request.complaint_id,
        )
    if household_id is None and request.category is Category.PROGRAM_NEED:
        # Not in DT-PPFM (routing pre-lists the person): the need waits for the household.
        await needs.await_household(
            conn, complaint_id=request.complaint_id, program_code=request.program_code
        )
    return RegistryCheckCompleted(
        request_id=request.request_id,
        complaint_id=request.complaint_id,
        found=household_id is not None,
        household_id=household_id,
        individual_id=individual_id,
        welfare_decile=decile,
        programs=programs,
        warnings=warnings,
        may_qualify_for=hints,
    )


async def _may_qualify(conn: Connection, household_id: UUID, today: date) -> list[MayQualify]:
    """The programs the household may qualify for by its district's eligibility criteria (a
    hint for back office beside the complaint, never a decision)."""
    village = await program_info.household_village(conn, household_id)
    if village is None:
        return []
    criteria = await program_info.district_criteria(conn, village[:4])
    if not criteria:  # the district keeps no criteria: no hint, and no household read for it
        return []
    found = await program_info.household_facts(conn, household_id)
    if found is None:
        return []
    _, household = found
    return [
        MayQualify(
            program_code=a.program_code,
            entry_id=a.entry_id,
            entry_version=a.entry_version,
            to_check=list(a.to_check),
        )
        for a in may_qualify_for(criteria, household, today)
    ]


Found = tuple[UUID | None, UUID | None, int | None, list[str]]


async def _find(conn: Connection, request: RegistryCheckRequested, today: date) -> Found:
    if request.lookup is LookupKind.NIK:
        nik = compact(request.nik or "")
        person = await persons.by_nik(conn, nik) if len(nik) == 16 and nik.isdigit() else None
        if person is None:
            return None, None, None, [] if len(nik) == 16 and nik.isdigit() else ["nik_invalid"]
        found = identity_warnings(
            nik=person["nik"],
            kk_number=person["kk_number"],
            birth_date=person["birth_date"],
            sex=person["sex"],
            village_code=person["village_code"],
            today=today,
        )
        codes = [str(w) for w in found]
        return person["id"], person["household_id"], person["welfare_decile"], codes
    if request.lookup is LookupKind.KK:
        try:
            kk = validate_kk(request.kk_number or "")
        except IdentityError:
            return None, None, None, ["kk_invalid"]
        family = await persons.household_of_kk(conn, kk)
        if family is None:
            return None, None, None, []
        return None, family["id"], family["welfare_decile"], []
    if not request.name or not request.place_code:
        return None, None, None, ["name_and_place_required"]
    candidates = await persons.search_by_name(conn, request.name, request.place_code, limit=5)
    chosen, notes = pick_name_match([c["score"] for c in candidates])
    if chosen is None:
        return None, None, None, notes
    match = candidates[chosen]
    return match["id"], match["household_id"], match["welfare_decile"], notes
