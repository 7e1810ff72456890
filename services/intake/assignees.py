"""Tasks follow the staff directory (issue 19): intake's copy of the directory, the assignee of
each complaint's current step, and the handover when the directory changes.

- *The copy*: the records of ``slrt.staff.directory`` (``slrt.contracts.staff``), the latest
  version of each key, persons without name or contact (migration ``0015``).
- *The assignee*: whenever the projection moves a complaint's status, the holder of its new
  step is computed with the one rule (``slrt.task_holders``) from the copy and recorded on the
  status row (``assignee``, ``assignee_basis``). The workflow is not involved: it addresses
  steps by role and area as before; the person is intake's projection (and the notifier's own
  resolution of the same rule for messages).
- *Handover*: a directory record that changes who holds something (a village's facilitator, a
  facilitator's supervisor, a person's roles, areas or active period) makes intake recompute
  the assignee of every open complaint it may concern; each complaint whose holder changes
  gets the new one and a timeline entry (reason ``handover``: from whom, to whom, why) — so
  nothing stays with a person who is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
from prometheus_client import Counter, Gauge

from slrt import staff_copy, task_holders
from slrt import staff_directory as sd
from slrt.auth.principal import Role
from slrt.contracts.complaints import ComplaintStep
from slrt.contracts.staff import (
    DistrictStaffSettings,
    StaffPerson,
    StaffRecord,
    Supervision,
    VillageAssignment,
)
from slrt.db import Connection
from slrt.metrics import REGISTRY
from workflows.rules import HOLDER

log = logging.getLogger(__name__)

HANDOVER_REASON = "handover"
HANDOVER_ACTOR = "staff-directory"
HANDOVER_ACTOR_ROLE = "system"

HANDOVERS = Counter(
    "slrt_intake_task_handovers",
    "Open complaints whose step moved to another holder after a staff-directory change",
    ["why"],
    registry=REGISTRY,
)
STRANDED = Gauge(
    "slrt_intake_tasks_with_inactive_holder",
    "Open complaints whose current step is held by a person who is no longer active in the "
    "staff directory (should be 0: handover moves them; alert on > 0 for 15 minutes)",
    registry=REGISTRY,
)
HANDOVER_WHY = ("reassigned", "unassigned", "person_ended", "directory_change")


def holder_of_step(
    snapshot: sd.DirectorySnapshot, step: str, village_code: str, at: datetime
) -> task_holders.Holder | None:
    role = HOLDER.get(ComplaintStep(step))
    return task_holders.holder_for_role(role, task_holders.candidates(snapshot, village_code, at))


async def assign(conn: Connection, complaint_id: UUID, at: datetime | None = None) -> None:
    """Record who holds the complaint's current step (after the projection moved it). A step
    no person holds (a system's, a program's, over) costs no look-up in the directory copy."""
    row = await conn.fetchrow(
        "SELECT step, place_code, assignee, assignee_basis FROM complaint_status "
        "WHERE complaint_id = $1",
        complaint_id,
    )
    if row is None:
        return
    role = HOLDER.get(ComplaintStep(row["step"]))
    holder: task_holders.Holder | None = None
    if role is not None and role is not Role.PROGRAM_MANAGER:
        snapshot = await staff_copy.snapshot_for(conn, [row["place_code"]])
        holder = holder_of_step(snapshot, row["step"], row["place_code"], at or datetime.now(UTC))
    person = holder.person_id if holder else None
    basis = holder.basis.value if holder else None
    if (person, basis) == (row["assignee"], row["assignee_basis"]):
        return
    await conn.execute(
        "UPDATE complaint_status SET assignee = $2, assignee_basis = $3 WHERE complaint_id = $1",
        complaint_id,
        person,
        basis,
    )


@dataclass(frozen=True)
class Handover:
    complaint_id: UUID
    from_person: UUID | None
    to_person: UUID | None
    basis: str | None
    why: str


def why_of(record: StaffRecord) -> str:
    """Why the directory change moves tasks: the ending spell's reason, or the person ended."""
    if isinstance(record, StaffPerson):
        return "person_ended" if record.active_until is not None else "directory_change"
    if isinstance(record, VillageAssignment | Supervision):
        ended = [s for s in record.spells if s.end_reason is not None]
        if ended:
            last = max(ended, key=lambda s: s.until or s.since)
            return last.end_reason.value if last.end_reason else "directory_change"
    return "directory_change"


