"""What a complaint does with the registry's news about the proposals it started (a pre-list
entry for a complainant not found in DT-PPFM, corrections proposed by back office): plain
functions, no Temporal (issue 15, item 1; Pedoman Umum SLRT IV.B.1.a, IV.B.2.c: a pre-list entry
or a change goes to SIKS-NG, whose verification and validation accept or reject it; the
household is told the outcome, IV.B.1.h).

The rule:

* Every status of a proposal (recorded, approved, returned, exported to SIKS-NG) is an event on
  the complaint's timeline, within its current step; the household is not told of those.
* A verification result (accepted, rejected, needs a revisit) is an event on the timeline
  within the current step, and the household is told it (``household_registry_result``) —
  unless the complaint is *waiting on registration* (``awaiting_registration``, chosen by back
  office because the complaint's outcome depends on the registry). Then:

  - SIKS-NG asks for a revisit → back to back office (someone must visit and correct the
    entry), the household is told;
  - a correction (change proposal) is returned — by the registry's review, as naming a record
    it does not hold, or by SIKS-NG's revisit — → back to back office
    (``registry_correction_returned``): a change proposal is never corrected in place, back
    office proposes anew; it no longer counts as undecided;
  - the complaint's proposals are not all decided yet → an event within the step; it waits on;
  - all decided, every one accepted → ``feedback`` with the outcome ``registry_accepted``;
  - all decided, any rejected → ``feedback`` with the outcome ``registry_rejected`` (the
    household may object: the outcome is reopenable, like a program's rejection).

  Entering ``feedback`` sends the household its outcome (``household_outcome``) and the
  facilitator the task to tell it, like any other outcome.
* No result within ``registry_result_wait_days`` (working days) while waiting on registration
  → back to back office (``registry_result_overdue``). A closed complaint's run stays open
  until its proposals are decided or that wait is over, so a result weeks later still reaches
  it; a result for a complaint whose run has ended anyway is recorded on its timeline by
  routing (``services/routing/late_results.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from slrt.contracts.complaints import ComplaintStep, Outcome
from slrt.contracts.transitions import Reason

S = ComplaintStep

RESULTS: Final = frozenset({"accepted", "rejected", "revisit"})
DECIDED: Final = frozenset({"accepted", "rejected"})
RETURNED: Final = "returned"
"""A correction sent back: its road ends (``decided`` records it as ``returned``)."""


def settles(kind: str, status: str) -> str | None:
    """What the news settles a proposal as (``accepted``, ``rejected``, ``returned``), or None
    while it is still on its way. A returned pre-list entry is corrected and goes on; a returned
    change proposal is over."""
    if status in DECIDED:
        return status
    if kind == "change" and status in (RETURNED, "revisit"):
        return RETURNED
    return None


@dataclass(frozen=True)
class Reaction:
    """What to record: a move (``to`` not None) or an event within the current step."""

    reason: Reason
    to: ComplaintStep | None = None
    outcome: Outcome | None = None


def pending(expected: int, decided: Mapping[str, str], known: Collection[str] = ()) -> int:
    """How many of the complaint's proposals still wait for a final result: those it heard of
    (``known``, by id) and that are not settled, plus those it started and has not heard of yet
    (``expected`` counts what it started; a proposal made for it elsewhere, e.g. at the
    registry's own API with its complaint id, is heard of and counts too)."""
    heard_of = set(known) | set(decided)
    return max(expected - len(heard_of), 0) + len(heard_of - set(decided))


def react(
    step: ComplaintStep,
    kind: str,
    status: str,
    expected: int,
    decided: Mapping[str, str],
    known: Collection[str] = (),
) -> Reaction:
    """The complaint's reaction to a proposal's ``status``; ``decided`` already includes what
    this news settles (proposal id → ``accepted`` / ``rejected`` / ``returned``)."""
    waiting = step is S.AWAITING_REGISTRATION
    if status not in RESULTS:
        if waiting and settles(kind, status) == RETURNED:
            return Reaction(Reason.REGISTRY_CORRECTION_RETURNED, to=S.BACK_OFFICE)
        return Reaction(Reason.REGISTRY_PROPOSAL_UPDATED)
    if not waiting:
        return Reaction(Reason.REGISTRY_VERIFIED)
    if status == "revisit":
        return Reaction(Reason.REGISTRY_REVISIT, to=S.BACK_OFFICE)
    if pending(expected, decided, known) > 0:
        return Reaction(Reason.REGISTRY_VERIFIED)
    results = set(decided.values())
    if "rejected" in results:
        return Reaction(Reason.REGISTRY_REJECTED, to=S.FEEDBACK, outcome=Outcome.REGISTRY_REJECTED)
    if results == {"accepted"}:
        return Reaction(Reason.REGISTRY_ACCEPTED, to=S.FEEDBACK, outcome=Outcome.REGISTRY_ACCEPTED)
    return Reaction(Reason.REGISTRY_CORRECTION_RETURNED, to=S.BACK_OFFICE)


def may_await(expected: int, decided: Mapping[str, str], known: Collection[str] = ()) -> bool:
    """Back office may put the complaint to wait on registration only while a proposal it
    started is undecided."""
    return pending(expected, decided, known) > 0


def holds_run(
    step: ComplaintStep, expected: int, decided: Mapping[str, str], known: Collection[str] = ()
) -> bool:
    """Whether a closed complaint's run stays open for the registry's results (until the
    wait is over)."""
    return step is S.CLOSED and pending(expected, decided, known) > 0
