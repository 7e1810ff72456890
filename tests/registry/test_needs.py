"""Needs from program-need complaints: recorded once per complaint from the registry check
(whatever the redeliveries), counted at once in the needs and planning figures, closed when the
household enters the program."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

import pytest

from services.registry.api import aggregates
from services.registry.domain.needs import NO_PROGRAM_NEED, need_from_complaint
from services.registry.extract import COLUMNS
from slrt.auth.principal import Role
from slrt.contracts.events import RegistryCheckRequested
from slrt.contracts.vocabulary import Category, LookupKind
from slrt.kafka import EventProducer
from tests.support.polling import until
from tests.support.registry import (
    VILLAGE,
    Registry,
    fresh_nik,
    import_file,
    known_rows,
    own_household,
)

PROGRAM = "PIP_KEMENDIKBUD"
PROGRAM_NAME = "Program Indonesia Pintar (PIP) — sekolah umum"


@pytest.mark.unit
def test_a_need_is_named_after_the_catalog_program_never_the_complaint_text() -> None:
    assert need_from_complaint("PKH", "Program Keluarga Harapan (PKH)") == (
        "Program Keluarga Harapan (PKH)",
        "PKH",
    )
    # No program named, or a code the catalog does not know: a need no program covers.
    assert need_from_complaint(None, None) == (NO_PROGRAM_NEED, None)
    assert need_from_complaint("NOPE", None) == (NO_PROGRAM_NEED, None)


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def own() -> tuple[list[dict[str, str]], str]:
    """A household (receiving PKH) only this test has: the checks it publishes reach other
    tests' registries too (a shared topic), where this person is unknown."""
    return own_household("Dadang Sutisna")


@pytest.fixture
async def loaded(
    registry: Registry, tmp_path: Path, own: tuple[list[dict[str, str]], str]
) -> Registry:
    rows = known_rows() + own[0]
    await import_file(registry.pool, _write(tmp_path / "known.csv", rows))
    await aggregates.refresh(registry.pool)  # as the import API does
    return registry


async def _overview(registry: Registry) -> dict[str, Any]:
    response = await registry.client.get(
        "/v1/aggregates", params={"area": VILLAGE}, headers=registry.auth(Role.MANAGER)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _program_row(overview: dict[str, Any]) -> dict[str, Any] | None:
    rows = [p for p in overview["programs"] if p["program"] == PROGRAM]
    return rows[0] if rows else None


async def test_a_program_need_complaint_records_one_need_whatever_the_redeliveries(
    loaded: Registry, tmp_path: Path, own: tuple[list[dict[str, str]], str]
) -> None:
    complaint = uuid.uuid4()
    check = RegistryCheckRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        lookup=LookupKind.NIK,
        nik=own[1],
        category=Category.PROGRAM_NEED,
        program_code=PROGRAM,
    )
    # The workflow asks again for the same complaint (a new request, a new event).
    again = check.model_copy(update={"request_id": uuid.uuid4()})
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        event_id = str(uuid.uuid4())
        await producer.publish(check, subject=str(complaint), id=event_id)
        await producer.publish(check, subject=str(complaint), id=event_id)  # redelivered
        await producer.publish(again, subject=str(complaint), id=str(uuid.uuid4()))

    async def both_answered() -> bool:
        audited = await loaded.pool.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'registry_check' AND complaint_id = $1",
            complaint,
        )
        return bool(audited == 2)

    await until(both_answered, timeout=60)
    rows = await loaded.pool.fetch(
        "SELECT need, program_code, recorded_by, closed_at FROM program_needs "
        "WHERE complaint_id = $1",
        complaint,
    )
    assert [tuple(r) for r in rows] == [(PROGRAM_NAME, PROGRAM, "system:complaint", None)]

    # The needs figures and the planning scorecard count it at once (no refresh needed).
    overview = await _overview(loaded)
    assert _program_row(overview) == {
        "program": PROGRAM,
        "households": 0,
        "individuals": 0,
        "needs": 1,
        "needs_uncovered": 1,
    }
    assert {"need": PROGRAM_NAME, "count": 1, "uncovered": 0, "unmet": 1} in overview["needs"]
    places = await loaded.client.get(
        "/v1/aggregates/places",
        params={"area": VILLAGE[:6], "depth": 10},
        headers=loaded.auth(Role.MANAGER),
    )
    assert places.status_code == 200, places.text
    (village,) = [p for p in places.json()["places"] if p["code"] == VILLAGE]
    assert village["unmet_needs"] == 1

    # The household enters the program (the next participation import): the need closes.
    enrolled = [*known_rows(), {**own[0][0], "household_programs": f"PKH;{PROGRAM}"}]
    report = await import_file(loaded.pool, _write(tmp_path / "enrolled.csv", enrolled))
    assert report.needs_closed == 1
    closed = await loaded.pool.fetchval(
        "SELECT closed_at FROM program_needs WHERE complaint_id = $1", complaint
    )
    assert closed is not None
    after = _program_row(await _overview(loaded))
    assert after is not None
    assert (after["needs"], after["needs_uncovered"]) == (1, 0)


