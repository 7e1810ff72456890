"""Household messages: the contact reference redeemed at intake just before sending, and what
happens when the household cannot be reached directly.

The request names the household by reference (``household:<complaint id>``); the phone and email
stay with intake. :class:`IntakeContacts` asks intake's internal endpoint for them with the
notifier's service token, for one attempt, and keeps them in memory only (never in the delivery
row, a log line, an error or an event). Intake being down, slow or refusing the token is a
transient failure: the attempt is retried on the usual schedule, nothing is lost.

What a redemption leads to (:func:`plan`, pure): the message itself by SMS when there is a phone,
else by email; an email copy as a second delivery when there are both; a task for the village
facilitator when there is neither (the delivery is ``handed_to_facilitator``, not failed); and
nothing for an anonymous complaint.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from services.notifier import templates
from services.notifier.domain import SendResult
from slrt import secrets
from slrt.contracts.contacts import (
    REDEEM_PATH,
    ContactRedemption,
    HouseholdContact,
    household_complaint,
    household_reference,
)
from slrt.contracts.events import NotificationRequested, Recipient
from slrt.contracts.vocabulary import NotificationKind

EMAIL_COPY = "email"
"""``params["via"]`` of the email copy of a household message sent by SMS."""
FACILITATOR_TEMPLATE = "household_via_facilitator"


def needs_redemption(request: NotificationRequested) -> bool:
    return request.kind is NotificationKind.HOUSEHOLD_MESSAGE and request.recipient is None


def reference_of(request: NotificationRequested) -> str | None:
    """The request's contact reference; a request of the old form (``household:<ticket>``) is
    redeemed through its complaint id."""
    if household_complaint(request.destination) is not None:
        return request.destination
    if request.complaint_id is not None:
        return household_reference(request.complaint_id)
    return None


class IntakeContacts:
    """Redeems contact references at intake (``POST /internal/v1/contacts/redeem``)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token_ref: str) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + REDEEM_PATH
        self._token_ref = token_ref

    async def redeem(self, request: NotificationRequested) -> HouseholdContact | SendResult:
        reference = reference_of(request)
        if reference is None:
            return SendResult.final("household message without a contact reference")
        try:
            token = secrets.resolve(self._token_ref)
        except secrets.SecretNotFound:
            return SendResult.retry("the notifier's service token for intake is not available")
        purpose = request.template if request.template.replace("_", "").isalpha() else "notice"
        body = ContactRedemption(
            reference=reference, request_id=request.request_id, purpose=purpose
        )
        try:
            response = await self._http.post(
                self._url,
                json=body.model_dump(mode="json"),
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError as exc:
            return SendResult.retry(f"intake unreachable for the contact ({type(exc).__name__})")
        status = response.status_code
        if status == 200:
            return HouseholdContact.model_validate(response.json())
        if status == 404:
            return SendResult.final("unknown contact reference", status)
        if status in (401, 403):
            # A token being rotated or a mis-set role: retried, so a fix loses nothing.
            return SendResult.retry(f"intake refused the notifier's service token (HTTP {status})")
        if status in (408, 429) or status >= 500:
            return SendResult.retry(f"intake could not give the contact (HTTP {status})", status)
        return SendResult.final(f"intake refused the contact redemption (HTTP {status})", status)


@dataclass(frozen=True)
class Send:
    """Send the message to ``recipient``; ``copy``: also record this email copy."""

    request: NotificationRequested
    copy: NotificationRequested | None = None


@dataclass(frozen=True)
class HandOver:
    """No phone, no email: the village facilitator's task tells the household."""

    task: NotificationRequested


def plan(
    request: NotificationRequested, contact: HouseholdContact, track_url: str
) -> Send | HandOver | SendResult:
    """What to do with a household message once its contact is known."""
    if contact.anonymous:
        return SendResult.final("anonymous complaint: there is no household to tell")
    if request.params.get("via") == EMAIL_COPY:
        if not contact.email:
            return SendResult.final("the household no longer has an email address")
        return Send(_with(request, Recipient(email=contact.email, language=contact.language)))
    if not (contact.phone or contact.email):
        return HandOver(facilitator_task(request, contact, track_url))
    recipient = Recipient(phone=contact.phone, email=contact.email, language=contact.language)
    copy = None
    if contact.phone and contact.email:
        copy = request.model_copy(
            update={
                "request_id": _derived(request, EMAIL_COPY),
                "params": {**request.params, "via": EMAIL_COPY},
            }
        )
    return Send(_with(request, recipient), copy)


def facilitator_task(
    request: NotificationRequested, contact: HouseholdContact, track_url: str
) -> NotificationRequested:
    """The task for the facilitator of the complaint's village: the household's message, in
    Bahasa Indonesia, to pass on in person."""
    template = templates.template_for(request.template, request.kind)
    params = templates.household_params(request.params, "id", track_url)
    message = templates.render_text(template, params, "id")
    task_params: dict[str, Any] = {
        "ticket": request.params.get("ticket", contact.ticket_number),
        "message": message,
        "place_code": contact.place_code,
        "household_template": request.template,
    }
    return NotificationRequested(
        request_id=_derived(request, "facilitator"),
        complaint_id=request.complaint_id,
        kind=NotificationKind.FACILITATOR_TASK,
        destination=f"facilitator:{contact.place_code}",
        template=FACILITATOR_TEMPLATE,
        params=task_params,
        place_code=contact.place_code,
    )


def _with(request: NotificationRequested, recipient: Recipient) -> NotificationRequested:
    """The request with its contact, for this attempt only (never stored)."""
    return request.model_copy(update={"recipient": recipient})


def _derived(request: NotificationRequested, what: str) -> uuid.UUID:
    """A stable id for a delivery derived from ``request`` (a retry derives the same one)."""
    return uuid.uuid5(request.request_id, what)
