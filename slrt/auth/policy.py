"""The authorisation table, as data, and one pure function that reads it.

A caller may do an action when one of their roles allows it, the object's place lies inside
their area, and — for program managers — the referral is addressed to one of their programs.
An object outside the caller's area is reported as *not found* (no existence leak across
areas); an action the role may not take where the object is visible is *forbidden*.
"""

from __future__ import annotations

from enum import StrEnum

from slrt.auth.principal import Principal, Role


class Action(StrEnum):
    COMPLAINT_SUBMIT = "complaint.submit"
    COMPLAINT_READ = "complaint.read"
    COMPLAINT_READ_PERSONAL = "complaint.read_personal"
    """Read a complaint's personal data: its description, the complainant as recorded, the
    case file's notes (and a facilitator's visit list). Every such read is audited."""
    SUPERVISOR_REVIEW = "complaint.supervisor_review"
    BACK_OFFICE_ACT = "complaint.back_office"
    MANAGER_DECIDE = "complaint.manager_decision"
    FACILITATOR_FEEDBACK = "complaint.feedback"
    COMPLAINT_CORRECT = "complaint.correct"
    """Resubmit a capture the supervisor returned for correction."""
    INFORMATION_RECEIVED = "complaint.information_received"
    """Record what the household answered when back office asked (awaiting information)."""
    COMPLAINT_WITHDRAW = "complaint.withdraw"
    ATTACHMENT_ADD = "complaint.attachment_add"
    """Attach a document (photo, letter, receipt) to a complaint: who records or handles it,
    and the program manager of a referral with their answer. Reading attachments is
    ``COMPLAINT_READ_PERSONAL`` for staff, ``REFERRAL_READ`` for program managers (audited)."""
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
    AUDIT_READ = "audit.read"
    """Read the log of who read which complaint's personal data (data manager)."""
    CONTACT_REDEEM = "contact.redeem"
    """Exchange a household contact reference for the phone/email intake keeps (audited)."""
    COMPLAINANT_REDEEM = "complainant.redeem"
    """Exchange a complainant reference for the identity intake keeps (audited)."""
    PROGRAM_INFO_READ = "program_info.read"
    """Read and search the district's FAQ and program information (front office and staff)."""
    FAQ_EDIT = "program_info.faq_edit"
    """Keep the district's FAQ (the administrator, Pedoman Umum SLRT VI.D.4)."""
    PROGRAM_INFO_EDIT = "program_info.program_edit"
    """Keep a program's information and eligibility criteria (its program manager, for their
    programs; the district manager, who keeps the catalog and the criteria)."""
    ELIGIBILITY_CHECK = "program_info.eligibility_check"
    """Check a registry household against the eligibility criteria ("may qualify for")."""
    PERSONAL_DATA_ERASE = "complaint.erase_personal_data"
    """Erase an ended complaint's personal data on the data subject's request (UU PDP 27/2022),
    before the retention period runs out (the administrator, in their area; audited)."""
    WORKFLOW_HISTORY_READ = "workflow.history_read"
    """Decode the encrypted payloads of complaint histories for the Temporal UI (intake's codec
    endpoint; every call audited). Not scoped to a place: the caller must be national."""


