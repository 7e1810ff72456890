"""The internal complainant endpoint: the registry redeems a complainant reference
(``complainant:<complaint id>``) for the identity intake keeps (NIK, KK number, name, sex,
birth date, address, village), when it answers a registry check or records a pre-list entry.
Only the registry's service account may (``complainant.redeem``); every redemption, released or
not, is audited (who, which complaint, which fields, when, why).

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
from slrt.contracts.complainants import (
    REDEEM_PATH,
    ComplainantRedemption,
    RedeemedComplainant,
    complainant_complaint,
)
from slrt.contracts.events import Complainant

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
    _, person = await redemption.redeem(pool, principal, body, COMPLAINANT)
    return RedeemedComplainant(
        reference=body.reference, anonymous=person is None, complainant=person
    )


def _identity(row: asyncpg.Record) -> tuple[Complainant | None, list[str], str]:
    """What a known complaint releases: the complainant's identity, unless anonymous."""
    if row["erased"]:  # retention: the identity is gone (services.intake.retention)
        return None, [], "erased"
    if row["anonymous"] or row["complainant"] is None:
        return None, [], "anonymous"
    person = Complainant.model_validate(row["complainant"])
    return person, [f for f in IDENTITY_FIELDS if getattr(person, f) is not None], "released"


COMPLAINANT: redemption.Reference[Complainant | None] = redemption.Reference(
    what="complainant",
    form="complainant:<complaint id>",
    parse=complainant_complaint,
    lookup=store.complainant,
    release=_identity,
    role=Role.REGISTRY_SERVICE,
    action="complainant_redeemed",
)
