"""Program information in Postgres: entries (current version), their versions, the search, and
what the eligibility check reads of a household."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from services.registry.domain.program_info import (
    EntryKind,
    FaqSpec,
    Household,
    Member,
    ProgramCriteria,
    ProgramInfoSpec,
    Rule,
    search_text,
)
from slrt import outbox
from slrt.contracts.events import ProgramInfoPublished
from slrt.db import Connection

_RULES = TypeAdapter(list[Rule])


@dataclass(frozen=True)
class StoredEntry:
    id: UUID
    kind: EntryKind
    district: str
    program_code: str | None
    topic: str
    title: str
    body: dict[str, Any]
    version: int
    updated_by: str
    updated_at: datetime


_ENTRY = "id, kind, district, program_code, topic, title, body, version, updated_by, updated_at"


def _json(value: Any) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    assert isinstance(loaded, dict)
    return loaded


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _entry(row: asyncpg.Record) -> StoredEntry:
    return StoredEntry(
        id=row["id"],
        kind=row["kind"],
        district=row["district"],
        program_code=row["program_code"],
        topic=row["topic"],
        title=row["title"],
        body=_json(row["body"]),
        version=row["version"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
    )


async def get(conn: Connection, entry_id: UUID, *, for_update: bool = False) -> StoredEntry | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_ENTRY} FROM program_info_entries WHERE id = $1{lock}",  # noqa: S608
        entry_id,
    )
    return _entry(row) if row else None


async def program_entry(
    conn: Connection, district: str, program_code: str, *, for_update: bool = False
) -> StoredEntry | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT {_ENTRY} FROM program_info_entries "  # noqa: S608
        f"WHERE kind = 'program' AND district = $1 AND program_code = $2{lock}",
        district,
        program_code,
    )
    return _entry(row) if row else None


async def save(
    conn: Connection,
    *,
    current: StoredEntry | None,
    kind: EntryKind,
    district: str,
    program_code: str | None,
    topic: str,
    title: str,
    body: FaqSpec | ProgramInfoSpec,
    changed_by: str,
    source: str,
) -> StoredEntry:
    """A new entry (version 1) or a new version of ``current``, in the caller's transaction,
    with its ``ProgramInfoPublished`` (outbox). Old versions stay readable."""
    entry_id = current.id if current else uuid.uuid4()
    version = current.version + 1 if current else 1
    data = body.model_dump(mode="json")
    text = search_text(kind, body, topic)
    row = await conn.fetchrow(
        f"""
        INSERT INTO program_info_entries (id, kind, district, program_code, topic, title, body,
                                          version, search_text, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (id) DO UPDATE SET topic = EXCLUDED.topic, title = EXCLUDED.title,
            body = EXCLUDED.body, version = EXCLUDED.version,
            search_text = EXCLUDED.search_text, updated_by = EXCLUDED.updated_by,
            updated_at = now()
        RETURNING {_ENTRY}
        """,  # noqa: S608
        entry_id,
        kind,
        district,
        program_code,
        topic,
        title,
        data,
        version,
        text,
        changed_by,
    )
    assert row is not None
    await conn.execute(
        "INSERT INTO program_info_versions (entry_id, version, topic, title, body, changed_by) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        entry_id,
        version,
        topic,
        title,
        data,
        changed_by,
    )
    await outbox.write(
        conn,
        ProgramInfoPublished(
            entry_id=entry_id,
            version=version,
            kind=kind,
            district=district,
            info_topic=topic,
            program_code=program_code,
            title=title,
        ),
        source=source,
        subject=str(entry_id),
    )
    return _entry(row)


async def versions(conn: Connection, entry_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT version, topic, title, body, changed_by, changed_at FROM program_info_versions "
        "WHERE entry_id = $1 ORDER BY version",
        entry_id,
    )


async def version(conn: Connection, entry_id: UUID, number: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT version, topic, title, body, changed_by, changed_at FROM program_info_versions "
        "WHERE entry_id = $1 AND version = $2",
        entry_id,
        number,
    )


async def search(
    conn: Connection,
    district: str,
    query: str,
    *,
    kind: EntryKind | None = None,
    limit: int = 20,
) -> list[asyncpg.Record]:
    """The district's current entries that match ``query``, best first: full-text ('simple')
    on every word, or trigram word similarity for affixed and misspelt words."""
    return await conn.fetch(
        f"""
        SELECT {_ENTRY},
            ts_rank(e.search, q) + word_similarity($2, e.search_text) AS rank,
            ts_headline('simple', e.search_text, q,
                        'MaxFragments=2, MaxWords=20, MinWords=5') AS excerpt
        FROM program_info_entries e, websearch_to_tsquery('simple', $2) q
        WHERE e.district = $1 AND ($3::text IS NULL OR e.kind = $3)
          AND (e.search @@ q OR $2 <% e.search_text)
        ORDER BY rank DESC, e.title
        LIMIT $4
        """,  # noqa: S608
        district,
        query,
        kind,
        limit,
    )


async def list_entries(
    conn: Connection, district: str, kind: EntryKind | None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {_ENTRY} FROM program_info_entries "  # noqa: S608
        "WHERE district = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY kind, topic, title",
        district,
        kind,
    )


def stored(row: asyncpg.Record) -> StoredEntry:
    return _entry(row)


async def district_criteria(conn: Connection, district: str) -> list[ProgramCriteria]:
    """The district's program entries that keep eligibility criteria."""
    rows = await conn.fetch(
        "SELECT id, program_code, version, body -> 'criteria' AS criteria "
        "FROM program_info_entries WHERE kind = 'program' AND district = $1 "
        "AND jsonb_array_length(coalesce(body -> 'criteria', '[]')) > 0",
        district,
    )
    return [
        ProgramCriteria(
            program_code=r["program_code"],
            entry_id=r["id"],
            entry_version=r["version"],
            criteria=tuple(_RULES.validate_python(_loaded(r["criteria"]))),
        )
        for r in rows
    ]


async def household_village(conn: Connection, household_id: UUID) -> str | None:
    village: str | None = await conn.fetchval(
        "SELECT village_code FROM households WHERE id = $1", household_id
    )
    return village


async def household_facts(conn: Connection, household_id: UUID) -> tuple[str, Household] | None:
    """The household's village and what the criteria read of it (decile, current programs,
    members' birth dates, disability, school status, PMKS kinds); None when unknown."""
    row = await conn.fetchrow(
        "SELECT village_code, welfare_decile FROM households WHERE id = $1", household_id
    )
    if row is None:
        return None
    members = await conn.fetch(
        """
        SELECT i.birth_date, i.disability, i.school_status,
               coalesce(array_agg(p.kind) FILTER (WHERE p.kind IS NOT NULL), '{}') AS pmks
        FROM individuals i LEFT JOIN pmks_flags p ON p.individual_id = i.id
        WHERE i.household_id = $1 GROUP BY i.id
        """,
        household_id,
    )
    programs = await conn.fetch(
        """SELECT DISTINCT program_code FROM participation WHERE household_id = $1
             AND period = (SELECT max(period) FROM participation WHERE household_id = $1)""",
        household_id,
    )
    household = Household(
        welfare_decile=row["welfare_decile"],
        programs=frozenset(r["program_code"] for r in programs),
        members=tuple(
            Member(
                birth_date=m["birth_date"],
                disability=m["disability"],
                school_status=m["school_status"],
                pmks=frozenset(m["pmks"]),
            )
            for m in members
        ),
    )
    return row["village_code"], household
