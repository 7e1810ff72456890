"""Erasing a complaint's personal data on the data subject's request (UU PDP 27/2022), before
the retention sweep would (``services.intake.retention``)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from services.intake import retention
from services.intake.actions import action_fingerprint, claim_key
from services.intake.api.complaints import visible_complaint
from services.intake.api.deps import Clock, CurrentPrincipal, IdempotencyKey, Pool, Settings
from services.intake.api.problems import BODY, problems
from services.intake.domain import acting_role
from services.intake.schemas import ErasureIn, ErasureOut
from slrt.attachments.api import Parts
from slrt.auth.policy import Action
from slrt.errors import NotFound

router = APIRouter(prefix="/v1/complaints/{complaint_id}", tags=["actions"])

ACTION = "erase_personal_data"


@router.post(
    "/erase-personal-data",
    operation_id="erasePersonalData",
    response_model=ErasureOut,
    summary="Erase a closed or withdrawn complaint's personal data (data subject's request)",
    description="The administrator of the complaint's area (`complaint.erase_personal_data`), "
    "on the household's request: the complainant, phone, email, the description and notes' "
    "full texts, the answer notes and the attachments are erased; ticket, category, program, "
    "village, dates, status and the (masked) timeline stay. 409 `complaint-open` while the "
    "complaint is open (its workflow still needs the contact). Audited; idempotent: a repeat "
    "answers 200 with the first erasure's time and `already_erased: true`.",
    responses=problems(*BODY, 401, 403, 404, 409, 503),
)
async def erase_personal_data(
    complaint_id: UUID,
    body: ErasureIn,
    principal: CurrentPrincipal,
    key: IdempotencyKey,
    pool: Pool,
    parts: Parts,
    settings: Settings,
    clock: Clock,
) -> ErasureOut:
    action = Action.PERSONAL_DATA_ERASE
    await visible_complaint(pool, principal, complaint_id, action)
    fingerprint = action_fingerprint(ACTION, principal.subject, body.model_dump(mode="json"))
    async with pool.acquire() as conn, conn.transaction():
        await claim_key(conn, complaint_id, key, ACTION, fingerprint)
    done = await retention.erase(
        pool,
        parts,
        complaint_id,
        actor=principal.subject,
        actor_role=acting_role(principal, action).value,
        trigger=retention.Trigger.REQUEST,
        detail=retention.audit_detail(
            retention.Trigger.REQUEST, body.reason, settings.personal_data_retention_days
        ),
        now=clock(),
    )
    if done is None:
        raise NotFound("No such complaint")
    return ErasureOut(
        complaint_id=done.complaint_id,
        ticket_number=done.ticket_number,
        erased_at=done.erased_at,
        attachments_deleted=done.attachments_deleted,
        already_erased=done.already,
    )
