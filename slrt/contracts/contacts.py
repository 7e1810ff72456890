"""Household contact references and their redemption at intake.

A household's phone number and email address stay with intake, the service that took them. The
complaint workflow addresses household messages to a *reference*, ``household:<complaint id>``
(the ``destination`` of the ``NotificationRequested``), which carries no personal data and may
therefore travel through Kafka and sit in Temporal histories. Just before sending, the notifier
redeems the reference at intake's internal endpoint (``POST /internal/v1/contacts/redeem``,
service-authenticated, audited) and keeps the answer in memory for that one attempt.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HOUSEHOLD_PREFIX = "household:"
FACILITATOR_CHANNEL = "facilitator"
"""The outcome ``channel`` of a household message handed to the village facilitator (no phone
or email): ``NotificationDelivered`` with this channel, delivery status
``handed_to_facilitator``."""


class HouseholdMessage(StrEnum):
    """The household messages' template names (``kind = household_message``)."""

    REGISTERED = "household_registered"
    """Ticket number and how to track it (every non-anonymous complaint, at registration)."""
    INFORMATION_NEEDED = "household_information_needed"
    """Back office asks the household for information (besides the facilitator's task)."""
    OUTCOME = "household_outcome"
    """The outcome is known: what was decided, by whom, what happens next (once per outcome)."""
    REOPENED = "household_reopened"
    """The household was not satisfied: the complaint is looked at again."""
    FINAL = "household_final"
    """The reopen window closed with the complaint still closed."""
    REGISTRY_RESULT = "household_registry_result"
    """SIKS-NG's verification result for what the complaint proposed to the registry, when it
    does not decide the complaint's outcome (that one goes as ``household_outcome``)."""


REDEEM_PATH = "/internal/v1/contacts/redeem"


def household_reference(complaint_id: uuid.UUID) -> str:
    """The destination of a household message about ``complaint_id``."""
    return f"{HOUSEHOLD_PREFIX}{complaint_id}"


def household_complaint(destination: str) -> uuid.UUID | None:
    """The complaint id a household reference names; None for anything else (including the old
    ``household:<ticket>`` form, which named no redeemable contact)."""
    if not destination.startswith(HOUSEHOLD_PREFIX):
        return None
    try:
        return uuid.UUID(destination.removeprefix(HOUSEHOLD_PREFIX))
    except ValueError:
        return None


class ContactRedemption(BaseModel):
    """What the notifier asks intake for, and why (kept in intake's audit)."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(
        pattern=r"^household:[0-9a-fA-F-]{36}$", description="household:<complaint id>"
    )
    request_id: uuid.UUID
    """The notification request the contact is needed for."""
    purpose: str = Field(pattern=r"^[a-z_]{1,60}$", description="the message's template name")


class HouseholdContact(BaseModel):
    """Where the household is reached. Personal data: never logged, never published."""

    model_config = ConfigDict(extra="forbid")

    reference: str
    ticket_number: str
    place_code: str
    """The complaint's village (its facilitator tells a household SLRT cannot reach)."""
    anonymous: bool
    phone: str | None = None
    email: str | None = None
    language: Literal["id", "en"] = "id"
