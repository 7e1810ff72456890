"""Pre-list entries, profile-change proposals and SIKS-NG batches in Postgres.

Every status change writes a ``RegistryProposalUpdated`` (and every applied verification
result a ``RegistryVerificationApplied``) to the outbox in the same transaction, keyed by the
complaint that started the proposal when there is one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from services.registry.domain import corrections
from services.registry.domain.names import name_key
from services.registry.domain.proposals import (
    PENDING,
    Decision,
    MatchedBy,
    ProposalStatus,
    correct,
    review,
    same_person,
    verification,
)
from services.registry.domain.siks_ng import VerificationResult, export_csv
from services.registry.store import import_state, needs
from slrt import outbox
from slrt.contracts.events import (
    RegistryCorrectionRequested,
    RegistryProposalUpdated,
    RegistryVerificationApplied,
)
from slrt.db import Connection

Kind = Literal["prelist", "change"]
TABLES: dict[Kind, str] = {"prelist": "prelist_entries", "change": "change_proposals"}


class ProposalNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ResultProblem:
    line: int
    field: str
    rule: str


async def _event(
    conn: Connection,
    source: str,
    *,
    kind: Kind,
    row: asyncpg.Record | dict[str, Any],
    status: str,
    batch_id: UUID | None = None,
) -> None:
    event = RegistryProposalUpdated(
        proposal_id=row["id"],
        kind=kind,
        complaint_id=row["complaint_id"],
        request_id=row.get("request_id"),
        status=status,
        batch_id=batch_id,
        at=datetime.now(UTC),
    )
    subject = str(row["complaint_id"] or row["id"])
    await outbox.write(conn, event, source=source, subject=subject)


async def create_prelist(
    conn: Connection, source: str, *, fields: dict[str, Any], created_by: str
) -> tuple[asyncpg.Record, bool]:
    """Record a pre-list entry; a request id already seen returns the existing entry."""
    entry_id = uuid.uuid4()
    row = await conn.fetchrow(
        """INSERT INTO prelist_entries (id, request_id, complaint_id, ticket_number, nik,
               kk_number, name, sex, birth_date, address, village_code, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (request_id) DO NOTHING RETURNING *""",
        entry_id,
        fields.get("request_id"),
        fields.get("complaint_id"),
        fields.get("ticket_number"),
        fields.get("nik"),
        fields.get("kk_number"),
        fields["name"],
        fields.get("sex"),
        fields.get("birth_date"),
        fields.get("address"),
        fields["village_code"],
        created_by,
    )
    if row is None:
        existing = await conn.fetchrow(
            "SELECT * FROM prelist_entries WHERE request_id = $1", fields["request_id"]
        )
        assert existing is not None
        return existing, False
    await _event(conn, source, kind="prelist", row=row, status=ProposalStatus.PROPOSED)
    return row, True


@dataclass(frozen=True)
class PrelistOutcome:
    """What a pre-list request did: created an entry, joined a pending one for the same person
    (``matched_by`` says how it matched), or replayed (a request id already seen)."""

    row: asyncpg.Record
    created: bool
    matched_by: MatchedBy | None = None


_PENDING_CANDIDATES = """
SELECT * FROM prelist_entries
WHERE status = ANY($1::text[])
  AND (($2::text IS NOT NULL AND nik = $2)
       OR ($3::date IS NOT NULL AND birth_date = $3 AND village_code = $4))
ORDER BY created_at, id
FOR UPDATE
"""


async def create_or_join_prelist(
    conn: Connection, source: str, *, fields: dict[str, Any], created_by: str
) -> PrelistOutcome:
    """Record a pre-list entry, unless the person already has a pending one (same NIK, or same
    name, birth date and village when a NIK is missing): then this request joins that entry
    (recorded in ``prelist_joins``, shown on the entry) and the joining complaint is told which
    entry carries it. A request id already seen (entry or join) returns what it did then."""
    request_id = fields.get("request_id")
    if request_id is not None:
        seen = await _seen_request(conn, request_id)
        if seen is not None:
            return seen
    # Serialise pre-list requests for the same NIK and for the same village (in that order
    # everywhere: no deadlock), so that two at once cannot both create an entry.
    if fields.get("nik"):
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('prelist:' || $1))", fields["nik"]
        )
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('prelist:' || $1))", fields["village_code"]
    )
    candidates = await conn.fetch(
        _PENDING_CANDIDATES,
        [s.value for s in PENDING],
        fields.get("nik"),
        fields.get("birth_date"),
        fields["village_code"],
    )
    for candidate in candidates:
        matched = same_person(fields, dict(candidate))
        if matched is None:
            continue
        await conn.execute(
            "INSERT INTO prelist_joins (entry_id, request_id, complaint_id, ticket_number, "
            "matched_by, joined_by) VALUES ($1, $2, $3, $4, $5, $6)",
            candidate["id"],
            request_id,
            fields.get("complaint_id"),
            fields.get("ticket_number"),
            matched,
            created_by,
        )
        if fields.get("complaint_id") is not None:
            # The joining complaint learns which entry carries it (and its status).
            joined = {**dict(candidate), "complaint_id": fields["complaint_id"]}
            joined["request_id"] = request_id
            await _event(conn, source, kind="prelist", row=joined, status=candidate["status"])
        return PrelistOutcome(candidate, created=False, matched_by=matched)
    row, created = await create_prelist(conn, source, fields=fields, created_by=created_by)
    return PrelistOutcome(row, created=created)


async def _seen_request(conn: Connection, request_id: UUID) -> PrelistOutcome | None:
    row = await conn.fetchrow("SELECT * FROM prelist_entries WHERE request_id = $1", request_id)
    if row is not None:
        return PrelistOutcome(row, created=False)
    join = await conn.fetchrow(
        "SELECT entry_id, matched_by FROM prelist_joins WHERE request_id = $1", request_id
    )
    if join is None:
        return None
    entry = await conn.fetchrow("SELECT * FROM prelist_entries WHERE id = $1", join["entry_id"])
    assert entry is not None
    return PrelistOutcome(entry, created=False, matched_by=join["matched_by"])


async def joins(conn: Connection, entry_ids: list[UUID]) -> dict[UUID, list[dict[str, Any]]]:
    """The requests that joined each entry (complaint, ticket, how it matched, when)."""
    rows = await conn.fetch(
        "SELECT entry_id, complaint_id, ticket_number, matched_by, joined_by, joined_at "
        "FROM prelist_joins WHERE entry_id = ANY($1::uuid[]) ORDER BY joined_at",
        entry_ids,
    )
    found: dict[UUID, list[dict[str, Any]]] = {}
    for r in rows:
        found.setdefault(r["entry_id"], []).append(
            {
                "complaint_id": str(r["complaint_id"]) if r["complaint_id"] else None,
                "ticket_number": r["ticket_number"],
                "matched_by": r["matched_by"],
                "joined_by": r["joined_by"],
                "joined_at": r["joined_at"].isoformat(),
            }
        )
    return found


async def create_change(
    conn: Connection,
    source: str,
    *,
    individual: asyncpg.Record,
    field: str,
    old_value: str | None,
    new_value: str,
    evidence: str,
    complaint_id: UUID | None,
    created_by: str,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """INSERT INTO change_proposals (id, individual_id, village_code, field, old_value,
               new_value, evidence, complaint_id, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *""",
        uuid.uuid4(),
        individual["id"],
        individual["village_code"],
        field,
        old_value,
        new_value,
        evidence,
        complaint_id,
        created_by,
    )
    assert row is not None
    await _event(conn, source, kind="change", row=row, status=ProposalStatus.PROPOSED)
    return row


async def get(
    conn: Connection, kind: Kind, proposal_id: UUID, *, for_update: bool = False
) -> asyncpg.Record:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT * FROM {TABLES[kind]} WHERE id = $1{lock}",  # noqa: S608
        proposal_id,
    )
    if row is None:
        raise ProposalNotFound(str(proposal_id))
    return row


async def list_proposals(
    conn: Connection, kind: Kind, *, areas: list[str], status: str | None, limit: int
) -> list[asyncpg.Record]:
    """The proposals of villages inside any of ``areas`` (the caller's scopes)."""
    return await conn.fetch(
        f"SELECT * FROM {TABLES[kind]} WHERE EXISTS "  # noqa: S608
        "(SELECT 1 FROM unnest($1::text[]) a WHERE starts_with(village_code, a)) "
        "AND ($2::text IS NULL OR status = $2) ORDER BY created_at, id LIMIT $3",
        areas,
        status,
        limit,
    )


async def record_review(
    conn: Connection,
    source: str,
    *,
    kind: Kind,
    row: asyncpg.Record,
    decision: Decision,
    note: str | None,
    reviewer: str,
) -> asyncpg.Record:
    status = review(ProposalStatus(row["status"]), decision)
    updated = await conn.fetchrow(
        f"UPDATE {TABLES[kind]} SET status = $2, review_note = $3, reviewed_by = $4, "  # noqa: S608
        "reviewed_at = now() WHERE id = $1 RETURNING *",
        row["id"],
        status.value,
        note,
        reviewer,
    )
    assert updated is not None
    await _event(conn, source, kind=kind, row=updated, status=status)
    return updated


async def correct_prelist(
    conn: Connection, source: str, *, row: asyncpg.Record, fields: dict[str, Any]
) -> asyncpg.Record:
    """The facilitator completes or corrects an entry; it goes back to review."""
    status = correct(ProposalStatus(row["status"]))
    allowed = ("nik", "kk_number", "name", "sex", "birth_date", "address")
    sets = [name for name in allowed if name in fields]
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(sets, start=3))
    updated = await conn.fetchrow(
        f"UPDATE prelist_entries SET status = $2{', ' if sets else ''}{assignments} "  # noqa: S608
        "WHERE id = $1 RETURNING *",
        row["id"],
        status.value,
        *(fields[name] for name in sets),
    )
    assert updated is not None
    if row["status"] != status:
        await _event(conn, source, kind="prelist", row=updated, status=status)
    return updated


_BATCH_ROWS = """
SELECT 'prelist' AS item_type, p.id AS item_id, p.complaint_id, p.village_code, p.nik,
       p.kk_number, p.name, CASE p.sex WHEN 'male' THEN 'L' WHEN 'female' THEN 'P' END AS sex,
       p.birth_date, p.address, NULL AS field, NULL AS old_value, NULL AS new_value,
       NULL AS evidence
FROM prelist_entries p WHERE p.batch_id = $1
UNION ALL
SELECT 'change', c.id, c.complaint_id, c.village_code,
       coalesce(i.nik, c.member->>'nik'), coalesce(i.kk_number, hk.kk_number),
       coalesce(i.name, c.member->>'name'),
       CASE coalesce(i.sex, c.member->>'sex') WHEN 'male' THEN 'L' WHEN 'female' THEN 'P' END,
       coalesce(i.birth_date, (c.member->>'birth_date')::date), h.address, c.field,
       c.old_value, c.new_value, c.evidence
FROM change_proposals c LEFT JOIN individuals i ON i.id = c.individual_id
JOIN households h ON h.id = coalesce(i.household_id, c.household_id)
LEFT JOIN LATERAL (SELECT min(f.kk_number) AS kk_number FROM families f
                   WHERE f.household_id = h.id) hk ON true
WHERE c.batch_id = $1
ORDER BY item_type DESC, item_id
"""


async def create_batch(
    conn: Connection, source: str, *, area: str, created_by: str
) -> tuple[UUID, int]:
    """Put every approved proposal in ``area`` into a new SIKS-NG batch (0 items: no batch)."""
    batch_id = uuid.uuid4()
    exported: list[tuple[Kind, asyncpg.Record]] = []
    for kind, table in TABLES.items():
        rows = await conn.fetch(
            f"UPDATE {table} SET status = 'exported', batch_id = $1 "  # noqa: S608
            "WHERE id IN (SELECT id FROM " + table + " WHERE status = 'approved' "
            "AND starts_with(village_code, $2) FOR UPDATE SKIP LOCKED) RETURNING *",
            batch_id,
            area,
        )
        exported.extend((kind, r) for r in rows)
    if not exported:
        return batch_id, 0
    await conn.execute(
        "INSERT INTO siks_batches (id, area, created_by, item_count) VALUES ($1, $2, $3, $4)",
        batch_id,
        area,
        created_by,
        len(exported),
    )
    for kind, row in exported:
        await _event(conn, source, kind=kind, row=row, status="exported", batch_id=batch_id)
    return batch_id, len(exported)


async def batch(conn: Connection, batch_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM siks_batches WHERE id = $1", batch_id)


async def batch_csv(conn: Connection, batch_id: UUID) -> str:
    """The batch file, the same bytes on every export of the same batch."""
    text, _ = await batch_export(conn, batch_id)
    return text


async def batch_export(conn: Connection, batch_id: UUID) -> tuple[str, int]:
    """The batch file and how many people it holds (one per row)."""
    rows = await conn.fetch(_BATCH_ROWS, batch_id)
    return export_csv({"batch_id": batch_id, **dict(r)} for r in rows), len(rows)


async def apply_results(
    conn: Connection,
    source: str,
    *,
    batch_id: UUID,
    results: list[VerificationResult],
) -> tuple[int, list[ResultProblem]]:
    """Apply SIKS-NG's verification results; returns how many were applied and the problems.

    A result for an item already decided is skipped (re-importing the file is a no-op).
    """
    applied = 0
    problems: list[ResultProblem] = []
    for result in results:
        if result.batch_id != batch_id:
            problems.append(ResultProblem(result.line, "batch_id", "not_this_batch"))
            continue
        kind: Kind | None = None
        row: asyncpg.Record | None = None
        for candidate in TABLES:
            row = await conn.fetchrow(
                f"SELECT * FROM {TABLES[candidate]} WHERE id = $1 AND batch_id = $2 "  # noqa: S608
                "FOR UPDATE",
                result.item_id,
                batch_id,
            )
            if row is not None:
                kind = candidate
                break
        if row is None or kind is None:
            problems.append(ResultProblem(result.line, "item_id", "not_in_batch"))
            continue
        if row["status"] != ProposalStatus.EXPORTED:
            continue
        status = verification(ProposalStatus.EXPORTED, result.accepted, revisit=result.revisit)
        household_id: UUID | None = None
        if result.revisit:
            pass  # back to the facilitator: nothing applied
        elif result.accepted and kind == "prelist":
            household_id = await _register_household(conn, row, result)
            await _record_awaiting_needs(conn, row, household_id)
            await import_state.forget(conn, [household_id])
        elif result.accepted:
            # Every household the change touches (a move leaves one and enters another).
            touched = [
                row["household_id"],
                row["target_household_id"],
                await conn.fetchval(
                    "SELECT household_id FROM individuals WHERE id = $1", row["individual_id"]
                ),
            ]
            household_id = await _apply_change(conn, row)
            await import_state.forget(conn, [*touched, household_id])
        if kind == "change" and household_id is None:
            household_id = row["household_id"] or await conn.fetchval(
                "SELECT household_id FROM individuals WHERE id = $1", row["individual_id"]
            )
        await conn.execute(
            f"UPDATE {TABLES[kind]} SET status = $2, result_reason = $3"  # noqa: S608
            + (", household_id = $4" if kind == "prelist" else "")
            + " WHERE id = $1",
            row["id"],
            status.value,
            result.reason,
            *([household_id] if kind == "prelist" else []),
        )
        event = RegistryVerificationApplied(
            proposal_id=row["id"],
            kind=kind,
            complaint_id=row["complaint_id"],
            batch_id=batch_id,
            accepted=result.accepted and not result.revisit,
            result="revisit" if result.revisit else "accepted" if result.accepted else "rejected",
            reason=result.reason,
            household_id=household_id,
            at=datetime.now(UTC),
        )
        await outbox.write(
            conn, event, source=source, subject=str(row["complaint_id"] or row["id"])
        )
        if kind == "prelist":
            # Complaints that joined this entry (the same person pre-listed again) hear too.
            for joined in await conn.fetch(
                "SELECT DISTINCT complaint_id FROM prelist_joins WHERE entry_id = $1 "
                "AND complaint_id IS NOT NULL AND complaint_id IS DISTINCT FROM $2",
                row["id"],
                row["complaint_id"],
            ):
                await outbox.write(
                    conn,
                    event.model_copy(update={"complaint_id": joined["complaint_id"]}),
                    source=source,
                    subject=str(joined["complaint_id"]),
                )
        applied += 1
    await conn.execute("UPDATE siks_batches SET results_applied_at = now() WHERE id = $1", batch_id)
    return applied, problems


async def _record_awaiting_needs(
    conn: Connection, entry: asyncpg.Record, household_id: UUID
) -> None:
    """Program-need complaints about this person (the entry's and the joined ones) record their
    needs now that the person has a household."""
    complaints = [entry["complaint_id"]] if entry["complaint_id"] else []
    complaints += [
        r["complaint_id"]
        for r in await conn.fetch(
            "SELECT complaint_id FROM prelist_joins "
            "WHERE entry_id = $1 AND complaint_id IS NOT NULL",
            entry["id"],
        )
    ]
    if complaints:
        individual_id = await conn.fetchval(
            "SELECT id FROM individuals WHERE nik = $1 AND household_id = $2",
            entry["nik"],
            household_id,
        )
        await needs.record_awaiting(
            conn, complaint_ids=complaints, household_id=household_id, individual_id=individual_id
        )


async def _register_household(
    conn: Connection, entry: asyncpg.Record, result: VerificationResult
) -> UUID:
    """An accepted pre-list entry becomes a registry household with the person as its head."""
    registry_ref = result.household_ref or f"PRELIST-{entry['id']}"
    household_id: UUID = await conn.fetchval(
        """INSERT INTO households (id, registry_ref, village_code, address, welfare_decile, source)
           VALUES ($1, $2, $3, coalesce($4, ''), $5, 'siks_ng')
           ON CONFLICT (registry_ref) DO UPDATE SET welfare_decile = excluded.welfare_decile
           RETURNING id""",
        uuid.uuid4(),
        registry_ref,
        entry["village_code"],
        entry["address"],
        result.welfare_decile,
    )
    await conn.execute(
        "INSERT INTO families (kk_number, household_id) VALUES ($1, $2) "
        "ON CONFLICT (kk_number) DO NOTHING",
        entry["kk_number"],
        household_id,
    )
    await conn.execute(
        """INSERT INTO individuals (id, nik, household_id, kk_number, name, name_key, sex,
               birth_date, relation, village_code)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'head', $9)
           ON CONFLICT (nik) DO UPDATE SET household_id = excluded.household_id""",
        uuid.uuid4(),
        entry["nik"],
        household_id,
        entry["kk_number"],
        entry["name"],
        name_key(entry["name"]),
        entry["sex"],
        entry["birth_date"],
        entry["village_code"],
    )
    return household_id


async def _apply_change(conn: Connection, proposal: asyncpg.Record) -> UUID | None:
    """An accepted change updates the registry as ``corrections.apply_plan`` says; returns the
    household it concerns."""
    household_id: UUID | None = proposal["household_id"]
    for write in corrections.apply_plan(dict(proposal)):
        changed = await _execute(conn, write)
        household_id = household_id or changed
    return household_id


# Column names come from ``corrections.apply_plan`` (fixed sets), never from input.
_INDIVIDUAL_COLUMNS = frozenset(
    {"name", "name_key", "sex", "birth_date", "relation", "disability", "school_status"}
)


async def _execute(conn: Connection, write: corrections.Write) -> UUID | None:
    match write:
        case corrections.UpdateIndividual(individual_id=individual_id, values=values):
            names = [n for n in values if n in _INDIVIDUAL_COLUMNS]
            sets = ", ".join(f"{n} = ${i}" for i, n in enumerate(names, start=2))
            household_id: UUID | None = await conn.fetchval(
                f"UPDATE individuals SET {sets}, updated_at = now() "  # noqa: S608
                "WHERE id = $1 RETURNING household_id",
                individual_id,
                *(values[n] for n in names),
            )
            return household_id
        case corrections.AddIndividual(household_id=household_id, values=v):
            await conn.execute(
                """INSERT INTO individuals (id, nik, household_id, kk_number, name, name_key, sex,
                       birth_date, relation, village_code)
                   SELECT $1, $2, h.id, (SELECT min(kk_number) FROM families
                                         WHERE household_id = h.id),
                          $3, $4, $5, $6, $7, h.village_code
                   FROM households h WHERE h.id = $8
                   ON CONFLICT (nik) DO UPDATE SET household_id = excluded.household_id,
                       kk_number = excluded.kk_number, relation = excluded.relation,
                       village_code = excluded.village_code, removed_at = NULL,
                       removed_reason = NULL, updated_at = now()""",
                uuid.uuid4(),
                v["nik"],
                v["name"],
                v["name_key"],
                v["sex"],
                v["birth_date"],
                v["relation"],
                household_id,
            )
            return household_id
        case corrections.RemoveIndividual(individual_id=individual_id, reason=reason):
            removed: UUID | None = await conn.fetchval(
                "UPDATE individuals SET removed_at = now(), removed_reason = $2, "
                "updated_at = now() WHERE id = $1 RETURNING household_id",
                individual_id,
                reason,
            )
            return removed
        case corrections.MoveIndividual(
            individual_id=individual_id, to_household_id=target, relation=relation
        ):
            await conn.execute(
                """UPDATE individuals i SET household_id = h.id, relation = $3,
                       village_code = h.village_code, updated_at = now(),
                       kk_number = coalesce((SELECT min(kk_number) FROM families
                                             WHERE household_id = h.id), i.kk_number)
                   FROM households h WHERE i.id = $1 AND h.id = $2""",
                individual_id,
                target,
                relation,
            )
            return target
        case corrections.UpdateHousehold(household_id=household_id, values=values):
            await conn.execute(
                "UPDATE households SET address = $2, updated_at = now() WHERE id = $1",
                household_id,
                values["address"],
            )
            return household_id
        case corrections.ReplaceKk(household_id=household_id, old_kk=old_kk, new_kk=new_kk):
            await conn.execute(
                "INSERT INTO families (kk_number, household_id) VALUES ($1, $2) "
                "ON CONFLICT (kk_number) DO NOTHING",
                new_kk,
                household_id,
            )
            await conn.execute(
                "UPDATE individuals SET kk_number = $1, updated_at = now() "
                "WHERE household_id = $2 AND ($3::text IS NULL OR kk_number = $3)",
                new_kk,
                household_id,
                old_kk,
            )
            if old_kk is not None:
                await conn.execute(
                    "DELETE FROM families f WHERE kk_number = $1 AND household_id = $2 "
                    "AND NOT EXISTS (SELECT 1 FROM individuals WHERE kk_number = f.kk_number)",
                    old_kk,
                    household_id,
                )
            return household_id
    raise AssertionError(f"unknown write {write!r}")


async def create_corrections(
    conn: Connection, source: str, request: RegistryCorrectionRequested
) -> list[asyncpg.Record]:
    """One change proposal per change of a complaint's correction request, once per request
    (a redelivery finds them). A change naming a record the registry does not hold, or one
    outside the complaint's district, is recorded ``returned`` with the rule as its note."""
    district = request.village_code[:4]
    rows: list[asyncpg.Record] = []
    for item_no, change in enumerate(request.changes):
        existing = await conn.fetchrow(
            "SELECT * FROM change_proposals WHERE request_id = $1 AND item_no = $2",
            request.request_id,
            item_no,
        )
        if existing is not None:
            rows.append(existing)
            continue
        proposal = corrections.proposal_of(change)
        old_value, village, problem = await _current(conn, proposal, district)
        row = await conn.fetchrow(
            """INSERT INTO change_proposals (id, individual_id, village_code, field, old_value,
                   new_value, evidence, complaint_id, created_by, change_kind, household_id,
                   target_household_id, member, request_id, item_no, status, review_note)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
               RETURNING *""",
            uuid.uuid4(),
            None if problem else proposal.individual_id,
            village or request.village_code,
            proposal.field,
            old_value,
            proposal.new_value,
            request.evidence,
            request.complaint_id,
            request.requested_by,
            proposal.change_kind,
            None if problem else proposal.household_id,
            None if problem else proposal.target_household_id,
            proposal.member,
            request.request_id,
            item_no,
            ProposalStatus.RETURNED.value if problem else ProposalStatus.PROPOSED.value,
            problem,
        )
        assert row is not None
        status = ProposalStatus.RETURNED if problem else ProposalStatus.PROPOSED
        await _event(conn, source, kind="change", row=row, status=status)
        rows.append(row)
    return rows


async def _current(
    conn: Connection, proposal: corrections.Proposal, district: str
) -> tuple[str | None, str | None, str | None]:
    """The value the change replaces, the village of the record, and why it cannot be
    proposed (``unknown_individual``, ``unknown_household``, ``outside_district``) or None."""
    old: str | None = None
    village: str | None = None
    if proposal.individual_id is not None:
        person = await conn.fetchrow(
            "SELECT * FROM individuals WHERE id = $1", proposal.individual_id
        )
        if person is None:
            return None, None, "unknown_individual"
        village = person["village_code"]
        if proposal.change_kind == "field":
            value = person[proposal.field]
            old = None if value is None else str(value)
        elif proposal.change_kind in ("member_remove", "member_move"):
            old = await conn.fetchval(
                "SELECT registry_ref FROM households WHERE id = $1", person["household_id"]
            )
    for household_id in (proposal.household_id, proposal.target_household_id):
        if household_id is None:
            continue
        household = await conn.fetchrow("SELECT * FROM households WHERE id = $1", household_id)
        if household is None:
            return None, None, "unknown_household"
        village = village or household["village_code"]
        if proposal.change_kind == "address":
            old = household["address"]
        elif proposal.change_kind == "kk_number":
            old = await conn.fetchval(
                "SELECT min(kk_number) FROM families WHERE household_id = $1", household_id
            )
    if village is None or not village.startswith(district):
        return None, None, "outside_district"
    return old, village, None