async def _affected(conn: Connection, record: StaffRecord) -> list[asyncpg.Record]:
    """Open complaints in a person's step whose holder ``record`` may change."""
    steps = sorted(s.value for s, role in HOLDER.items() if role is not None)
    if isinstance(record, VillageAssignment):
        where, arg = "place_code = $2", record.village_code
    elif isinstance(record, Supervision):
        # a supervisor's tasks are in the villages their facilitator holds (or held last)
        villages = await conn.fetch(
            "SELECT village_code FROM staff_village_assignments "
            "WHERE record->'spells' @> "
            "jsonb_build_array(jsonb_build_object('person_id', $1::text))",
            str(record.facilitator_id),
        )
        codes = [v["village_code"] for v in villages]
        return await conn.fetch(
            "SELECT complaint_id, step, place_code, assignee FROM complaint_status "
            "WHERE step = ANY($1) AND place_code = ANY($2) FOR UPDATE",
            steps,
            codes,
        )
    elif isinstance(record, StaffPerson):
        # A person holding no step's role (an administrator, a viewer) changes only the steps
        # they held (none, unless they held such a role before).
        holds_steps = any(role in task_holders.PERSON_ROLES for role in record.roles)
        prefixes = list(record.areas) if holds_steps else []
        return await conn.fetch(
            "SELECT complaint_id, step, place_code, assignee FROM complaint_status "
            "WHERE step = ANY($1) AND (assignee = $2 OR place_code LIKE ANY($3)) FOR UPDATE",
            steps,
            record.person_id,
            [f"{p}%" for p in prefixes],
        )
    else:
        return []
    return await conn.fetch(
        "SELECT complaint_id, step, place_code, assignee FROM complaint_status "  # noqa: S608
        f"WHERE step = ANY($1) AND {where} FOR UPDATE",
        steps,
        arg,
    )


async def hand_over(
    conn: Connection, record: StaffRecord, at: datetime | None = None
) -> list[Handover]:
    """After ``record`` entered the copy: move every affected open complaint whose holder
    changed, with a timeline entry each (same step, reason ``handover``)."""
    if isinstance(record, DistrictStaffSettings):
        return []
    rows = await _affected(conn, record)
    if not rows:
        return []
    now = at or datetime.now(UTC)
    snapshot = await staff_copy.snapshot_for(conn, [r["place_code"] for r in rows])
    why = why_of(record)
    moved: list[Handover] = []
    for r in rows:
        holder = holder_of_step(snapshot, r["step"], r["place_code"], now)
        to_person = holder.person_id if holder else None
        basis = holder.basis.value if holder else None
        if to_person == r["assignee"]:
            continue
        await conn.execute(
            "UPDATE complaint_status SET assignee = $2, assignee_basis = $3 "
            "WHERE complaint_id = $1",
            r["complaint_id"],
            to_person,
            basis,
        )
        if r["assignee"] is None:
            # Nobody in particular held it (before the directory knew anyone, or the area's role
            # holders shared it): an assignment, not a handover from someone.
            continue
        details = {
            "label": "handover",
            "why": why,
            "from": str(r["assignee"]) if r["assignee"] else None,
            "to": str(to_person) if to_person else None,
            "basis": basis,
            "holders": [str(p) for p in holder.holders] if holder else [],
        }
        await conn.execute(
            "INSERT INTO complaint_timeline (complaint_id, sequence, from_step, to_step, actor, "
            "actor_role, at, reason, details) "
            "SELECT $1, COALESCE(max(sequence), 0) + 1, $2, $2, $3, $4, $5, $6, $7 "
            "FROM complaint_timeline WHERE complaint_id = $1",
            r["complaint_id"],
            r["step"],
            HANDOVER_ACTOR,
            HANDOVER_ACTOR_ROLE,
            now,
            HANDOVER_REASON,
            details,
        )
        HANDOVERS.labels(why if why in HANDOVER_WHY else "directory_change").inc()
        moved.append(Handover(r["complaint_id"], r["assignee"], to_person, basis, why))
    if moved:
        log.info(
            "tasks handed over",
            extra={"complaint_ids": [str(m.complaint_id) for m in moved], "why": why},
        )
    return moved


async def person_of_subject(conn: Connection, subject: str) -> UUID | None:
    """The directory person the token's subject names (active now), else None."""
    row = await conn.fetchrow(
        "SELECT record FROM staff_persons WHERE subject = $1 ORDER BY version DESC LIMIT 1",
        subject,
    )
    if row is None:
        return None
    person = StaffPerson.model_validate(row["record"])
    return person.person_id if person.active_at(datetime.now(UTC)) else None


async def stranded(conn: Connection, area: str, at: datetime | None = None) -> list[asyncpg.Record]:
    """Open complaints in ``area`` whose step is held by a person who is not active (gone, or
    not in the copy at all): what a handover should have moved."""
    now = at or datetime.now(UTC)
    return await conn.fetch(
        "SELECT s.complaint_id, s.ticket_number, s.step, s.place_code, s.assignee "
        "FROM complaint_status s LEFT JOIN staff_persons p ON p.person_id = s.assignee "
        "WHERE s.assignee IS NOT NULL AND s.step <> ALL($1) AND s.place_code LIKE $2 AND ("
        "p.person_id IS NULL OR (p.record->>'active_from')::timestamptz > $3 OR "
        "(p.record->>'active_until' IS NOT NULL AND "
        "(p.record->>'active_until')::timestamptz <= $3)) "
        "ORDER BY s.submitted_at",
        [ComplaintStep.CLOSED.value, ComplaintStep.WITHDRAWN.value],
        f"{area}%",
        now,
    )


async def measure_stranded(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        count = len(await stranded(conn, ""))
    STRANDED.set(count)
    return count


async def watch_stranded(pool: asyncpg.Pool, every: float, stop: asyncio.Event) -> None:
    """Refresh :data:`STRANDED` every ``every`` seconds until ``stop``."""
    while not stop.is_set():
        try:
            count = await measure_stranded(pool)
            if count:
                log.warning("open tasks held by persons who are gone", extra={"count": count})
        except Exception as exc:  # the database down: try again next round
            log.warning("stranded-task check skipped", extra={"error_type": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
