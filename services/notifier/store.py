"""The notifier's tables (schema ``notifier``): deliveries, attempts, the catalog copy, LAPOR!
reports and SIKS-NG submissions. Plain SQL; every function takes the connection of the caller's
transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.notifier.domain import DeliveryStatus, SendResult, may_move
from slrt.contracts.events import NotificationRequested, ProgramCatalogEntry
from slrt.db import Connection
from slrt.telemetry import inject_headers

DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    # A pooled connection whose server went away mid-operation (a PostgreSQL restart):
    # "cannot switch to state …; another operation is in progress".
    asyncpg.InternalClientError,
)
"""What the notifier's loops survive and try again: PostgreSQL unreachable, restarting or
failing a statement. A loop that let one through would stop the service."""


@dataclass(frozen=True)
class Delivery:
    id: uuid.UUID
    request: NotificationRequested
    status: DeliveryStatus
    attempts: int
    round: int
    digest: bool
    created_at: datetime
    trace_headers: dict[str, str]
    """The trace context current when the delivery was recorded ({} if none)."""

    @classmethod
    def from_row(cls, row: Any) -> Delivery:
        return cls(
            id=row["id"],
            request=NotificationRequested.model_validate(row["request"]),
            status=DeliveryStatus(row["status"]),
            attempts=row["attempts"],
            round=row["round"],
            digest=row["digest"],
            created_at=row["created_at"],
            trace_headers=dict(row["trace_headers"] or {}),
        )


@dataclass(frozen=True)
class Program:
    entry: ProgramCatalogEntry
    endpoint_disabled: bool


async def insert_request(
    conn: Connection,
    request: NotificationRequested,
    *,
    status: DeliveryStatus,
    next_attempt_at: datetime,
    digest: bool,
) -> bool:
    """Record a request as a delivery; False when its request id is already known. The current
    trace context is kept with it, so that its attempts continue the trace that asked for it."""
    trace_headers = {k: v.decode() for k, v in inject_headers([])}
    inserted = await conn.fetchval(
        """
        INSERT INTO deliveries (id, request_id, complaint_id, referral_id, place_code, kind,
                                destination, template, request, digest, status, next_attempt_at,
                                trace_headers)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (request_id) DO NOTHING
        RETURNING true
        """,
        uuid.uuid4(),
        request.request_id,
        request.complaint_id,
        request.referral_id,
        request.place_code,
        request.kind.value,
        request.destination,
        request.template,
        request.model_dump(mode="json"),
        digest,
        status.value,
        next_attempt_at,
        trace_headers or None,
    )
    return bool(inserted)


async def upsert_program(conn: Connection, entry: ProgramCatalogEntry) -> bool:
    """Keep the newest version of a catalog entry; a newer version re-enables the endpoint."""
    changed = await conn.fetchval(
        """
        INSERT INTO programs (code, version, entry) VALUES ($1, $2, $3)
        ON CONFLICT (code) DO UPDATE
            SET version = excluded.version, entry = excluded.entry, updated_at = now(),
                endpoint_disabled_at = NULL, disabled_reason = NULL
            WHERE programs.version < excluded.version
        RETURNING true
        """,
        entry.code,
        entry.version,
        entry.model_dump(mode="json"),
    )
    return bool(changed)


async def program(conn: Connection, code: str) -> Program | None:
    row = await conn.fetchrow(
        "SELECT entry, endpoint_disabled_at FROM programs WHERE code = $1", code
    )
    if row is None:
        return None
    return Program(
        ProgramCatalogEntry.model_validate(row["entry"]), row["endpoint_disabled_at"] is not None
    )


async def disable_endpoint(conn: Connection, code: str, reason: str) -> None:
    await conn.execute(
        "UPDATE programs SET endpoint_disabled_at = now(), disabled_reason = $2 WHERE code = $1",
        code,
        reason,
    )


async def enable_endpoint(conn: Connection, code: str) -> None:
    await conn.execute(
        "UPDATE programs SET endpoint_disabled_at = NULL, disabled_reason = NULL WHERE code = $1",
        code,
    )


async def due(
    conn: Connection, *, limit: int, busy: list[uuid.UUID], full_destinations: list[str]
) -> list[Delivery]:
    """Due deliveries, locked for this transaction (others skip them), oldest first."""
    rows = await conn.fetch(
        """
        SELECT * FROM deliveries
        WHERE status IN ('digest', 'pending', 'retrying') AND next_attempt_at <= now()
          AND id <> ALL($2::uuid[]) AND destination <> ALL($3::text[])
        ORDER BY next_attempt_at LIMIT $1
        FOR UPDATE SKIP LOCKED
        """,
        limit,
        busy,
        full_destinations,
    )
    return [Delivery.from_row(r) for r in rows]


async def lease(conn: Connection, ids: list[uuid.UUID], seconds: float) -> None:
    """Push ``next_attempt_at`` out by the lease: other workers stay off these deliveries while
    their attempt runs, and get them back if this worker dies."""
    await conn.execute(
        "UPDATE deliveries SET next_attempt_at = now() + make_interval(secs => $2), "
        "leased_until = now() + make_interval(secs => $2) WHERE id = ANY($1)",
        ids,
        seconds,
    )


async def still_ours(conn: Connection, delivery: Delivery) -> bool:
    """Lock the row and check nobody settled it since we claimed it (an attempt that outlived
    its lease may have been retried by another worker meanwhile)."""
    row = await conn.fetchrow(
        "SELECT status, attempts, round FROM deliveries WHERE id = $1 FOR UPDATE", delivery.id
    )
    return row is not None and (row["status"], row["attempts"], row["round"]) == (
        delivery.status.value,
        delivery.attempts,
        delivery.round,
    )


async def record_attempt(
    conn: Connection,
    delivery: Delivery,
    *,
    channel: str,
    started_at: datetime,
    finished_at: datetime,
    result: SendResult,
) -> int:
    """Add the attempt; returns the attempt's number within the delivery's current round."""
    number = delivery.attempts + 1
    await conn.execute(
        """
        INSERT INTO attempts (delivery_id, round, number, channel, started_at, finished_at,
                              outcome, status_code, error, retry_after)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        delivery.id,
        delivery.round,
        number,
        channel,
        started_at,
        finished_at,
        result.verdict.value,
        result.status_code,
        result.error,
        result.retry_after,
    )
    return number


