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
from tests.support.registry import KNOWN, VILLAGE, Registry, import_file, known_rows

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
async def loaded(registry: Registry, tmp_path: Path) -> Registry:
    await import_file(registry.pool, _write(tmp_path / "known.csv", known_rows()))
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
    loaded: Registry, tmp_path: Path
) -> None:
    complaint = uuid.uuid4()
    check = RegistryCheckRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        lookup=LookupKind.NIK,
        nik=KNOWN[1].nik,
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
    enrolled = known_rows()
    enrolled[0]["household_programs"] = f"PKH;BPNT;{PROGRAM}"
    report = await import_file(loaded.pool, _write(tmp_path / "enrolled.csv", enrolled))
    assert report.needs_closed == 1
    closed = await loaded.pool.fetchval(
        "SELECT closed_at FROM program_needs WHERE complaint_id = $1", complaint
    )
    assert closed is not None
    after = _program_row(await _overview(loaded))
    assert after is not None
    assert (after["needs"], after["needs_uncovered"]) == (1, 0)


async def test_other_complaints_and_unknown_households_record_no_need(loaded: Registry) -> None:
    implementation = uuid.uuid4()
    not_found = uuid.uuid4()
    checks = [
        RegistryCheckRequested(
            request_id=uuid.uuid4(),
            complaint_id=implementation,
            lookup=LookupKind.NIK,
            nik=KNOWN[0].nik,
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
    loaded: Registry,
) -> None:
    complaint = uuid.uuid4()
    check = RegistryCheckRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        lookup=LookupKind.NIK,
        nik=KNOWN[0].nik,
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