async def test_other_complaints_and_unknown_households_record_no_need(
    loaded: Registry, own: tuple[list[dict[str, str]], str]
) -> None:
    implementation = uuid.uuid4()
    not_found = uuid.uuid4()
    checks = [
        RegistryCheckRequested(
            request_id=uuid.uuid4(),
            complaint_id=implementation,
            lookup=LookupKind.NIK,
            nik=own[1],
            category=Category.IMPLEMENTATION,
            program_code="PKH",
        ),
        RegistryCheckRequested(
            request_id=uuid.uuid4(),
            complaint_id=not_found,
            lookup=LookupKind.NIK,
            nik="3204054101990001",
            category=Category.PROGRAM_NEED,
            program_code=PROGRAM,
        ),
    ]
    ids = [str(uuid.uuid4()) for _ in checks]
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        for check, event_id in zip(checks, ids, strict=True):
            await producer.publish(check, subject=str(check.complaint_id), id=event_id)

    async def answered() -> bool:
        count = await loaded.pool.fetchval(
            "SELECT count(*) FROM processed_events WHERE event_id = ANY($1::text[])", ids
        )
        return bool(count == len(ids))

    await until(answered, timeout=60)
    assert not await loaded.pool.fetchval(
        "SELECT count(*) FROM program_needs WHERE complaint_id = ANY($1::uuid[])",
        [implementation, not_found],
    )


async def test_a_need_for_a_program_the_household_has_is_recorded_closed(
    loaded: Registry, own: tuple[list[dict[str, str]], str]
) -> None:
    complaint = uuid.uuid4()
    check = RegistryCheckRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        lookup=LookupKind.NIK,
        nik=own[1],
        category=Category.PROGRAM_NEED,
        program_code="PKH",
    )
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        await producer.publish(check, subject=str(complaint), id=str(uuid.uuid4()))

    async def recorded() -> Any:
        return await loaded.pool.fetchrow(
            "SELECT program_code, closed_at FROM program_needs WHERE complaint_id = $1", complaint
        )

    row = await until(recorded, timeout=60)
    assert row["program_code"] == "PKH"
    assert row["closed_at"] is not None


async def test_the_need_of_a_person_not_yet_in_the_registry_waits_for_the_household(
    loaded: Registry,
) -> None:
    nik = fresh_nik()
    first, second = uuid.uuid4(), uuid.uuid4()
    checks = [
        RegistryCheckRequested(
            request_id=uuid.uuid4(),
            complaint_id=complaint,
            lookup=LookupKind.NIK,
            nik=nik,
            category=Category.PROGRAM_NEED,
            program_code=program,
        )
        for complaint, program in ((first, PROGRAM), (second, "PKH"))
    ]
    ids = [str(uuid.uuid4()) for _ in checks]
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        for check, event_id in zip(checks, ids, strict=True):
            await producer.publish(check, subject=str(check.complaint_id), id=event_id)

    async def answered() -> bool:
        count = await loaded.pool.fetchval(
            "SELECT count(*) FROM processed_events WHERE event_id = ANY($1::text[])", ids
        )
        return bool(count == len(ids))

    await until(answered, timeout=60)
    assert not await loaded.pool.fetchval(
        "SELECT count(*) FROM program_needs WHERE complaint_id = ANY($1::uuid[])", [first, second]
    )

    # Both complaints pre-list the person (the second joins the first entry); SIKS-NG accepts.
    facilitator = loaded.auth(Role.FACILITATOR, "320405")
    supervisor = loaded.auth(Role.SUPERVISOR, "320405")
    person = {
        "name": "Odah Rohaedah",
        "village_code": VILLAGE,
        "nik": nik,
        "kk_number": "3204051810250078",
        "sex": "male",
        "birth_date": f"19{nik[10:12]}-{nik[8:10]}-{nik[6:8]}",
    }
    entry = await loaded.client.post(
        "/v1/prelist", json={**person, "complaint_id": str(first)}, headers=facilitator
    )
    joined = await loaded.client.post(
        "/v1/prelist", json={**person, "complaint_id": str(second)}, headers=facilitator
    )
    assert (entry.status_code, joined.status_code) == (201, 200)
    entry_id = entry.json()["id"]
    approved = await loaded.client.post(
        f"/v1/prelist/{entry_id}/review", json={"decision": "approve"}, headers=supervisor
    )
    assert approved.status_code == 200, approved.text
    manager = loaded.auth(Role.MANAGER, "3204")
    batch_id = (await loaded.client.post("/v1/siks-ng/batches", headers=manager)).json()["batch_id"]
    results = (
        "batch_id,item_id,result,reason,household_ref,welfare_decile\n"
        f"{batch_id},{entry_id},accepted,,3204SIKS{uuid.uuid4().hex[:8]},2\n"
    )
    applied = await loaded.client.post(
        f"/v1/siks-ng/batches/{batch_id}/results",
        content=results,
        headers={**loaded.auth(Role.DATA_MANAGER, "3204"), "Content-Type": "text/csv"},
    )
    assert applied.json()["applied"] == 1, applied.text

    rows = await loaded.pool.fetch(
        "SELECT n.complaint_id, n.program_code, n.household_id = e.household_id AS same, "
        "n.individual_id IS NOT NULL AS member FROM program_needs n "
        "JOIN prelist_entries e ON e.id = $2 WHERE n.complaint_id = ANY($1::uuid[]) "
        "ORDER BY n.program_code",
        [first, second],
        uuid.UUID(entry_id),
    )
    assert [tuple(r) for r in rows] == [(first, PROGRAM, True, True), (second, "PKH", True, True)]
