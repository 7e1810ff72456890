"""The internal contact endpoint: the notifier redeems a household contact reference
(``household:<complaint id>``) for the phone and email intake keeps, just before it sends a
household message. Only the notifier's service account may (``contact.redeem``); every
redemption, released or not, is audited (who, which complaint, which fields, when, why).

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
from slrt.contracts.contacts import (
    REDEEM_PATH,
    ContactRedemption,
    HouseholdContact,
    household_complaint,
)
from slrt.problems import Problem, field_error

log = logging.getLogger(__name__)
router = APIRouter(tags=["internal"])


@router.post(
    REDEEM_PATH,
    response_model=HouseholdContact,
    summary="Services: redeem a household contact reference (audited)",
    description="For the notifier's service account only (`contact.redeem`). The answer holds "
    "the household's phone and email when it gave them; an anonymous complaint releases "
    "nothing. Every call is recorded in intake's contact audit.",
    responses=problems(*BODY, 401, 403, 404),
)
async def redeem(
    body: ContactRedemption, principal: CurrentPrincipal, pool: Pool
) -> HouseholdContact:
    authorize(principal, Action.CONTACT_REDEEM, what="contact")
    complaint_id = household_complaint(body.reference)
    if complaint_id is None:
        raise Problem(
            422,
            "invalid-request",
            "The request is not valid",
            "reference must be household:<complaint id>",
            errors=[field_error("reference", "pattern", "household:<complaint id> (a UUID)")],
        )
    async with pool.acquire() as conn, conn.transaction():
        row = await store.contact(conn, complaint_id)
        released: list[str] = []
        if row is None:
            outcome = "unknown"
        elif row["anonymous"]:
            outcome = "anonymous"
        else:
            released = [f for f in ("phone", "email") if row[f]]
            outcome = "released" if released else "no_contact"
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
            # (``GET /v1/audit``); why = the message it was released for.
            await casefile_store.audit(
                conn,
                actor=principal.subject,
                actor_role=Role.NOTIFIER_SERVICE.value,
                action="contact_redeemed",
                reads=[(complaint_id, row["village_code"], None, released)],
                detail=body.purpose,
            )
    log.info(
        "contact reference redeemed",
        extra={
            "complaint_id": str(complaint_id),
            "request_id": str(body.request_id),
            "caller": principal.subject,
            "outcome": outcome,
        },
    )
    if row is None:
        raise Problem(404, "not-found", "No such contact reference")
    return HouseholdContact(
        reference=body.reference,
        ticket_number=row["ticket_number"],
        place_code=row["village_code"],
        anonymous=row["anonymous"],
        phone=None if row["anonymous"] else row["phone"],
        email=None if row["anonymous"] else row["email"],
    )
