"""The complainant's identity, redeemed at intake for a registry request that names the
complainant by reference (``complainant:<complaint id>``).

:class:`IntakeComplainants` asks intake's internal endpoint (``POST
/internal/v1/complainants/redeem``) with the registry's service token; the answer is used for
the one request and never logged. Intake being down, slow or refusing the token is a
:class:`~slrt.kafka.TransientError`: the request waits in the topic until intake answers (never
a dead letter); only a reference intake does not know, or an anonymous complaint, is permanent.
Requests of the old form (identity inline) need no redemption (:func:`resolve_check`,
:func:`resolve_prelist`).
"""

from __future__ import annotations

import ssl
import uuid
from functools import cache
from typing import Literal, Protocol

import httpx

from slrt import secrets
from slrt.contracts.complainants import REDEEM_PATH, ComplainantRedemption, RedeemedComplainant
from slrt.contracts.events import Complainant, PrelistEntryRequested, RegistryCheckRequested
from slrt.contracts.vocabulary import LookupKind
from slrt.kafka import PermanentError, TransientError

Purpose = Literal["registry_check", "prelist"]


class Complainants(Protocol):
    async def redeem(self, reference: str, request_id: uuid.UUID, purpose: Purpose) -> Complainant:
        """The complainant a reference names; raises ``TransientError`` / ``PermanentError``."""
        ...


@cache
def _tls() -> ssl.SSLContext:
    """The TLS context of every redemption call, made once: httpx builds a new one (loading the
    CA bundle) for each client otherwise, which was half of the registry's CPU on the
    complaint path (``docs/benchmarks.md``, "Complaint path")."""
    return httpx.create_ssl_context()


class IntakeComplainants:
    """Redeems complainant references at intake (``POST /internal/v1/complainants/redeem``).

    A client per call (no kept-alive connection to go stale between requests), over one TLS
    context made once."""

    def __init__(self, base_url: str, token_ref: str, timeout_seconds: float = 10.0) -> None:
        self._url = base_url.rstrip("/") + REDEEM_PATH
        self._token_ref = token_ref
        self._timeout = timeout_seconds

    async def redeem(self, reference: str, request_id: uuid.UUID, purpose: Purpose) -> Complainant:
        try:
            token = secrets.resolve(self._token_ref)
        except secrets.SecretNotFound:
            raise TransientError(
                "the registry's service token for intake is not available"
            ) from None
        body = ComplainantRedemption(reference=reference, request_id=request_id, purpose=purpose)
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False, verify=_tls()
            ) as http:
                response = await http.post(
                    self._url,
                    json=body.model_dump(mode="json"),
                    headers={"Authorization": f"Bearer {token}"},
                )
        except httpx.HTTPError as exc:
            raise TransientError(
                f"intake unreachable for the complainant ({type(exc).__name__})"
            ) from None
        return answer(response.status_code, response)


def answer(status: int, response: httpx.Response) -> Complainant:
    """What intake's answer means for the request (errors never echo the body)."""
    if status == 200:
        redeemed = RedeemedComplainant.model_validate(response.json())
        if redeemed.complainant is None:
            raise PermanentError("the complainant reference names an anonymous complaint")
        return redeemed.complainant
    if status == 404:
        raise PermanentError("intake does not know the complainant reference")
    if status in (401, 403):
        # A token being rotated or a mis-set role: waited out, so a fix loses nothing.
        raise TransientError(f"intake refused the registry's service token (HTTP {status})")
    if status in (408, 429) or status >= 500:
        raise TransientError(f"intake could not give the complainant (HTTP {status})")
    raise PermanentError(f"intake refused the complainant redemption (HTTP {status})")


async def resolve_check(
    request: RegistryCheckRequested, complainants: Complainants
) -> RegistryCheckRequested:
    """The check with the identifier its ``lookup`` names (redeemed when by reference)."""
    if request.complainant_ref is None:
        return request
    person = await complainants.redeem(
        request.complainant_ref, request.request_id, "registry_check"
    )
    return request.model_copy(update=check_identifier(request.lookup, person))


def check_identifier(lookup: LookupKind, person: Complainant) -> dict[str, str | None]:
    """The one identifier (or name and place) the lookup uses, nothing more."""
    if lookup is LookupKind.NIK:
        return {"nik": person.nik}
    if lookup is LookupKind.KK:
        return {"kk_number": person.kk_number}
    return {"name": person.name, "place_code": person.village_code}


async def resolve_prelist(
    request: PrelistEntryRequested, complainants: Complainants
) -> Complainant:
    """The person to pre-list (redeemed when by reference)."""
    if request.person is not None:
        return request.person
    if request.complainant_ref is None:
        raise PermanentError("the pre-list request names no person")
    return await complainants.redeem(request.complainant_ref, request.request_id, "prelist")
