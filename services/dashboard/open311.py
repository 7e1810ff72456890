"""Reading the read model for the Open311 GeoReport v2 API (``api/open311.py``): programs,
one page of complaints, and the per-village counts behind the small-cell rule."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.dashboard.domain.open311 import Fact, Program, RequestQuery
from slrt.db import Connection

_FACT_COLUMNS = """
    f.ticket_number, f.place_code, f.category, f.program_code, f.step, f.outcome,
    f.received_at, f.closed_at, f.resolve_due,
    (SELECT t.at FROM transitions t
      WHERE t.complaint_id = f.complaint_id AND t.sequence = f.last_sequence) AS updated_at,
    (SELECT p.owner_agency FROM referral_facts r LEFT JOIN programs p ON p.code = r.destination
      WHERE r.complaint_id = f.complaint_id ORDER BY r.sent_at DESC LIMIT 1) AS agency
"""


async def programs(conn: Connection) -> list[Program]:
    rows = await conn.fetch(
        "SELECT code, name, owner_agency, level, area, categories, active FROM programs"
    )
    return [
        Program(
            code=r["code"],
            name=r["name"],
            owner_agency=r["owner_agency"],
            level=r["level"],
            area=r["area"],
            categories=tuple(r["categories"]),
            active=r["active"],
        )
        for r in rows
    ]


async def services_changed(conn: Connection) -> datetime | None:
    """When the service list last changed (a program's copy was written)."""
    changed: datetime | None = await conn.fetchval("SELECT max(updated_at) FROM programs")
    return changed


async def facts(conn: Connection, query: RequestQuery) -> list[Fact]:
    """The page ``query`` asks for (one more row than the page: whether a next page exists),
    newest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_FACT_COLUMNS}
        FROM complaint_facts f
        WHERE f.place_code LIKE $1 || '%'
          AND ($2::text[] IS NULL OR f.ticket_number = ANY($2))
          AND ($3::text[] IS NULL OR f.category = ANY($3) OR f.program_code = ANY($3))
          AND ($4::timestamptz IS NULL OR f.received_at >= $4)
          AND ($5::timestamptz IS NULL OR f.received_at <= $5)
          AND ($6::boolean IS NULL OR f.open = $6)
        ORDER BY f.received_at DESC, f.ticket_number DESC
        LIMIT $7 OFFSET $8
        """,  # noqa: S608 (a constant column list; every value is a parameter)
        query.jurisdiction or "",
        list(query.ids) if query.ids is not None else None,
        list(query.service_codes) if query.service_codes is not None else None,
        query.start,
        query.end,
        query.open,
        query.page_size + 1,
        query.offset,
    )
    return [
        Fact(
            ticket_number=r["ticket_number"],
            place_code=r["place_code"],
            category=r["category"],
            program_code=r["program_code"],
            step=r["step"],
            outcome=r["outcome"],
            received_at=r["received_at"],
            updated_at=r["updated_at"],
            closed_at=r["closed_at"],
            resolve_due=r["resolve_due"],
            agency=r["agency"],
        )
        for r in rows
    ]


async def cell_counts(
    conn: Connection, cells: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Complaints per (service code, village) in every village of the (service code,
    district) pairs ``cells`` names: the whole breakdowns the small-cell rule needs."""
    wanted = sorted(set(cells))
    if not wanted:
        return {}
    rows = await conn.fetch(
        """
        SELECT coalesce(f.program_code, f.category) AS service_code, f.place_code,
               count(*)::int AS n
        FROM complaint_facts f
        JOIN unnest($1::text[], $2::text[]) AS w(service_code, district)
          ON left(f.place_code, 4) = w.district
         AND coalesce(f.program_code, f.category) = w.service_code
        GROUP BY 1, 2
        """,
        [service for service, _ in wanted],
        [district for _, district in wanted],
    )
    return {(r["service_code"], r["place_code"]): r["n"] for r in rows}
