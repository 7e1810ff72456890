"""Registry checks and pre-list requests over the real Kafka broker, redeliveries deduped."""

from __future__ import annotations

import asyncio
import csv
import uuid
from pathlib import Path

import pytest

from services.registry.extract import COLUMNS
from slrt.contracts.envelope import Envelope, EventData, from_kafka
from slrt.contracts.events import (
    Complainant,
    PrelistEntryRequested,
    RegistryCheckCompleted,
    RegistryCheckRequested,
    RegistryProposalUpdated,
)
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import LookupKind
from slrt.kafka import EventProducer
from tests.support.kafka_tools import read_topic
from tests.support.polling import poll
from tests.support.registry import (
    KK,
    KNOWN,
    VILLAGE,
    Registry,
    fresh_nik,
    import_file,
    known_rows,
)


async def _answers(bootstrap: str, request_ids: set[uuid.UUID], expect: int) -> list[Envelope]:
    """The results on the topic for these requests (waits for ``expect``, then a bit more so
    that a duplicate would show up too)."""
    found: list[Envelope] = []
    deadline = asyncio.get_running_loop().time() + 60
    while asyncio.get_running_loop().time() < deadline:
        records = await read_topic(bootstrap, Topic.REGISTRY_RESULTS.value, expect=0, timeout=1)
        envelopes = [from_kafka(r.key, r.headers, r.value) for r in records]
        # Other tests' events share the topic (some without a request id).
        found = [
            e
            for e in envelopes
            if e.data.get("request_id") and uuid.UUID(e.data["request_id"]) in request_ids
        ]
        if len(found) >= expect:
            break
    return found


@pytest.fixture
async def loaded(registry: Registry, tmp_path: Path) -> Registry:
    path = tmp_path / "known.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(known_rows())
    await import_file(registry.pool, path)
    return registry


async def _send(producer: EventProducer, data: EventData, subject: str, id: str) -> None:
    await producer.publish(data, subject=subject, id=id)


async def test_registry_checks_are_answered_once_even_when_redelivered(
    loaded: Registry, kafka_bootstrap: str
) -> None:
    complaint = uuid.uuid4()
    by_nik = RegistryCheckRequested(
        request_id=uuid.uuid4(), complaint_id=complaint, lookup=LookupKind.NIK, nik=KNOWN[4].nik
    )
    by_kk = RegistryCheckRequested(
        request_id=uuid.uuid4(), complaint_id=complaint, lookup=LookupKind.KK, kk_number=KK
    )
    by_name = RegistryCheckRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        lookup=LookupKind.NAME_AND_PLACE,
        name="Muhamad Rizky Pratama",
        place_code=VILLAGE,
    )
    unknown = RegistryCheckRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        lookup=LookupKind.NIK,
        nik="3204054101990001",
    )
    checks = [by_nik, by_kk, by_name, unknown]
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        ids = {}
        for check in checks:
            ids[check.request_id] = str(uuid.uuid4())
            await _send(producer, check, str(complaint), ids[check.request_id])
        # The same event again, as a redelivery after a crash would bring it.
        await _send(producer, by_nik, str(complaint), ids[by_nik.request_id])

        answers = await _answers(kafka_bootstrap, set(ids), expect=len(checks))

    assert len(answers) == len(checks)  # the redelivered request was not answered twice
    assert all(a.subject == str(complaint) for a in answers)
    result = {uuid.UUID(a.data["request_id"]): a.parse(RegistryCheckCompleted) for a in answers}
    nik_answer = result[by_nik.request_id]
    assert nik_answer.found
    assert nik_answer.welfare_decile == 2
    assert nik_answer.programs == ["BPNT", "PIS_PBI", "PKH"]
    assert nik_answer.warnings == ["nik_sex_mismatch"]
    kk_answer = result[by_kk.request_id]
    assert kk_answer.found
    assert kk_answer.household_id == nik_answer.household_id
    assert kk_answer.individual_id is None
    name_answer = result[by_name.request_id]
    assert name_answer.found
    assert name_answer.warnings == ["matched_by_name"]
    assert name_answer.household_id == nik_answer.household_id
    assert not result[unknown.request_id].found
    assert result[unknown.request_id].household_id is None
    audited = await loaded.pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'registry_check' AND complaint_id = $1",
        complaint,
    )
    assert audited == 3


async def test_a_prelist_request_creates_one_entry(loaded: Registry, kafka_bootstrap: str) -> None:
    complaint = uuid.uuid4()
    request = PrelistEntryRequested(
        request_id=uuid.uuid4(),
        complaint_id=complaint,
        ticket_number="SLRT-3204-000123",
        person=Complainant(name="Asep Saepudin", sex="male", village_code=VILLAGE, nik=fresh_nik()),
    )
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        await _send(producer, request, str(complaint), str(uuid.uuid4()))
        # A second event for the same request (routing retried): still one entry.
        await _send(producer, request, str(complaint), str(uuid.uuid4()))
        answers = await _answers(kafka_bootstrap, {request.request_id}, expect=1)

    assert len(answers) == 1
    update = answers[0].parse(RegistryProposalUpdated)
    assert (update.kind, update.status, update.complaint_id) == ("prelist", "proposed", complaint)
    # Each test's consumer group reads the topic from the start: look at this test's entries.
    rows = await loaded.pool.fetch(
        "SELECT complaint_id, ticket_number, status, created_by FROM prelist_entries "
        "WHERE complaint_id = $1",
        complaint,
    )
    assert [tuple(r) for r in rows] == [
        (complaint, "SLRT-3204-000123", "proposed", "system:routing")
    ]


async def test_a_request_for_an_unknown_village_is_dead_lettered(
    loaded: Registry, kafka_bootstrap: str
) -> None:
    request = PrelistEntryRequested(
        request_id=uuid.uuid4(),
        complaint_id=uuid.uuid4(),
        ticket_number="SLRT-3204-000124",
        person=Complainant(name="Asep", village_code="3204999999"),
    )
    event_id = str(uuid.uuid4())
    async with EventProducer(loaded.settings.connections, "/slrt/routing") as producer:
        await _send(producer, request, str(request.complaint_id), event_id)

    async def dead_lettered() -> list[Envelope]:
        # The registry reads the shared request topic from its start: other tests' requests
        # come first, so wait on the outcome, not on a fixed number of reads.
        records = await read_topic(
            kafka_bootstrap, f"{Topic.REGISTRY_REQUESTS.value}.dlq", expect=0, timeout=1
        )
        return [
            e for e in (from_kafka(r.key, r.headers, r.value) for r in records) if e.id == event_id
        ]

    await poll(dead_lettered, timeout=180, explain=lambda _: "the request was not dead-lettered")
    assert not await loaded.pool.fetchval(
        "SELECT count(*) FROM prelist_entries WHERE request_id = $1", request.request_id
    )
