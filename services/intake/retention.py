"""Personal data retention (UU PDP 27/2022: personal data kept no longer than needed).

A complaint's personal data is erased once it has been closed or withdrawn for more than
``SLRT_INTAKE_PERSONAL_DATA_RETENTION_DAYS`` (the periodic sweep, :func:`sweep`), or earlier on
a data subject's request (``POST /v1/complaints/{id}/erase-personal-data``, an administrator of
the complaint's area). Never while the complaint is open: its workflow still needs the contact.

Erased (:func:`erase`): the complainant (NIK, KK number, name, address...), phone, its last four
digits, email; the description as submitted and every correction's; the full texts of masked
notes (``action_texts``); the information request's answer text; the program managers' answer
notes; the attachments (stored objects, then rows: ``attachments.erase_for_complaint``). Kept:
ticket, category, program, village, dates, status and the timeline (masked text only), so the
dashboards and tracking keep working. Each erasure writes one ``audit_log`` row (who, when,
which fields; no personal data) and a same-step timeline entry ``personal_data_erased``.
Idempotent: an erased complaint is left as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import asyncpg
from prometheus_client import Counter

from services.intake import attachments, casefile_store
from services.intake.settings import IntakeSettings
from slrt.attachments.service import AttachmentParts
from slrt.contracts.complaints import ComplaintStep
from slrt.errors import Conflict
from slrt.masking import mask_free_text
from slrt.metrics import REGISTRY

log = logging.getLogger(__name__)

ERASED_TEXT = "[data pribadi dihapus]"
"""What stands in for an erased free text (description, notes): "personal data erased"."""

ERASED_REASON = "personal_data_erased"
"""The timeline entry's reason (a same-step entry, after the complaint ended)."""

ENDED_STEPS = frozenset({ComplaintStep.CLOSED.value, ComplaintStep.WITHDRAWN.value})

ERASED_FIELDS = [
    "complainant",
    "phone",
    "email",
    "description",
    "corrections",
    "action_texts",
    "information_answer",
    "answer_notes",
    "attachments",
]
"""What an erasure removes (the audit row's ``fields``)."""

ERASED = Counter(
    "slrt_intake_personal_data_erased",
    "Complaints whose personal data was erased, by trigger (retention, request)",
    ["trigger"],
    registry=REGISTRY,
)


class Trigger(StrEnum):
    RETENTION = "retention"
    """The sweep: ended more than the retention period ago."""
    REQUEST = "request"
    """A data subject's request, through an administrator."""


# --- the rule (pure) -----------------------------------------------------------------------


def ended(step: str) -> bool:
    """A closed or withdrawn complaint; any other step is open and keeps its personal data."""
    return step in ENDED_STEPS


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    """Complaints that ended before this moment are due for erasure."""
    return now - timedelta(days=retention_days)


def due_for_erasure(
    step: str, ended_at: datetime, now: datetime, retention_days: int, *, erased: bool = False
) -> bool:
    """Whether the sweep erases this complaint's personal data now: it ended (closed or
    withdrawn) more than ``retention_days`` ago and was not erased already. Never an open one."""
    return not erased and ended(step) and ended_at < retention_cutoff(now, retention_days)


def audit_detail(trigger: Trigger, reason: str | None, retention_days: int) -> str:
    """The audit row's why, without personal data (a request's reason is masked and cut)."""
    if trigger is Trigger.RETENTION:
        return f"retention: ended more than {retention_days} days ago"
    return f"data subject request: {mask_free_text(reason or '')[:300]}"


# --- erasure (I/O) -------------------------------------------------------------------------


class StillOpen(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "the complaint is still open: its workflow still needs the household's contact; "
            "erase once it is closed or withdrawn",
            kind="complaint-open",
            title="The complaint is still open",
        )


@dataclass(frozen=True)
class Erasure:
    complaint_id: UUID
    ticket_number: str
    erased_at: datetime
    attachments_deleted: int
    already: bool
    """Erased before (this call changed nothing)."""


