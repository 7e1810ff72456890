"""Human actions → Temporal updates on the complaint's workflow.

The workflow validates each action against its current step and the actor's role before
anything is written, so a refusal comes back at once: ``WrongStep`` → 409 naming the current
step, ``NotYourRole`` → 403, ``SeparationOfDuties`` → 403 naming the rule. The client's
Idempotency-Key is the update's ``request_id`` (and its update id), so a repeated action returns
the first result.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from slrt.contracts.complaints import Refusal
from slrt.contracts.temporal import complaint_workflow_id
from slrt.errors import Conflict, Invalid, Refused, Unavailable

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
