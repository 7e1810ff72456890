"""The internal complainant endpoint: the registry redeems a complainant reference
(``complainant:<complaint id>``) for the identity intake keeps (NIK, KK number, name, sex,
birth date, address, village), when it answers a registry check or records a pre-list entry.
Only the registry's service account may (``complainant.redeem``); every redemption, released or
not, is audited (who, which complaint, which fields, when, why).

The answer is personal data: it is never logged, and errors never echo it."""

from __future__ import annotations

import logging

from fastapi import APIRouter

from services.intake import casefile_store, store
from services.intake.api.deps import CurrentPrincipal, Pool
from services.intake.api.problems import BODY, problems
from slrt.auth.api import authorize
from slrt.auth.policy import Action
from slrt.auth.principal import Role
from slrt.contracts.complainants import (
    REDEEM_PATH,
    ComplainantRedemption,
    RedeemedComplainant,
    complainant_complaint,
)
from slrt.contracts.events import Complainant
from slrt.problems import Problem, field_error

log = logging.getLogger(__name__)
router = APIRouter(tags=["internal"])

IDENTITY_FIELDS = ("nik", "kk_number", "name", "sex", "birth_date", "address")


@router.post(
    REDEEM_PATH,
    response_model=RedeemedComplainant,
    summary="Services: redeem a complainant reference (audited)",
    description="For the registry's service account only (`complainant.redeem`). The answer "
    "holds the complainant as intake recorded them at submission; an anonymous complaint "
    "releases nothing. Every call is recorded in intake's redemption audit.",
    responses=problems(*BODY, 401, 403, 404),
)
async def redeem(
    body: ComplainantRedemption, principal: CurrentPrincipal, pool: Pool
) -> RedeemedComplainant:
    authorize(principal, Action.COMPLAINANT_REDEEM, what="complainant")
    complaint_id = complainant_complaint(body.reference)
    if complaint_id is None:
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            "reference must be complainant:<complaint id>",
            errors=[field_error("reference", "pattern", "complainant:<complaint id> (a UUID)")],
        )
    async with pool.acquire() as conn, conn.transaction():
        row = await store.complainant(conn, complaint_id)
        person: Complainant | None = None
        released: list[str] = []
        if row is None:
            outcome = "unknown"
        elif row["anonymous"] or row["complainant"] is None:
            outcome = "anonymous"
        else:
            person = Complainant.model_validate(row["complainant"])
            released = [f for f in IDENTITY_FIELDS if getattr(person, f) is not None]
            outcome = "released"
        await store.audit_redemption(
            conn,
            caller=principal.subject,
            caller_roles=sorted(r.value for r in principal.roles),
            complaint_id=complaint_id,
            request_id=body.request_id,
            purpose=body.purpose,
            released=released,
            outcome=outcome,
        )
        if row is not None and released:
            # A disclosure also shows in the data manager's audit log beside staff reads
            # (``GET /v1/audit``); why = the registry request it was released for.
            await casefile_store.audit(
                conn,
                actor=principal.subject,
                actor_role=Role.REGISTRY_SERVICE.value,
                action="complainant_redeemed",
                reads=[(complaint_id, row["village_code"], None, released)],
                detail=body.purpose,
            )
    log.info(
        "complainant reference redeemed",
        extra={
            "complaint_id": str(complaint_id),
            "request_id": str(body.request_id),
            "caller": principal.subject,
            "outcome": outcome,
        },
    )
    if row is None:
        raise Problem(404, "not-found", "No such complainant reference")
    return RedeemedComplainant(
        reference=body.reference, anonymous=person is None, complainant=person
    )