async def mark(
    conn: Connection,
    delivery: Delivery,
    status: DeliveryStatus,
    *,
    attempts: int,
    channel: str | None,
    at: datetime,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
    external_ref: str | None = None,
    route: str | None = None,
) -> None:
    if not may_move(delivery.status, status):
        raise ValueError(f"a delivery does not go from {delivery.status} to {status}")
    await conn.execute(
        """
        UPDATE deliveries
        SET status = $2, attempts = $3, channel = coalesce($4, channel), next_attempt_at = $5,
            last_error = coalesce($6, last_error), external_ref = coalesce($7, external_ref),
            delivered_at = CASE WHEN $2 = 'delivered' THEN $8 ELSE delivered_at END,
            failed_at = CASE WHEN $2 = 'failed' THEN $8 ELSE failed_at END,
            route = coalesce($9, route), leased_until = NULL
        WHERE id = $1
        """,
        delivery.id,
        status.value,
        attempts,
        channel,
        next_attempt_at,
        error,
        external_ref,
        at,
        route,
    )


async def cancel_referrals(
    conn: Connection,
    complaint_id: uuid.UUID,
    referral_id: uuid.UUID | None,
    reason: str,
    kinds: list[str],
) -> list[uuid.UUID]:
    """Cancel the complaint's referral deliveries not yet delivered (pending or retrying; one
    whose attempt is in flight too: its attempt then finds the row no longer its own); only
    ``referral_id``'s when given. Returns the ids cancelled."""
    rows = await conn.fetch(
        """
        UPDATE deliveries
        SET status = 'cancelled', cancelled_at = now(), next_attempt_at = NULL,
            leased_until = NULL, last_error = $3
        WHERE complaint_id = $1 AND ($2::uuid IS NULL OR referral_id = $2)
          AND kind = ANY($4::text[]) AND status IN ('pending', 'retrying')
        RETURNING id
        """,
        complaint_id,
        referral_id,
        reason,
        kinds,
    )
    return [r["id"] for r in rows]


async def bring_forward(conn: Connection, route: str, quiet_seconds: float) -> int:
    """Make the deliveries waiting to retry ``route`` due now (it answers again), or
    ``quiet_seconds`` after their last attempt if that is later (so a destination that is up
    but keeps failing one request is not hammered by it); never one whose attempt is in
    flight. Returns how many were brought forward."""
    status = await conn.execute(
        """
        UPDATE deliveries d SET next_attempt_at = soon.at
        FROM (
            SELECT x.id, greatest(
                now(),
                (SELECT max(a.finished_at) FROM attempts a WHERE a.delivery_id = x.id)
                    + make_interval(secs => $2)
            ) AS at
            FROM deliveries x
            WHERE x.route = $1 AND x.status = 'retrying'
              AND (x.leased_until IS NULL OR x.leased_until < now())
        ) soon
        WHERE d.id = soon.id AND d.next_attempt_at > soon.at
        """,
        route,
        quiet_seconds,
    )
    return int(status.split()[-1])


async def waiting_routes(conn: Connection, beyond_seconds: float) -> list[tuple[str, str]]:
    """(route, channel) of the destinations with retries due later than ``beyond_seconds``
    from now: the ones worth probing, so their retries come as soon as they answer again."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT route, channel FROM deliveries
        WHERE status = 'retrying' AND route IS NOT NULL AND channel IS NOT NULL
          AND next_attempt_at > now() + make_interval(secs => $1)
          AND (leased_until IS NULL OR leased_until < now())
        """,
        beyond_seconds,
    )
    return [(r["route"], r["channel"]) for r in rows]