async def erase(
    pool: asyncpg.Pool,
    parts: AttachmentParts,
    complaint_id: UUID,
    *,
    actor: str,
    actor_role: str,
    trigger: Trigger,
    detail: str,
    now: datetime,
) -> Erasure | None:
    """Erase the complaint's personal data (None: no such complaint; :class:`StillOpen` when
    it is open). The files go first (idempotent), then the rows in one transaction, which
    marks the complaint erased: a failure half-way leaves it unmarked, for the next try."""
    row = await pool.fetchrow(
        "SELECT c.ticket_number, c.personal_data_erased_at, s.step FROM complaints c "
        "JOIN complaint_status s ON s.complaint_id = c.id WHERE c.id = $1",
        complaint_id,
    )
    if row is None:
        return None
    if row["personal_data_erased_at"] is not None:
        deleted = await attachments.erase_for_complaint(pool, parts, complaint_id)
        return Erasure(
            complaint_id, row["ticket_number"], row["personal_data_erased_at"], deleted, True
        )
    if not ended(row["step"]):
        raise StillOpen()
    deleted = await attachments.erase_for_complaint(pool, parts, complaint_id)
    async with pool.acquire() as conn, conn.transaction():
        # The lock uploads take (``attachments.upload``): none commits past the mark below.
        await conn.execute("SELECT 1 FROM complaints WHERE id = $1 FOR UPDATE", complaint_id)
        status = await conn.fetchrow(
            "SELECT step, place_code FROM complaint_status WHERE complaint_id = $1 FOR UPDATE",
            complaint_id,
        )
        assert status is not None  # checked above; status rows are never deleted
        if not ended(status["step"]):  # reopened meanwhile
            raise StillOpen()
        erased_at = await conn.fetchval(
            "UPDATE complaints SET complainant = NULL, phone = NULL, phone_last4 = NULL, "
            "email = NULL, description = $2, personal_data_erased_at = $3, "
            "information_answer = CASE WHEN information_answer ? 'answer' "
            "THEN jsonb_set(information_answer, '{answer}', to_jsonb($2::text)) "
            "ELSE information_answer END "
            "WHERE id = $1 AND personal_data_erased_at IS NULL RETURNING personal_data_erased_at",
            complaint_id,
            ERASED_TEXT,
            now,
        )
        if erased_at is None:  # a concurrent erasure committed first
            found = await conn.fetchval(
                "SELECT personal_data_erased_at FROM complaints WHERE id = $1", complaint_id
            )
            return Erasure(complaint_id, row["ticket_number"], found, deleted, True)
        await conn.execute(
            "UPDATE complaint_corrections SET description = $2 WHERE complaint_id = $1",
            complaint_id,
            ERASED_TEXT,
        )
        await conn.execute("DELETE FROM action_texts WHERE complaint_id = $1", complaint_id)
        await conn.execute(
            "UPDATE referral_answers SET note = $2 WHERE complaint_id = $1 AND note IS NOT NULL",
            complaint_id,
            ERASED_TEXT,
        )
        await conn.execute(
            "UPDATE referrals SET answer_note = CASE WHEN answer_note IS NULL THEN NULL "
            "ELSE $2 END WHERE complaint_id = $1",
            complaint_id,
            ERASED_TEXT,
        )
        await conn.execute(
            "INSERT INTO complaint_timeline (complaint_id, sequence, from_step, to_step, actor, "
            "actor_role, at, reason, details) "
            "SELECT $1, COALESCE(max(sequence), 0) + 1, $2, $2, $3, $4, $5, $6, $7 "
            "FROM complaint_timeline WHERE complaint_id = $1",
            complaint_id,
            status["step"],
            actor,
            actor_role,
            now,
            ERASED_REASON,
            {"trigger": trigger.value, "label": f"personal data erased ({trigger.value})"},
        )
        await casefile_store.audit(
            conn,
            actor=actor,
            actor_role=actor_role,
            action="personal_data_erased",
            reads=[(complaint_id, status["place_code"], status["step"], ERASED_FIELDS)],
            detail=detail,
        )
    # An upload that committed between the first pass and the mark (uploads take the same row
    # lock and are refused once it is set) goes now.
    deleted += await attachments.erase_for_complaint(pool, parts, complaint_id)
    ERASED.labels(trigger=trigger.value).inc()
    log.info(
        "personal data erased",
        extra={
            "complaint_id": str(complaint_id),
            "trigger": trigger.value,
            "attachments_deleted": deleted,
        },
    )
    return Erasure(complaint_id, row["ticket_number"], erased_at, deleted, False)


async def due(pool: asyncpg.Pool, now: datetime, retention_days: int, limit: int) -> list[UUID]:
    """Complaints due for erasure, the longest-ended first (at most ``limit``)."""
    rows = await pool.fetch(
        "SELECT s.complaint_id, s.step, s.updated_at FROM complaint_status s "
        "JOIN complaints c ON c.id = s.complaint_id "
        "WHERE s.step IN ('closed', 'withdrawn') AND s.updated_at < $1 "
        "AND c.personal_data_erased_at IS NULL ORDER BY s.updated_at LIMIT $2",
        retention_cutoff(now, retention_days),
        limit,
    )
    return [
        r["complaint_id"]
        for r in rows
        if due_for_erasure(r["step"], r["updated_at"], now, retention_days)
    ]


async def sweep_once(
    pool: asyncpg.Pool, parts: AttachmentParts, settings: IntakeSettings, now: datetime
) -> int:
    """One round: erase up to a batch of due complaints; how many were erased."""
    days = settings.personal_data_retention_days
    erased = 0
    for complaint_id in await due(pool, now, days, settings.personal_data_retention_batch):
        try:
            done = await erase(
                pool,
                parts,
                complaint_id,
                actor="system",
                actor_role="system",
                trigger=Trigger.RETENTION,
                detail=audit_detail(Trigger.RETENTION, None, days),
                now=now,
            )
        except StillOpen:  # reopened since it was picked
            continue
        if done is not None and not done.already:
            erased += 1
    return erased


async def sweep(
    pool: asyncpg.Pool,
    parts: AttachmentParts,
    settings: IntakeSettings,
    stop: asyncio.Event,
) -> None:
    """Erase due complaints in batches until ``stop``: a full batch is followed at once by the
    next, else the sweep waits ``personal_data_retention_sweep_seconds``."""
    while not stop.is_set():
        erased = 0
        try:
            erased = await sweep_once(pool, parts, settings, datetime.now(UTC))
            if erased:
                log.info("retention sweep erased personal data", extra={"erased": erased})
        except Exception as exc:  # the database or the store down: try again next round
            log.warning("retention sweep skipped", extra={"error_type": type(exc).__name__})
        if erased >= settings.personal_data_retention_batch:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.personal_data_retention_sweep_seconds)
