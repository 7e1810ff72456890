"""Human actions → Temporal updates on the complaint's workflow.

The workflow validates each action against its current step and the actor's role before
anything is written, so a refusal comes back at once: ``WrongStep`` → 409 naming the current
step, ``NotYourRole`` → 403, ``SeparationOfDuties`` → 403 naming the rule. The client's
Idempotency-Key is the update's ``request_id`` (and its update id), so a repeated action returns
the first result. Free text in an action (notes, reasons, answers, questions) is masked
(``slrt.masking``) before it goes to the workflow; the original stays in ``action_texts``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.intake import store
from slrt.contracts.complaints import Refusal
from slrt.contracts.temporal import complaint_workflow_id
from slrt.db import Connection
from slrt.errors import Conflict, FieldError, Invalid, Refused, Unavailable, field_error
from slrt.masking import mask_fields, unmasked_fields

log = logging.getLogger(__name__)

WRONG_STEP = Refusal.WRONG_STEP
NOT_YOUR_ROLE = Refusal.NOT_YOUR_ROLE


def wrong_step(current_step: str, detail: str | None = None) -> Conflict:
    return Conflict(
        detail or f"the complaint is at step {current_step}",
        kind="wrong-step",
        title="The complaint is not at a step where this action fits",
        current_step=current_step,
    )


def _step_from(error: ApplicationError, fallback: str) -> str:
    """The workflow names its current step in the error's details (a string, or a dict with
    ``current_step``)."""
    for detail in error.details:
        if isinstance(detail, str) and detail:
            return detail
        if isinstance(detail, dict):
            for key in ("current_step", "step"):
                if isinstance(detail.get(key), str):
                    return str(detail[key])
    return fallback


def separation_of_duties(detail: str) -> Refused:
    """The person who proposed a referral tried to approve it (403 naming the rule)."""
    return Refused(
        detail,
        kind="separation-of-duties",
        title="The person who proposed the referral may not approve it",
        rule="separation_of_duties",
    )


def action_fingerprint(action: str, caller: str, body: dict[str, Any]) -> str:
    """What an Idempotency-Key of a human action stands for: the action, the caller and the
    body (canonical JSON), hashed."""
    canonical = json.dumps(
        {"action": action, "caller": caller, "body": body}, sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def key_reused(detail: str) -> Conflict:
    """409: the Idempotency-Key was first used for another request (named, as a field)."""
    return Conflict(
        detail,
        kind="idempotency-key-reused",
        title="Idempotency key already used",
        errors=[
            field_error(
                "Idempotency-Key",
                "idempotency_key_reused",
                "this key was used for another action or body; use a new key",
            )
        ],
    )


_CLAIM = (
    "WITH claimed AS ("
    " INSERT INTO action_requests (complaint_id, request_id, action, fingerprint)"
    " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING action, fingerprint)"
    " SELECT action, fingerprint FROM claimed"
    " UNION ALL"
    " SELECT action, fingerprint FROM action_requests"
    " WHERE complaint_id = $1 AND request_id = $2"
    " LIMIT 1"
)


async def claim_key(
    conn: Connection, complaint_id: UUID, request_id: str, action: str, fingerprint: str
) -> None:
    """Record what ``request_id`` stands for on this complaint, or refuse it (409) when it
    was first used for another action, caller or body. The same request again passes (a
    retry after a 503 must reach the workflow, which answers it once).

    One round trip: the insert returns the row it wrote, else the statement reads the row
    already there. A row committed by a concurrent request after this statement's snapshot is
    neither (the insert waited for it and skipped); only then is it read again."""
    first = await conn.fetchrow(_CLAIM, complaint_id, request_id, action, fingerprint)
    if first is None:
        first = await conn.fetchrow(
            "SELECT action, fingerprint FROM action_requests "
            "WHERE complaint_id = $1 AND request_id = $2",
            complaint_id,
            request_id,
        )
    assert first is not None
    if first["action"] != action:
        raise key_reused(f"this key was used for the action {first['action']}; use a new key")
    if first["fingerprint"] != fingerprint:
        raise key_reused("this key was used with another body; use a new key")


def _refused_fields(error: ApplicationError) -> list[FieldError]:
    """The fields a workflow refusal names (details ``{"fields": [...]}``), with its rule."""
    fields: list[str] = []
    rule = "action_rule"
    for detail in error.details:
        if isinstance(detail, dict):
            fields += [str(f) for f in detail.get("fields") or [] if f]
            if isinstance(detail.get("rule"), str):
                rule = str(detail["rule"])
    return [field_error(f, rule, error.message) for f in fields or ["body"]]


async def forward(
    client: Client,
    complaint_id: UUID,
    update: str,
    action: BaseModel,
    *,
    current_step: str,
    timeout: float,
) -> Any:
    """Send ``action`` as update ``update``; returns the workflow's answer or raises the
    refusal as a domain error (``Conflict``, ``Refused``, ``Invalid``, ``Unavailable``)."""
    # Free text leaves intake masked (the caller keeps the original: ``store.keep_texts``).
    action = mask_fields(action)
    handle = client.get_workflow_handle(complaint_workflow_id(str(complaint_id)))
    request_id = str(getattr(action, "request_id", "")) or None
    try:
        return await handle.execute_update(
            update, action, id=request_id, rpc_timeout=timedelta(seconds=timeout)
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            if cause.type == WRONG_STEP:
                raise wrong_step(_step_from(cause, current_step), cause.message) from None
            if cause.type == NOT_YOUR_ROLE:
                raise Refused(cause.message) from None
            if cause.type == Refusal.SEPARATION_OF_DUTIES:
                raise separation_of_duties(cause.message) from None
            raise Invalid(
                cause.message,
                errors=_refused_fields(cause),
                kind="action-refused",
                title="The complaint's workflow refused the action",
            ) from None
        raise
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise _unavailable() from None
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            # No running workflow: not started yet (still being registered) or already finished.
            raise wrong_step(current_step) from None
        if exc.status in TRANSIENT:
            raise _unavailable() from None
        raise


TRANSIENT = frozenset(
    {
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.UNAVAILABLE,
        # The workflow's last task failed or timed out (its worker died mid-task, e.g. routing
        # killed): Temporal refuses updates ("WorkflowNotReady") until a worker runs it again.
        RPCStatusCode.FAILED_PRECONDITION,
        RPCStatusCode.RESOURCE_EXHAUSTED,
    }
)
"""RPC answers that mean "not now": the client retries with the same key (503)."""


def _unavailable() -> Unavailable:
    log.warning("complaint workflow did not answer an update in time")
    return Unavailable(
        "the action may not have been applied; retry with the same Idempotency-Key",
        kind="workflow-unavailable",
        title="The complaint's workflow did not answer in time",
        retry_after=5,
    )


async def keep_original_texts(
    pool: asyncpg.Pool,
    complaint_id: UUID,
    request_id: str,
    update: str,
    actor: str,
    action: BaseModel,
) -> None:
    """The workflow took ``action`` with its free text masked (``forward``): keep the original
    text in intake's ``action_texts``, nowhere else."""
    texts = unmasked_fields(action, mask_fields(action))
    if texts:
        async with pool.acquire() as conn:
            await store.keep_texts(
                conn,
                complaint_id=complaint_id,
                request_id=request_id,
                action=update,
                actor=actor,
                texts=texts,
            )
