"""The authorisation table, as data, and one pure function that reads it.

A caller may do an action when one of their roles allows it, the object's place lies inside
their area, and — for program managers — the referral is addressed to one of their programs.
An object outside the caller's area is reported as *not found* (no existence leak across
areas); an action the role may not take where the object is visible is *forbidden*.
"""

from __future__ import annotations

from enum import StrEnum

from slrt.auth.principal import Principal, Role
from slrt.contracts import complaints as c


class Action(StrEnum):
    COMPLAINT_SUBMIT = "complaint.submit"
    COMPLAINT_READ = "complaint.read"
    SUPERVISOR_REVIEW = "complaint.supervisor_review"
    BACK_OFFICE_ACT = "complaint.back_office"
    MANAGER_DECIDE = "complaint.manager_decision"
    FACILITATOR_FEEDBACK = "complaint.feedback"
    COMPLAINT_CORRECT = "complaint.correct"
    """Resubmit a capture the supervisor returned for correction."""
    INFORMATION_RECEIVED = "complaint.information_received"
    COMPLAINT_WITHDRAW = "complaint.withdraw"
    REFERRAL_READ = "referral.read"
    REFERRAL_ANSWER = "referral.answer"
    PERSON_READ = "registry.person_read"
    PERSON_SEARCH = "registry.person_search"
    CATALOG_EDIT = "catalog.edit"
    PROPOSAL_SUBMIT = "registry.proposal_submit"
    """Record a pre-list entry or a profile-change proposal (front office, facilitator)."""
    PROPOSAL_REVIEW = "registry.proposal_review"
    REGISTRY_IMPORT = "registry.import"
    DELIVERY_READ = "delivery.read"
    DELIVERY_RESEND = "delivery.resend"
    AGGREGATES_READ = "aggregates.read"
    REPORT_WRITE = "report.write"
    """Generate an M&E report and write its achievements, problems and recommendations."""


A = Action

FOR_UPDATE: dict[str, Action] = {
    c.UPDATE_SUPERVISOR_REVIEW: A.SUPERVISOR_REVIEW,
    c.UPDATE_RESUBMIT: A.COMPLAINT_CORRECT,
    c.UPDATE_BACK_OFFICE: A.BACK_OFFICE_ACT,
    c.UPDATE_INFORMATION_RECEIVED: A.INFORMATION_RECEIVED,
    c.UPDATE_MANAGER_DECISION: A.MANAGER_DECIDE,
    c.UPDATE_FEEDBACK: A.FACILITATOR_FEEDBACK,
    c.UPDATE_WITHDRAW: A.COMPLAINT_WITHDRAW,
}
"""The action behind each staff update (the household's response goes through the public
tracking page, not this table). Who may take it is ``HUMAN_ACTIONS``, the workflow's table."""

_OTHER: dict[Role, frozenset[Action]] = {
    Role.FACILITATOR: frozenset(
        {
            A.COMPLAINT_SUBMIT,
            A.COMPLAINT_READ,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.PROPOSAL_SUBMIT,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            A.COMPLAINT_READ,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.PROPOSAL_REVIEW,
            A.AGGREGATES_READ,
        }
    ),
    Role.FRONT_OFFICE: frozenset(
        {
            A.COMPLAINT_SUBMIT,
            A.COMPLAINT_READ,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.PROPOSAL_SUBMIT,
        }
    ),
    Role.BACK_OFFICE: frozenset(
        {
            A.COMPLAINT_READ,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.DELIVERY_READ,
            A.AGGREGATES_READ,
        }
    ),
    Role.MANAGER: frozenset(
        {
            A.COMPLAINT_READ,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.CATALOG_EDIT,
            A.PROPOSAL_REVIEW,
            A.DELIVERY_READ,
            A.DELIVERY_RESEND,
            A.AGGREGATES_READ,
            A.REPORT_WRITE,
        }
    ),
    Role.PROGRAM_MANAGER: frozenset({A.REFERRAL_READ, A.REFERRAL_ANSWER}),
    Role.ADMINISTRATOR: frozenset({A.CATALOG_EDIT, A.AGGREGATES_READ}),
    Role.DATA_MANAGER: frozenset({A.REGISTRY_IMPORT, A.AGGREGATES_READ}),
    Role.VIEWER: frozenset({A.AGGREGATES_READ}),
}
"""Everything else each role may do."""

ALLOWED: dict[Role, frozenset[Action]] = {
    role: others
    | {action for update, action in FOR_UPDATE.items() if role in c.HUMAN_ACTIONS[update].roles}
    for role, others in _OTHER.items()
}
"""What each role may do: its own rows plus the staff updates ``HUMAN_ACTIONS`` gives it."""


class Decision(StrEnum):
    ALLOW = "allow"
    FORBIDDEN = "forbidden"
    """403: the object is visible to the caller, the action is not theirs."""
    NOT_FOUND = "not_found"
    """404: the object is outside what the caller may see at all."""


def _may_see(principal: Principal, place_code: str | None, program: str | None) -> bool:
    if place_code is None:
        return True
    staff = any(r is not Role.PROGRAM_MANAGER for r in principal.roles)
    program_manager = Role.PROGRAM_MANAGER in principal.roles
    return (staff and principal.covers(place_code)) or (
        program_manager and program is not None and program in principal.programs
    )


def decide(
    principal: Principal,
    action: Action,
    *,
    place_code: str | None = None,
    program: str | None = None,
) -> Decision:
    """May ``principal`` take ``action`` on an object at ``place_code`` (about ``program``)?

    ``place_code`` None means the action concerns no particular place (e.g. submitting, where
    the place is checked on the submitted body instead). Program managers act on referrals by
    program, wherever the household lives.
    """
    if not _may_see(principal, place_code, program):
        return Decision.NOT_FOUND
    for role in principal.roles:
        if action not in ALLOWED.get(role, frozenset()):
            continue
        if role is Role.PROGRAM_MANAGER:
            if program is not None and program in principal.programs:
                return Decision.ALLOW
            continue
        if place_code is None or principal.covers(place_code):
            return Decision.ALLOW
    return Decision.FORBIDDEN
