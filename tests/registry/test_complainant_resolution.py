"""How the registry reads a request that names the complainant by reference (plain functions):
the one identifier its lookup uses, the person to pre-list, what intake's answers mean (retry
or dead letter), and requests of the old form (identity inline) used as they are."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest

from services.registry.complainants import (
    Purpose,
    answer,
    check_identifier,
    resolve_check,
    resolve_prelist,
)
from slrt.contracts.complainants import complainant_reference, lookup_kind
from slrt.contracts.events import Complainant, PrelistEntryRequested, RegistryCheckRequested
from slrt.contracts.vocabulary import LookupKind
from slrt.kafka import PermanentError, TransientError

PERSON = Complainant(
    nik="3204054107850003",
    kk_number="3204050505200901",
    name="Siti Aminah",
    sex="female",
    birth_date=date(1985, 7, 1),
    address="Kp. Sukamaju",
    village_code="3204052001",
)


class Redeemed:
    """What intake released, and the calls made (reference, purpose)."""

    def __init__(self, person: Complainant) -> None:
        self.person = person
        self.calls: list[tuple[str, Purpose]] = []

    async def redeem(self, reference: str, request_id: uuid.UUID, purpose: Purpose) -> Complainant:
        self.calls.append((reference, purpose))
        return self.person


def test_the_lookup_kind_is_the_first_identifier_given() -> None:
    assert lookup_kind(PERSON) is LookupKind.NIK
    assert lookup_kind(PERSON.model_copy(update={"nik": None})) is LookupKind.KK
    bare = PERSON.model_copy(update={"nik": None, "kk_number": None})
    assert lookup_kind(bare) is LookupKind.NAME_AND_PLACE


def test_a_check_uses_only_the_identifier_its_lookup_names() -> None:
    assert check_identifier(LookupKind.NIK, PERSON) == {"nik": PERSON.nik}
    assert check_identifier(LookupKind.KK, PERSON) == {"kk_number": PERSON.kk_number}
    assert check_identifier(LookupKind.NAME_AND_PLACE, PERSON) == {
        "name": "Siti Aminah",
        "place_code": "3204052001",
    }


async def test_a_check_by_reference_is_redeemed_and_an_old_one_is_used_as_it_is() -> None:
    complaint = uuid.uuid4()
    intake = Redeemed(PERSON)
    by_ref = RegistryCheckRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        lookup=LookupKind.KK,
        complainant_ref=complainant_reference(complaint),
    )
    resolved = await resolve_check(by_ref, intake)
    assert (resolved.kk_number, resolved.nik, resolved.name) == (PERSON.kk_number, None, None)
    assert intake.calls == [(complainant_reference(complaint), "registry_check")]
    old = RegistryCheckRequested(
        request_id=uuid.uuid4(), complaint_id=complaint, lookup=LookupKind.NIK, nik=PERSON.nik
    )
    assert await resolve_check(old, intake) is old
    assert len(intake.calls) == 1


async def test_a_prelist_by_reference_is_redeemed_and_an_old_one_carries_its_person() -> None:
    complaint = uuid.uuid4()
    intake = Redeemed(PERSON)
    common = {"request_id": uuid.uuid4(), "complaint_id": complaint, "ticket_number": "T-1"}
    by_ref = PrelistEntryRequested(**common, complainant_ref=complainant_reference(complaint))
    assert await resolve_prelist(by_ref, intake) == PERSON
    assert intake.calls == [(complainant_reference(complaint), "prelist")]
    other = PERSON.model_copy(update={"name": "Asep"})
    assert await resolve_prelist(PrelistEntryRequested(**common, person=other), intake) == other
    with pytest.raises(PermanentError):
        await resolve_prelist(PrelistEntryRequested(**common), intake)


@pytest.mark.parametrize("status", [401, 403, 408, 429, 500, 502, 503])
def test_intake_refusing_or_failing_is_retried(status: int) -> None:
    with pytest.raises(TransientError):
        answer(status, httpx.Response(status, json={"detail": "x"}))


@pytest.mark.parametrize("status", [404, 400, 422])
def test_an_unknown_or_bad_reference_is_dead_lettered(status: int) -> None:
    assert PERSON.nik is not None
    with pytest.raises(PermanentError) as raised:
        answer(status, httpx.Response(status, json={"nik": PERSON.nik}))
    assert PERSON.nik not in str(raised.value)  # errors never echo intake's answer


def test_an_anonymous_complaint_is_dead_lettered_and_a_release_is_the_person() -> None:
    reference = complainant_reference(uuid.uuid4())
    released = {
        "reference": reference,
        "anonymous": False,
        "complainant": PERSON.model_dump(mode="json"),
    }
    assert answer(200, httpx.Response(200, json=released)) == PERSON
    with pytest.raises(PermanentError):
        answer(200, httpx.Response(200, json={"reference": reference, "anonymous": True}))