async def resend(conn: Connection, delivery_id: uuid.UUID, by: str) -> bool:
    """A manager's re-send of a failed delivery: a new round of attempts, due now."""
    status = await conn.execute(
        """
        UPDATE deliveries
        SET status = 'pending', round = round + 1, attempts = 0, next_attempt_at = now(),
            failed_at = NULL, resent_by = $2
        WHERE id = $1 AND status = 'failed'
        """,
        delivery_id,
        by,
    )
    return status.endswith(" 1")


DELIVERY_COLUMNS = """
    id, request_id, complaint_id, referral_id, place_code, kind, destination, template, status,
    channel, attempts, round, next_attempt_at, last_error, external_ref, created_at,
    delivered_at, failed_at, cancelled_at, resent_by,
    request->'params'->>'addressed_to' AS addressed_to
"""


async def find(conn: Connection, *, column: str, value: uuid.UUID) -> list[dict[str, Any]]:
    if column not in ("id", "complaint_id", "referral_id"):
        raise ValueError("unsupported lookup")
    rows = await conn.fetch(
        f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE {column} = $1 ORDER BY created_at",  # noqa: S608 -- column is whitelisted above
        value,
    )
    return [dict(r) for r in rows]


async def complaint_places(
    conn: Connection, complaint_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Each complaint's place: the most specific place code any of its deliveries carries (the
    complaint's village, which the workflow puts on every request it makes)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (complaint_id) complaint_id, place_code FROM deliveries "
        "WHERE complaint_id = ANY($1) AND place_code IS NOT NULL "
        "ORDER BY complaint_id, length(place_code) DESC",
        complaint_ids,
    )
    return {r["complaint_id"]: r["place_code"] for r in rows}


async def attempts_of(conn: Connection, delivery_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT delivery_id, round, number, channel, started_at, finished_at, outcome,
               status_code, error, retry_after
        FROM attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, round, number
        """,
        delivery_ids,
    )
    return [dict(r) for r in rows]


async def add_lapor_report(
    conn: Connection, tracking_id: str, delivery: Delivery, status: str
) -> None:
    request = delivery.request
    await conn.execute(
        """
        INSERT INTO lapor_reports (tracking_id, delivery_id, complaint_id, referral_id, status)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tracking_id) DO NOTHING
        """,
        tracking_id,
        delivery.id,
        request.complaint_id,
        request.referral_id,
        status,
    )


async def open_lapor_reports(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT tracking_id, complaint_id, referral_id, status FROM lapor_reports
        WHERE NOT final ORDER BY polled_at NULLS FIRST LIMIT $1
        """,
        limit,
    )
    return [dict(r) for r in rows]


async def update_lapor_report(
    conn: Connection, tracking_id: str, status: str, *, final: bool
) -> bool:
    """Store the polled status; True when it changed."""
    previous = await conn.fetchval(
        "SELECT status FROM lapor_reports WHERE tracking_id = $1 FOR UPDATE", tracking_id
    )
    await conn.execute(
        "UPDATE lapor_reports SET polled_at = now(), final = $3, status = $2 "
        "WHERE tracking_id = $1",
        tracking_id,
        status,
        final,
    )
    return bool(previous != status)


async def add_siks_ng_submission(
    conn: Connection, submission_id: str, delivery: Delivery, status: str
) -> None:
    """Follow a membership referral SIKS-NG took (a redelivered submission id: no-op)."""
    request = delivery.request
    await conn.execute(
        """
        INSERT INTO siks_ng_submissions (submission_id, delivery_id, complaint_id, referral_id,
                                         status)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT (submission_id) DO NOTHING
        """,
        submission_id,
        delivery.id,
        request.complaint_id,
        request.referral_id,
        status,
    )


async def open_siks_ng_submissions(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT submission_id, complaint_id, referral_id, status FROM siks_ng_submissions
        WHERE NOT final ORDER BY polled_at NULLS FIRST LIMIT $1
        """,
        limit,
    )
    return [dict(r) for r in rows]


async def update_siks_ng_submission(
    conn: Connection,
    submission_id: str,
    status: str,
    *,
    final: bool,
    answer_id: str | None,
    decision: str | None,
) -> bool:
    """Store the polled status; True when it changed, and then the change is audited in
    ``siks_ng_verdicts`` (once per submission and status, whatever the redeliveries)."""
    previous = await conn.fetchval(
        "SELECT status FROM siks_ng_submissions WHERE submission_id = $1 FOR UPDATE",
        submission_id,
    )
    await conn.execute(
        "UPDATE siks_ng_submissions SET polled_at = now(), final = $3, status = $2 "
        "WHERE submission_id = $1",
        submission_id,
        status,
        final,
    )
    if previous == status:
        return False
    inserted = await conn.fetchval(
        """
        INSERT INTO siks_ng_verdicts (submission_id, status, answer_id, decision)
        VALUES ($1, $2, $3, $4) ON CONFLICT (submission_id, status) DO NOTHING
        RETURNING 1
        """,
        submission_id,
        status,
        answer_id,
        decision,
    )
    return inserted is not None
