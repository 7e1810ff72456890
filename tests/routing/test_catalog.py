"""Routing's copy of the program catalog and the repeat-complaint index."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services.routing import store
from slrt.contracts.vocabulary import Category, ProgramChannel
from tests.workflows.catalog import entry
from workflows.model import RepeatQuery


async def test_only_a_newer_version_of_a_program_replaces_the_stored_one(
    routing_pool: asyncpg.Pool,
) -> None:
    async with routing_pool.acquire() as conn:
        assert await store.upsert_program(
            conn, entry("PKH", ProgramChannel.LAPOR, [Category.IMPLEMENTATION], version=5)
        )
        assert not await store.upsert_program(
            conn, entry("PKH", ProgramChannel.DIRECT, [Category.IMPLEMENTATION], version=4)
        )
        assert not await store.upsert_program(
            conn, entry("PKH", ProgramChannel.DIRECT, [Category.IMPLEMENTATION], version=5)
        )
        (pkh,) = [e for e in await store.catalog(conn) if e.code == "PKH"]
    assert (pkh.version, pkh.channel) == (5, ProgramChannel.LAPOR)


def query(household: uuid.UUID, at: datetime, program: str | None = "BPNT") -> RepeatQuery:
    complaint_id = uuid.uuid4()
    return RepeatQuery(
        complaint_id=complaint_id,
        ticket_number=f"T-{complaint_id.hex[:6]}",
        household_id=household,
        individual_id=None,
        program_code=program,
        category=Category.IMPLEMENTATION,
        submitted_at=at,
        window_days=183,
    )


async def test_repeats_are_the_same_household_program_and_category_within_the_window(
    routing_pool: asyncpg.Pool,
) -> None:
    household = uuid.uuid4()
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    old = query(household, now - timedelta(days=200))
    recent = query(household, now - timedelta(days=30))
    other_program = query(household, now - timedelta(days=10), program="PKH")
    other_household = query(uuid.uuid4(), now - timedelta(days=10))
    current = query(household, now)
    async with routing_pool.acquire() as conn:
        for earlier in (old, recent, other_program, other_household):
            await store.record_and_find_repeats(conn, earlier)
        assert await store.record_and_find_repeats(conn, current) == [recent.ticket_number]
        # A retried activity finds the same and indexes nothing twice.
        assert await store.record_and_find_repeats(conn, current) == [recent.ticket_number]
        assert await conn.fetchval("SELECT count(*) FROM complaint_index") == 5
