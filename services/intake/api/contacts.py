"""The internal contact endpoint: the notifier redeems a household contact reference
(``household:<complaint id>``) for the phone and email intake keeps, just before it sends a
household message. Only the notifier's service account may (``contact.redeem``); every
redemption, released or not, is audited (who, which complaint, which fields, when, why).

The answer is personal data: it is never logged, and errors never echo it."""

from __future__ import annotations

import asyncpg
from fastapi import APIRouter

from services.intake import store
from services.intake.api import redemption
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
    row, _ = await redemption.redeem(pool, principal, body, CONTACT)
    return HouseholdContact(
        reference=body.reference,
        ticket_number=row["ticket_number"],
        place_code=row["village_code"],
        anonymous=row["anonymous"],
        phone=None if row["anonymous"] else row["phone"],
        email=None if row["anonymous"] else row["email"],
    )


def _contact(row: asyncpg.Record) -> tuple[None, list[str], str]:
    """What a known complaint releases: its phone and email (those given), unless anonymous
    or erased."""
    if row["anonymous"]:
        return None, [], "anonymous"
    if row["erased"]:  # retention: the contact is gone (services.intake.retention)
        return None, [], "erased"
    released = [f for f in ("phone", "email") if row[f]]
    return None, released, "released" if released else "no_contact"


CONTACT: redemption.Reference[None] = redemption.Reference(
    what="contact",
    form="household:<complaint id>",
    parse=household_complaint,
    lookup=store.contact,
    release=_contact,
    role=Role.NOTIFIER_SERVICE,
    action="contact_redeemed",
)
