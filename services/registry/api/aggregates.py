"""Registry aggregates for the dashboards: pre-list and change proposals by status, verification
results, participation and needs per program, program combinations (overlap), profiles by sex
and disability, and service gaps — for any area, never personal data.

Served from views with one row per village (migrations/0050_aggregates.sql, 0052), so an
area's figures are sums over its villages' rows. The registry's views are materialised and
``refresh`` brings them up to date (the importer calls it after an import, and
``POST /v1/aggregates/refresh`` does it on demand); the needs view (``agg_needs``) is a plain
view, so a need recorded from a complaint counts at once.

Small cells (1–4 households or people) are hidden from viewers above the district (province,
national): the same rule as the dashboard's, kept here because services share no code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Query

from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.auth.principal import Principal
from slrt.deps import CurrentPrincipal, Pool
from slrt.problems import Problem, field_error

router = APIRouter(prefix="/v1/aggregates", tags=["aggregates"])

VIEWS = ("agg_households", "agg_programs", "agg_combinations", "agg_profiles")
"""The materialised views; ``agg_needs`` is a plain view (needs are few), always current."""
PREFIX_LENGTHS = (0, 2, 4, 6, 10)
DISTRICT_LENGTH = 4
SMALL_CELL = 5
Area = Annotated[str | None, Query(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{10})?$")]


async def refresh(pool: asyncpg.Pool) -> None:
    """Recompute every aggregate view; readers keep the previous figures until each is done."""
    async with pool.acquire() as conn:
        for view in VIEWS:
            await conn.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {view}")  # constant names


# --- Small-cell suppression ----------------------------------------------------------------


def suppress_column(counts: Sequence[int]) -> list[int | None]:
    """Counts of 1–4 become None; if only one is hidden, the next smallest too (or it could be
    recovered from the total)."""
    shown: list[int | None] = [None if 0 < c < SMALL_CELL else c for c in counts]
    if sum(v is None for v in shown) == 1:
        visible = [i for i, v in enumerate(shown) if v]
        if visible:
            shown[min(visible, key=lambda i: counts[i])] = None
    return shown


def suppress_rows(rows: list[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    out = [dict(r) for r in rows]
    for column in columns:
        for row, value in zip(out, suppress_column([r[column] for r in rows]), strict=True):
            row[column] = value
    return out


def _scope(principal: Principal, area: str | None) -> tuple[str, bool]:
    chosen = principal.area if area is None else area
    authorize(principal, Action.AGGREGATES_READ)  # 403 for roles that read no aggregates
    authorize(principal, Action.AGGREGATES_READ, place_code=chosen, what="area")
    return chosen, len(principal.area) < DISTRICT_LENGTH


# --- Queries ---------------------------------------------------------------------------------


async def overview(conn: asyncpg.Connection | Any, area: str) -> dict[str, Any]:
    """Every aggregate of ``area`` (unsuppressed)."""
    like = area + "%"
    households = await conn.fetchrow(
        "SELECT coalesce(sum(households), 0)::int AS households, "
        "coalesce(sum(bottom40), 0)::int AS bottom40, "
        "coalesce(sum(with_program), 0)::int AS with_program, "
        "coalesce(sum(bottom40_no_program), 0)::int AS bottom40_no_program "
        "FROM agg_households WHERE village_code LIKE $1",
        like,
    )
    programs = await conn.fetch(
        """
        WITH p AS (SELECT program_code, sum(households)::int AS households,
                          sum(individuals)::int AS individuals
                   FROM agg_programs WHERE village_code LIKE $1 GROUP BY 1),
             n AS (SELECT program_code, sum(needs)::int AS needs, sum(unmet)::int AS unmet
                   FROM agg_needs WHERE village_code LIKE $1 AND program_code <> '' GROUP BY 1)
        SELECT coalesce(p.program_code, n.program_code) AS program,
               coalesce(p.households, 0) AS households, coalesce(p.individuals, 0) AS individuals,
               coalesce(n.needs, 0) AS needs, coalesce(n.unmet, 0) AS needs_uncovered
        FROM p FULL JOIN n ON n.program_code = p.program_code
        ORDER BY households DESC, program
        """,
        like,
    )
    needs = await conn.fetch(
        "SELECT need, sum(needs)::int AS count, "
        "coalesce(sum(needs) FILTER (WHERE program_code = ''), 0)::int AS uncovered, "
        "sum(unmet)::int AS unmet FROM agg_needs WHERE village_code LIKE $1 "
        "GROUP BY need ORDER BY count DESC, need",
        like,
    )
    combinations = await conn.fetch(
        "SELECT programs, sum(households)::int AS households FROM agg_combinations "
        "WHERE village_code LIKE $1 GROUP BY programs ORDER BY households DESC, programs",
        like,
    )
    profiles = await conn.fetch(
        "SELECT sex, disability, sum(individuals)::int AS individuals, "
        "sum(bottom40)::int AS bottom40 FROM agg_profiles WHERE village_code LIKE $1 "
        "GROUP BY sex, disability ORDER BY sex, disability",
        like,
    )
    proposals = await conn.fetch(
        "SELECT 'prelist' AS kind, status, count(*)::int AS count FROM prelist_entries "
        "WHERE village_code LIKE $1 GROUP BY status "
        "UNION ALL SELECT 'change', status, count(*)::int FROM change_proposals "
        "WHERE village_code LIKE $1 GROUP BY status ORDER BY kind, status",
        like,
    )
    verification = await conn.fetch(
        "SELECT 'prelist' AS kind, status AS result, result_reason AS reason, "
        "count(*)::int AS count FROM prelist_entries "
        "WHERE village_code LIKE $1 AND status IN ('accepted', 'rejected') GROUP BY 2, 3 "
        "UNION ALL SELECT 'change', status, result_reason, count(*)::int FROM change_proposals "
        "WHERE village_code LIKE $1 AND status IN ('accepted', 'rejected') GROUP BY 2, 3 "
        "ORDER BY kind, result, reason NULLS FIRST",
        like,
    )
    assert households is not None
    return {
        "area": area,
        "households": dict(households),
        "programs": [dict(r) for r in programs],
        "needs": [dict(r) for r in needs],
        "combinations": [
            {"programs": list(r["programs"]), "households": r["households"]} for r in combinations
        ],
        "profiles": [dict(r) for r in profiles],
        "proposals": [dict(r) for r in proposals],
        "verification": [dict(r) for r in verification],
    }


async def places(conn: asyncpg.Connection | Any, area: str, depth: int) -> list[dict[str, Any]]:
    """Households, bottom-40 %, coverage and unmet needs per place at ``depth`` in ``area``."""
    rows = await conn.fetch(
        """
        WITH h AS (SELECT substr(village_code, 1, $2) AS code, sum(households)::int AS households,
                          sum(bottom40)::int AS bottom40,
                          sum(with_program)::int AS with_program,
                          sum(bottom40_no_program)::int AS bottom40_no_program
                   FROM agg_households WHERE village_code LIKE $1 GROUP BY 1),
             n AS (SELECT substr(village_code, 1, $2) AS code, sum(unmet)::int AS unmet_needs
                   FROM agg_needs WHERE village_code LIKE $1 GROUP BY 1)
        SELECT h.*, coalesce(n.unmet_needs, 0) AS unmet_needs
        FROM h LEFT JOIN n USING (code) ORDER BY code
        """,
        area + "%",
        depth,
    )
    return [dict(r) for r in rows]


def _depth(area: str, depth: int | None) -> int:
    if depth is None:
        # Villages from the district down (the planning scorecard), else one level down.
        return (
            10
            if len(area) >= DISTRICT_LENGTH
            else PREFIX_LENGTHS[PREFIX_LENGTHS.index(len(area)) + 1]
        )
    if depth not in PREFIX_LENGTHS or depth <= len(area):
        raise Problem(
            422,
            "invalid",
            "Invalid depth",
            errors=[field_error("depth", "level", "a place level below the area (2, 4, 6, 10)")],
        )
    return depth


# --- Routes ----------------------------------------------------------------------------------


@router.get("", summary="Registry aggregates of an area (aggregates only, no personal data)")
async def get_overview(
    principal: CurrentPrincipal, pool: Pool, area: Area = None
) -> dict[str, Any]:
    chosen, suppress = _scope(principal, area)
    async with pool.acquire() as conn:
        found = await overview(conn, chosen)
    found["suppressed"] = suppress
    if suppress:
        found["households"] = {
            k: None if 0 < v < SMALL_CELL else v for k, v in found["households"].items()
        }
        found["programs"] = suppress_rows(
            found["programs"], ("households", "individuals", "needs", "needs_uncovered")
        )
        found["needs"] = suppress_rows(found["needs"], ("count", "uncovered", "unmet"))
        found["combinations"] = suppress_rows(found["combinations"], ("households",))
        found["profiles"] = suppress_rows(found["profiles"], ("individuals", "bottom40"))
        found["proposals"] = suppress_rows(found["proposals"], ("count",))
        found["verification"] = suppress_rows(found["verification"], ("count",))
    return found


@router.get("/places", summary="Households, bottom 40 %, coverage and unmet needs per place")
async def get_places(
    principal: CurrentPrincipal,
    pool: Pool,
    area: Area = None,
    depth: Annotated[int | None, Query(ge=2, le=10)] = None,
) -> dict[str, Any]:
    chosen, suppress = _scope(principal, area)
    level = _depth(chosen, depth)
    async with pool.acquire() as conn:
        rows = await places(conn, chosen, level)
    if suppress:
        rows = suppress_rows(
            rows,
            ("households", "bottom40", "with_program", "bottom40_no_program", "unmet_needs"),
        )
    return {"area": chosen, "depth": level, "suppressed": suppress, "places": rows}


@router.post("/refresh", status_code=204, summary="Recompute the aggregates now")
async def post_refresh(principal: CurrentPrincipal, pool: Pool) -> None:
    authorize(principal, Action.REGISTRY_IMPORT, place_code=principal.area)
    await refresh(pool)