A = Action
ALLOWED: dict[Role, frozenset[Action]] = {
    # The household's answer to back office's question reaches SLRT through the two doors a
    # complaint comes in by (Pedoman Umum SLRT 2017, IV.B.2.a): a facilitator's home visit
    # ("pendataan keluhan", V.D.1.a.3.e) or the front office of the Puskesos / secretariat
    # ("menerima keluhan warga ... dan melakukan registrasi", V.D.1.a.4.a). The back office
    # asked; it receives what the front office has taken in (V.D.1.a.5.a) and does not record
    # the answer itself: INFORMATION_RECEIVED is the facilitator's and the front office's.
    Role.FACILITATOR: frozenset(
        {
            A.COMPLAINT_SUBMIT,
            A.ATTACHMENT_ADD,
            A.COMPLAINT_CORRECT,
            A.COMPLAINT_READ,
            A.COMPLAINT_READ_PERSONAL,
            A.FACILITATOR_FEEDBACK,
            A.INFORMATION_RECEIVED,
            A.COMPLAINT_WITHDRAW,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.PROPOSAL_SUBMIT,
            A.PROGRAM_INFO_READ,
        }
    ),
    Role.SUPERVISOR: frozenset(
        {
            A.COMPLAINT_READ,
            A.COMPLAINT_READ_PERSONAL,
            A.SUPERVISOR_REVIEW,
            A.COMPLAINT_WITHDRAW,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.PROPOSAL_REVIEW,
            A.AGGREGATES_READ,
            A.PROGRAM_INFO_READ,
        }
    ),
    Role.FRONT_OFFICE: frozenset(
        {
            A.COMPLAINT_SUBMIT,
            A.ATTACHMENT_ADD,
            A.COMPLAINT_READ,
            A.COMPLAINT_READ_PERSONAL,
            A.INFORMATION_RECEIVED,
            A.COMPLAINT_WITHDRAW,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.PROPOSAL_SUBMIT,
            A.PROGRAM_INFO_READ,
            A.ELIGIBILITY_CHECK,
        }
    ),
    Role.BACK_OFFICE: frozenset(
        {
            A.COMPLAINT_READ,
            A.ATTACHMENT_ADD,
            A.COMPLAINT_READ_PERSONAL,
            A.BACK_OFFICE_ACT,
            A.COMPLAINT_WITHDRAW,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.DELIVERY_READ,
            A.AGGREGATES_READ,
            A.PROGRAM_INFO_READ,
            A.ELIGIBILITY_CHECK,
        }
    ),
    Role.MANAGER: frozenset(
        {
            A.COMPLAINT_READ,
            A.COMPLAINT_READ_PERSONAL,
            A.MANAGER_DECIDE,
            A.COMPLAINT_WITHDRAW,
            A.PERSON_READ,
            A.PERSON_SEARCH,
            A.CATALOG_EDIT,
            A.PROPOSAL_REVIEW,
            A.DELIVERY_READ,
            A.DELIVERY_RESEND,
            A.AGGREGATES_READ,
            A.REPORT_WRITE,
            A.PROGRAM_INFO_READ,
            A.PROGRAM_INFO_EDIT,
            A.ELIGIBILITY_CHECK,
        }
    ),
    # A program manager answering a referral may attach documents to the complaint (a letter, a
    # decision), and reads its attachments as part of the referral (REFERRAL_READ).
    # Program information (Pedoman Umum SLRT 2017, V.D.1.a.4.c: the front office informs about
    # programs; VI.D.4: the administrator keeps the district's FAQ on regional programs): the
    # program manager keeps their own program's entry and criteria, the administrator the FAQ.
    Role.PROGRAM_MANAGER: frozenset(
        {
            A.REFERRAL_READ,
            A.REFERRAL_ANSWER,
            A.ATTACHMENT_ADD,
            A.PROGRAM_INFO_READ,
            A.PROGRAM_INFO_EDIT,
        }
    ),
    # The administrator also carries out a household's request to erase its personal data
    # (UU PDP 27/2022) on an ended complaint of their area.
    Role.ADMINISTRATOR: frozenset(
        {A.CATALOG_EDIT, A.AGGREGATES_READ, A.PROGRAM_INFO_READ, A.FAQ_EDIT, A.PERSONAL_DATA_ERASE}
    ),
    # The data manager keeps the district's data: DT-PPFM imports and the audit of who read
    # complainants' personal data (they read the log, not the complaints).
    Role.DATA_MANAGER: frozenset({A.REGISTRY_IMPORT, A.AGGREGATES_READ, A.AUDIT_READ}),
    Role.VIEWER: frozenset({A.AGGREGATES_READ}),
    # Services, not people: no staff role redeems contacts, and the notifier does nothing else.
    Role.NOTIFIER_SERVICE: frozenset({A.CONTACT_REDEEM}),
    # The registry redeems complainant references (the identity it looks up / pre-lists).
    Role.REGISTRY_SERVICE: frozenset({A.COMPLAINANT_REDEEM}),
    # Reads workflow histories (any district's) in the Temporal UI through the codec endpoint,
    # and nothing else: not a district role (the endpoint refuses an area other than national).
    Role.WORKFLOW_OPERATOR: frozenset({A.WORKFLOW_HISTORY_READ}),
}


def roles_for(action: Action) -> frozenset[Role]:
    """The roles this table lets take ``action`` (the complaint workflow's validators read the
    staff actions through ``slrt.contracts.complaints.HUMAN_ACTIONS``)."""
    return frozenset(role for role, actions in ALLOWED.items() if action in actions)


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
