"""Reads of DT-PPFM: people by NIK, KK or name, households with members, and the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import asyncpg

from services.registry.domain.names import name_key
from slrt.db import Connection

_COLUMNS = """i.id, i.nik, i.kk_number, i.name, i.sex, i.birth_date, i.relation, i.disability,
       i.school_status, i.village_code, i.household_id, h.welfare_decile, h.registry_ref"""
_FROM = " FROM individuals i JOIN households h ON h.id = i.household_id "
_PERSON = f"SELECT {_COLUMNS}{_FROM}"
_PROGRAMS = """ARRAY(
           SELECT DISTINCT p.program_code FROM participation p
           WHERE p.household_id = i.household_id
             AND (p.individual_id IS NULL OR p.individual_id = i.id)
             AND p.period = (SELECT max(q.period) FROM participation q
                             WHERE q.household_id = i.household_id)
           ORDER BY p.program_code) AS programs"""
"""The person's programs, as :func:`programs` gives them, as a column of the person's row."""
_PERSON_WITH_PROGRAMS = f"SELECT {_COLUMNS}, {_PROGRAMS}{_FROM}"
PERSON_BY_NIK = _PERSON_WITH_PROGRAMS + "WHERE i.nik = $1"
"""A person and their programs by NIK: one statement (the lookup's, and its benchmark's)."""


async def by_nik(conn: Connection | asyncpg.Pool, nik: str) -> asyncpg.Record | None:
    """The person with this NIK and their ``programs`` (one statement)."""
    return await conn.fetchrow(PERSON_BY_NIK, nik)


async def by_id(conn: Connection | asyncpg.Pool, individual_id: UUID) -> asyncpg.Record | None:
    """The person with this id and their ``programs`` (one statement)."""
    return await conn.fetchrow(_PERSON_WITH_PROGRAMS + "WHERE i.id = $1", individual_id)


async def by_kk(conn: Connection | asyncpg.Pool, kk_number: str) -> list[asyncpg.Record]:
    """The members of the family with this KK number, head first, each with their
    ``programs`` (one statement)."""
    return await conn.fetch(
        _PERSON_WITH_PROGRAMS
        + "WHERE i.kk_number = $1 ORDER BY i.relation <> 'head', i.birth_date",
        kk_number,
    )


async def household_of_kk(conn: Connection, kk_number: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT h.id, h.welfare_decile, h.village_code FROM families f "
        "JOIN households h ON h.id = f.household_id WHERE f.kk_number = $1",
        kk_number,
    )


async def search_by_name(
    conn: Connection, name: str, place_code: str, *, limit: int = 20, min_score: float = 0.3
) -> list[asyncpg.Record]:
    """People in ``place_code`` (any level) whose name is like ``name``, best first.

    Trigram similarity on the folded name key (see ``domain.names``) absorbs typos and
    spelling variants; ties go to the closer word-level match, then the name.
    """
    key = name_key(name)
    async with conn.transaction():
        await conn.execute(f"SET LOCAL pg_trgm.similarity_threshold = {float(min_score)}")
        return await conn.fetch(
            f"SELECT {_COLUMNS}, {_PROGRAMS}, similarity(i.name_key, $1) AS score, "
            f"word_similarity($1, i.name_key) AS word_score{_FROM}"
            "WHERE i.name_key % $1 AND starts_with(i.village_code, $2) "
            "ORDER BY score DESC, word_score DESC, i.name LIMIT $3",
            key,
            place_code,
            limit,
        )


async def programs(conn: Connection, household_id: UUID, individual_id: UUID | None) -> list[str]:
    """Programs of the household and of the person in the latest period recorded."""
    rows = await conn.fetch(
        """SELECT DISTINCT program_code FROM participation
           WHERE household_id = $1 AND (individual_id IS NULL OR individual_id = $2)
             AND period = (SELECT max(period) FROM participation WHERE household_id = $1)
           ORDER BY program_code""",
        household_id,
        individual_id,
    )
    return [r["program_code"] for r in rows]


async def household(conn: Connection, household_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, registry_ref, village_code, address, welfare_decile, source, updated_at "
        "FROM households WHERE id = $1",
        household_id,
    )


async def members(conn: Connection, household_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        _PERSON + "WHERE i.household_id = $1 ORDER BY i.relation <> 'head', i.birth_date",
        household_id,
    )


async def participation(conn: Connection, household_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT individual_id, program_code, period FROM participation WHERE household_id = $1 "
        "ORDER BY period DESC, program_code, individual_id NULLS FIRST",
        household_id,
    )


async def needs(conn: Connection, household_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, individual_id, need, program_code, complaint_id, recorded_at, closed_at "
        "FROM program_needs WHERE household_id = $1 ORDER BY recorded_at",
        household_id,
    )


async def record_need(
    conn: Connection,
    *,
    household_id: UUID,
    individual_id: UUID | None,
    need: str,
    program_code: str | None,
    complaint_id: UUID | None,
    recorded_by: str,
) -> UUID:
    need_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO program_needs (id, household_id, individual_id, need, program_code, "
        "complaint_id, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        need_id,
        household_id,
        individual_id,
        need,
        program_code,
        complaint_id,
        recorded_by,
    )
    return need_id


async def pmks(conn: Connection, household_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT f.individual_id, f.kind FROM pmks_flags f JOIN individuals i "
        "ON i.id = f.individual_id WHERE i.household_id = $1 ORDER BY f.individual_id, f.kind",
        household_id,
    )


async def audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    reads: Iterable[tuple[UUID | None, UUID | None]],
    complaint_id: UUID | None,
) -> None:
    """One audit row per record read: ``reads`` are (individual id, household id) pairs."""
    await conn.executemany(
        "INSERT INTO audit_log (actor, action, individual_id, household_id, complaint_id) "
        "VALUES ($1, $2, $3, $4, $5)",
        [(actor, action, ind, hh, complaint_id) for ind, hh in reads],
    )


async def audit_proposals(
    conn: Connection,
    *,
    actor: str,
    action: str,
    rows: Iterable[asyncpg.Record | Mapping[str, Any]],
) -> None:
    """One audit row per pre-list entry or change proposal read (they hold a person's data):
    the proposal, its person or household when known, its complaint."""
    await conn.executemany(
        "INSERT INTO audit_log (actor, action, proposal_id, individual_id, household_id, "
        "complaint_id) VALUES ($1, $2, $3, $4, $5, $6)",
        [
            (
                actor,
                action,
                r["id"],
                r.get("individual_id"),
                r.get("household_id"),
                r.get("complaint_id"),
            )
            for r in rows
        ],
    )


async def audit_export(conn: Connection, *, actor: str, batch_id: UUID, people: int) -> None:
    """One audit row per SIKS-NG batch export, naming how many people the file held."""
    await conn.execute(
        "INSERT INTO audit_log (actor, action, batch_id, people) VALUES ($1, 'siks_ng_export', "
        "$2, $3)",
        actor,
        batch_id,
        people,
    )
