"""Which household message a complaint's transition sends, and what it says: plain functions.

The household hears, by SMS (and email where it gave one), when its complaint is registered,
when back office needs information from it, when the outcome is known (entering feedback with a
pending outcome, closing directly with one, or being withdrawn), when it is reopened, and when
the reopen window closes with the complaint still closed. Anonymous complainants hear nothing
(there is nobody to address). Parameters are codes and references, never personal data: the
notifier puts them into words (``services/notifier/templates.py``).
"""

from __future__ import annotations

from typing import Any

from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.contacts import HouseholdMessage
from slrt.contracts.transitions import Reason
from workflows.rules import REOPENABLE_OUTCOMES

S = ComplaintStep
M = HouseholdMessage

PROGRAM_OUTCOMES = frozenset({Outcome.REFERRAL_ACCEPTED, Outcome.REFERRAL_REJECTED})
REGISTRY_OUTCOMES = frozenset({Outcome.REGISTRY_ACCEPTED, Outcome.REGISTRY_REJECTED})
SIKS_NG = "siks_ng"
"""``decided_by`` for the ministry's verification (SIKS-NG) of a registry proposal."""
SLRT = "slrt"
"""``decided_by`` when SLRT's own office decided (back office, front office at registration)."""


def message_for(
    from_step: ComplaintStep | None, to_step: ComplaintStep, reason: str | None
) -> HouseholdMessage | None:
    """The message a transition sends the household, if any. Events within a step send none;
    closing after feedback sends none (the outcome was sent on entering feedback)."""
    if reason in (Reason.REGISTRY_VERIFIED, Reason.REGISTRY_REVISIT):
        return M.REGISTRY_RESULT  # within a step too: the registry's verdict on its proposal
    if from_step is None or from_step is to_step:
        return None
    if to_step is S.REGISTERED:
        return M.REGISTERED
    if to_step is S.AWAITING_INFORMATION:
        return M.INFORMATION_NEEDED
    if to_step in (S.FEEDBACK, S.WITHDRAWN):
        return M.OUTCOME
    if to_step is S.CLOSED and from_step is not S.FEEDBACK:
        return M.OUTCOME
    if to_step is S.BACK_OFFICE and reason == Reason.REOPENED_NOT_SATISFIED:
        return M.REOPENED
    return None


def outcome_params(
    outcome: Outcome, details: dict[str, Any], *, reopened: bool, program: str | None
) -> dict[str, Any]:
    """What was decided (``outcome``), by whom (``decided_by``: the program's code for a
    referral's answer, else ``slrt``), the decision's note for the household (``note``), and
    whether the household may still object (``reopenable``)."""
    decided_by = (
        (details.get("destination") or program or SLRT) if outcome in PROGRAM_OUTCOMES else SLRT
    )
    if outcome in REGISTRY_OUTCOMES:
        decided_by = SIKS_NG
    return {
        "outcome": outcome.value,
        "decided_by": decided_by,
        "note": details.get("answer") or details.get("note") or details.get("reason"),
        "duplicate_of": details.get("duplicate_of"),
        "reopenable": outcome in REOPENABLE_OUTCOMES and not reopened,
    }


def registry_result_params(details: dict[str, Any]) -> dict[str, Any]:
    """The registry's verdict on a proposal of the complaint: ``result`` (accepted, rejected,
    revisit), ``kind`` (``prelist``: being registered; ``change``: a correction) and SIKS-NG's
    ``reason`` (codes and SIKS-NG's own words, no personal data)."""
    return {
        "result": details.get("status"),
        "kind": details.get("kind"),
        "reason": details.get("reason"),
    }
