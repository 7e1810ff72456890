"""Human actions on a complaint, each forwarded as a Temporal update to its workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends
from pydantic import BaseModel
from temporalio.client import Client

from services.intake import casefile_store, store
from services.intake.actions import action_fingerprint, claim_key, forward, keep_original_texts
from services.intake.api.complaints import allowed
from services.intake.api.deps import CurrentPrincipal, IdempotencyKey, Pool, Settings, Temporal
from services.intake.api.problems import BODY, problems
from services.intake.domain import acting_role
from services.intake.schemas import (
    ActionOut,
    BackOfficeActionIn,
    CorrectionIn,
    FeedbackIn,
    InformationIn,
    ManagerDecisionIn,
    RegistryCorrectionIn,
    SupervisorReviewIn,
    WithdrawIn,
)
from services.intake.settings import IntakeSettings
from slrt.auth.policy import Action, Decision, decide
from slrt.auth.principal import Principal
from slrt.contracts import complaints as c
from slrt.errors import Invalid, field_error

router = APIRouter(prefix="/v1/complaints/{complaint_id}", tags=["actions"])

RESPONSES = problems(*BODY, 401, 403, 404, 409, 503)


@dataclass(frozen=True)
class ActionCall:
    """What every action needs besides its body: the caller, the idempotency key, the stores."""

    principal: Principal
    key: str
    pool: asyncpg.Pool
    temporal: Client
    settings: IntakeSettings


async def _action_call(
    principal: CurrentPrincipal,
    key: IdempotencyKey,
    pool: Pool,
    temporal: Temporal,
    settings: Settings,
) -> ActionCall:
    return ActionCall(principal, key, pool, temporal, settings)


Call = Annotated[ActionCall, Depends(_action_call)]


async def _act(
    call: ActionCall,
    complaint_id: UUID,
    body: BaseModel,
    action: Action,
    update: str,
    model: type[BaseModel],
) -> ActionOut:
    principal, key = call.principal, call.key
    # The status check and the key's claim on one connection, one statement each.
    async with call.pool.acquire() as conn:
        row = allowed(await store.status(conn, complaint_id), principal, action)
        actor = c.Actor(
            user_id=principal.subject, role=acting_role(principal, action), area=principal.area
        )
        payload = model.model_validate({**body.model_dump(), "actor": actor, "request_id": key})
        fingerprint = action_fingerprint(update, principal.subject, body.model_dump(mode="json"))
        await claim_key(conn, complaint_id, key, update, fingerprint)
    result = await forward(
        call.temporal,
        complaint_id,
        update,
        payload,
        current_step=row["step"],
        timeout=call.settings.update_timeout_seconds,
    )
    await keep_original_texts(call.pool, complaint_id, call.key, update, principal.subject, payload)
    if isinstance(result, BaseModel):
        result = result.model_dump(mode="json")
    return ActionOut(complaint_id=complaint_id, action=update, request_id=key, result=result)


@router.post(
    "/supervisor-review",
    operation_id="supervisorReview",
    response_model=ActionOut,
    summary="Supervisor: approve a facilitator's capture or return it for correction",
    responses=RESPONSES,
)
async def supervisor_review(complaint_id: UUID, body: SupervisorReviewIn, call: Call) -> ActionOut:
    return await _act(
        call,
        complaint_id,
        body,
        Action.SUPERVISOR_REVIEW,
        c.UPDATE_SUPERVISOR_REVIEW,
        c.SupervisorReview,
    )


@router.post(
    "/correction",
    operation_id="correction",
    response_model=ActionOut,
    summary="Facilitator: resubmit a capture returned for correction",
    responses=RESPONSES,
)
async def correction(complaint_id: UUID, body: CorrectionIn, call: Call) -> ActionOut:
    done = await _act(
        call, complaint_id, body, Action.COMPLAINT_CORRECT, c.UPDATE_RESUBMIT, c.CorrectedSubmission
    )
    # The workflow took it: keep the corrected text where staff read the complaint (the
    # supervisor reviews it next). A retry with the same key replays and records it once.
    async with call.pool.acquire() as conn:
        await casefile_store.record_correction(
            conn,
            complaint_id=complaint_id,
            request_id=call.key,
            description=body.description,
            category=body.category.value,
            program_code=body.program_code,
            sub_type=body.sub_type,
            corrected_by=call.principal.subject,
        )
    return done


@router.post(
    "/back-office-action",
    operation_id="backOfficeAction",
    response_model=ActionOut,
    summary="Back office: resolve, propose a referral, mark duplicate or ask for information",
    responses=RESPONSES,
)
async def back_office_action(complaint_id: UUID, body: BackOfficeActionIn, call: Call) -> ActionOut:
    if body.kind == "mark_duplicate" and body.duplicate_of:
        await _check_duplicate_of(call, complaint_id, body.duplicate_of)
    return await _act(
        call, complaint_id, body, Action.BACK_OFFICE_ACT, c.UPDATE_BACK_OFFICE, c.BackOfficeAction
    )


async def _check_duplicate_of(call: ActionCall, complaint_id: UUID, ticket: str) -> None:
    """``duplicate_of`` names an existing complaint the caller may see (their area) that is
    not this one; else 422 naming the field (another area's ticket reads as unknown)."""
    async with call.pool.acquire() as conn:
        original = await store.status_by_ticket(conn, ticket.strip())
    visible = original is not None and (
        decide(call.principal, Action.COMPLAINT_READ, place_code=original["place_code"])
        is Decision.ALLOW
    )
    if original is None or not visible:
        error = field_error(
            "duplicate_of", "existing_complaint", "no complaint with this ticket in your area"
        )
    elif original["complaint_id"] == complaint_id:
        error = field_error("duplicate_of", "not_itself", "a complaint is not its own duplicate")
    else:
        return
    raise Invalid("One or more fields break a rule; see errors.", errors=[error])


@router.post(
    "/registry-correction",
    operation_id="proposeRegistryCorrection",
    response_model=ActionOut,
    summary="Back office: propose a correction of the social registry found on this complaint",
    responses=RESPONSES,
)
async def registry_correction(
    complaint_id: UUID, body: RegistryCorrectionIn, call: Call
) -> ActionOut:
    return await _act(
        call,
        complaint_id,
        body,
        Action.BACK_OFFICE_ACT,
        c.UPDATE_PROPOSE_CORRECTION,
        c.ProposeRegistryCorrection,
    )


@router.post(
    "/information",
    operation_id="informationReceived",
    response_model=ActionOut,
    summary="Facilitator or front office: the information the household gave when asked",
    responses=RESPONSES,
)
async def information_received(complaint_id: UUID, body: InformationIn, call: Call) -> ActionOut:
    return await _act(
        call,
        complaint_id,
        body,
        Action.INFORMATION_RECEIVED,
        c.UPDATE_INFORMATION_RECEIVED,
        c.InformationReceived,
    )


@router.post(
    "/manager-decision",
    operation_id="managerDecision",
    response_model=ActionOut,
    summary="Manager: approve a proposed referral or send it back to the back office",
    responses=RESPONSES,
)
async def manager_decision(complaint_id: UUID, body: ManagerDecisionIn, call: Call) -> ActionOut:
    return await _act(
        call,
        complaint_id,
        body,
        Action.MANAGER_DECIDE,
        c.UPDATE_MANAGER_DECISION,
        c.ManagerDecision,
    )


@router.post(
    "/feedback",
    operation_id="facilitatorFeedback",
    response_model=ActionOut,
    summary="Facilitator: the household was told the outcome (and how it responded)",
    responses=RESPONSES,
)
async def facilitator_feedback(complaint_id: UUID, body: FeedbackIn, call: Call) -> ActionOut:
    return await _act(
        call,
        complaint_id,
        body,
        Action.FACILITATOR_FEEDBACK,
        c.UPDATE_FEEDBACK,
        c.FacilitatorFeedback,
    )


@router.post(
    "/withdraw",
    operation_id="withdraw",
    response_model=ActionOut,
    summary="Withdraw the complaint (at the household's request), with the reason",
    responses=RESPONSES,
)
async def withdraw(complaint_id: UUID, body: WithdrawIn, call: Call) -> ActionOut:
    return await _act(
        call, complaint_id, body, Action.COMPLAINT_WITHDRAW, c.UPDATE_WITHDRAW, c.Withdraw
    )
