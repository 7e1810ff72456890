"""Every branch driven by updates and signals, on the real Temporal dev server."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from slrt.auth.principal import Role
from slrt.contracts.complainants import complainant_reference
from slrt.contracts.complaints import (
    SIGNAL_DELIVERY_OUTCOME,
    SIGNAL_REFERRAL_ANSWER,
    SIGNAL_REGISTRY_RESULT,
    UPDATE_BACK_OFFICE,
    UPDATE_FEEDBACK,
    UPDATE_HOUSEHOLD_RESPONSE,
    UPDATE_INFORMATION_RECEIVED,
    UPDATE_MANAGER_DECISION,
    UPDATE_RESUBMIT,
    UPDATE_SUPERVISOR_REVIEW,
    UPDATE_WITHDRAW,
    BackOfficeAction,
    ComplaintStep,
    CorrectedSubmission,
    DeliveryOutcome,
    FacilitatorFeedback,
    HouseholdResponse,
    InformationAnswer,
    InformationReceived,
    ManagerDecision,
    MayQualify,
    Outcome,
    ReferralAnswer,
    SupervisorReview,
    Withdraw,
)
from slrt.contracts.events import (
    ComplaintSubmitted,
    ComplaintTransitioned,
    NotificationRequested,
    PrelistEntryRequested,
)
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import (
    Category,
    Channel,
    LookupKind,
    NotificationKind,
    ReferralDecision,
)
from tests.support.complaints import Driven, actor, registry_answer, request_id, submitted

S = ComplaintStep
Drive = Callable[[ComplaintSubmitted], Awaitable[Driven]]

BACK_OFFICE = actor(Role.BACK_OFFICE)
MANAGER = actor(Role.MANAGER)
FACILITATOR = actor(Role.FACILITATOR)


def refer(destination: str | None = None, reason: str | None = None) -> BackOfficeAction:
    return BackOfficeAction(
        actor=BACK_OFFICE,
        request_id=request_id(),
        kind="refer",
        destination_program=destination,
        override_reason=reason,
    )


def approve() -> ManagerDecision:
    return ManagerDecision(actor=MANAGER, request_id=request_id(), decision="approve")


def answer(referral_id: str, decision: ReferralDecision, **more: object) -> ReferralAnswer:
    return ReferralAnswer(
        answer_id=uuid.uuid4().hex,
        referral_id=uuid.UUID(referral_id),
        decision=decision,
        at=datetime.now(UTC),
        **more,
    )


def told(response: str | None = None) -> FacilitatorFeedback:
    return FacilitatorFeedback(
        actor=FACILITATOR,
        request_id=request_id(),
        household_told=True,
        visited_on=date(2026, 12, 1),
        household_response=response,
    )


async def referred(c: Driven) -> tuple[str, uuid.UUID]:
    """Referral id and notification request id of the current referral."""
    current = await c.state()
    entry = next(h for h in reversed(current.history) if h.reason == "referral_approved")
    sent = next(n for n in reversed(current.notifications) if n["kind"] == "referral")
    return entry.details["referral_id"], uuid.UUID(sent["request_id"])


async def test_a_walk_in_complaint_goes_from_registry_check_to_an_accepted_referral_and_closes(
    drive: Drive,
) -> None:
    c = await drive(submitted(program="PKH"))
    at_back_office = await c.answer_registry(found=True)
    snapshot = at_back_office.snapshot
    assert snapshot.registry is not None
    assert snapshot.registry.found
    assert snapshot.registry.welfare_decile == 2
    assert snapshot.holder_role is Role.BACK_OFFICE
    assert snapshot.step_due is not None

    proposed = await c.act(UPDATE_BACK_OFFICE, refer())
    assert proposed.step is S.MANAGER_APPROVAL
    assert proposed.referral_destination == "PKH"
    sent = await c.act(UPDATE_MANAGER_DECISION, approve())
    assert sent.step is S.REFERRED
    referral_id, notification_id = await referred(c)

    await c.handle.signal(
        SIGNAL_DELIVERY_OUTCOME,
        DeliveryOutcome(
            request_id=notification_id, delivered=True, channel="webhook", at=datetime.now(UTC)
        ),
    )
    await c.handle.signal(SIGNAL_REFERRAL_ANSWER, answer(referral_id, ReferralDecision.ACCEPTED))
    await c.at(S.FEEDBACK)
    closed = await c.act(UPDATE_FEEDBACK, told("satisfied"))
    assert closed.step is S.CLOSED
    assert closed.outcome is Outcome.REFERRAL_ACCEPTED
    result = await c.handle.result()
    assert result.step is S.CLOSED

    final = await c.state()
    path = [(h.from_step, h.to_step, h.reason) for h in final.history]
    assert path == [
        (None, S.RECEIVED, "submitted"),
        (S.RECEIVED, S.REGISTERED, "ticket_attached"),
        (S.REGISTERED, S.REGISTRY_CHECK, "registry_check_requested"),
        (S.REGISTRY_CHECK, S.BACK_OFFICE, "registry_checked"),
        (S.BACK_OFFICE, S.MANAGER_APPROVAL, "referral_proposed"),
        (S.MANAGER_APPROVAL, S.REFERRED, "referral_approved"),
        (S.REFERRED, S.REFERRED, "referral_delivered"),
        (S.REFERRED, S.FEEDBACK, "referral_accepted"),
        (S.FEEDBACK, S.CLOSED, "household_told"),
    ]
    assert [h.actor_role for h in final.history][4:6] == ["back_office", "manager"]
    assert final.history[7].actor == "program:PKH"

    # Every transition reached the lifecycle topic once, with a deterministic id, in order.
    events = await c.published(Topic.COMPLAINT_LIFECYCLE, expect=len(path))
    lifecycle = [e.parse(ComplaintTransitioned) for e in events]
    assert [e.sequence for e in lifecycle] == list(range(1, len(path) + 1))
    assert [e.id for e in events] == [f"complaint-{c.subject}-{n}" for n in range(1, len(path) + 1)]
    assert lifecycle[-1].snapshot.outcome is Outcome.REFERRAL_ACCEPTED

    # The referral the notifier got: the program's manager, what they need, never the NIK.
    notifications = await c.notifications(expect=4)
    referral = next(n for n in notifications if n.kind is NotificationKind.REFERRAL)
    assert referral.destination == "PKH"
    assert referral.params["ticket"] == c.complaint.ticket_number
    assert referral.params["registry"]["welfare_decile"] == 2
    assert c.complaint.complainant is not None
    assert c.complaint.complainant.nik is not None
    assert c.complaint.complainant.nik not in str(referral.model_dump())
    assert any(n.kind is NotificationKind.FACILITATOR_TASK for n in notifications)
    # Since PATCH_HOUSEHOLD_MESSAGES the household hears its ticket at registration and the
    # outcome when it is known, addressed by reference (its phone stays with intake).
    heard = [n for n in notifications if n.kind is NotificationKind.HOUSEHOLD_MESSAGE]
    assert [n.template for n in heard] == ["household_registered", "household_outcome"]
    assert {n.destination for n in heard} == {f"household:{c.complaint.complaint_id}"}
    assert all(n.recipient is None for n in heard)
    ticket, village = c.complaint.ticket_number, c.complaint.village_code
    assert heard[0].params == {
        "ticket": ticket,
        "place_code": village,
        "category": "implementation",
    }
    assert heard[1].params == {
        "ticket": ticket,
        "place_code": village,
        "outcome": "referral_accepted",
        "decided_by": "PKH",
        "reopenable": True,
    }


async def test_manager_approval_while_in_back_office_is_refused_naming_the_step(
    drive: Drive,
) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    before = await c.state()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await c.act(UPDATE_MANAGER_DECISION, approve())
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "WrongStep"
    assert "back_office" in cause.message
    with pytest.raises(WorkflowUpdateFailedError) as wrong_role:
        await c.act(
            UPDATE_BACK_OFFICE,
            BackOfficeAction(actor=FACILITATOR, request_id=request_id(), kind="refer"),
        )
    assert isinstance(wrong_role.value.cause, ApplicationError)
    assert wrong_role.value.cause.type == "NotYourRole"
    after = await c.state()
    assert after.history == before.history  # nothing was written


async def test_a_duplicate_delivery_outcome_changes_nothing(drive: Drive) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    _, notification_id = await referred(c)
    outcome = DeliveryOutcome(
        request_id=notification_id, delivered=True, channel="webhook", at=datetime.now(UTC)
    )
    await c.handle.signal(SIGNAL_DELIVERY_OUTCOME, outcome)
    first = await c.until(lambda s: s.history[-1].reason == "referral_delivered")
    await c.handle.signal(SIGNAL_DELIVERY_OUTCOME, outcome)
    # A later failure report for the same request is stale too.
    await c.handle.signal(SIGNAL_DELIVERY_OUTCOME, outcome.model_copy(update={"delivered": False}))
    # An update after the signals proves they were processed before it.
    await c.act(
        UPDATE_WITHDRAW,
        Withdraw(actor=BACK_OFFICE, request_id=request_id(), reason="household moved away"),
    )
    final = await c.state()
    assert final.history[: len(first.history)] == first.history
    assert [h.reason for h in final.history[len(first.history) :]] == ["household moved away"]


async def test_a_failed_delivery_escalates_and_returns_to_back_office(drive: Drive) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    _, notification_id = await referred(c)
    await c.handle.signal(
        SIGNAL_DELIVERY_OUTCOME,
        DeliveryOutcome(
            request_id=notification_id,
            delivered=False,
            channel="webhook",
            detail="failed after 8 attempts",
            at=datetime.now(UTC),
        ),
    )
    back = await c.at(S.BACK_OFFICE)
    assert back.history[-1].reason == "delivery_failed"
    assert back.snapshot.escalation_count == 1
    escalation = back.notifications[-1]
    assert (escalation["kind"], escalation["destination"], escalation["breached"]) == (
        "escalation",
        "manager:3204",
        True,
    )
    # Back office chooses another channel: the same program is offered again.
    again = await c.act(UPDATE_BACK_OFFICE, refer())
    assert again.step is S.MANAGER_APPROVAL


async def test_not_responsible_returns_to_back_office_with_the_suggested_destination(
    drive: Drive,
) -> None:
    c = await drive(submitted(program="PIP", sub_type="general_school"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    sent = await c.act(UPDATE_MANAGER_DECISION, approve())
    assert sent.referral_destination == "PIP_KEMENDIKBUD"
    referral_id, _ = await referred(c)
    await c.handle.signal(
        SIGNAL_REFERRAL_ANSWER,
        answer(
            referral_id,
            ReferralDecision.NOT_RESPONSIBLE,
            note="madrasah student",
            suggested_destination="PIP_KEMENAG",
        ),
    )
    back = await c.at(S.BACK_OFFICE)
    assert back.history[-1].decision_code == "not_responsible"
    assert back.history[-1].details["suggested_destination"] == "PIP_KEMENAG"
    # The suggestion is the default now: refer without naming it, no override reason needed.
    proposed = await c.act(UPDATE_BACK_OFFICE, refer())
    assert proposed.referral_destination == "PIP_KEMENAG"


async def test_under_review_moves_the_referral_deadline_to_the_expected_date(drive: Drive) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    referral_id, _ = await referred(c)
    expected = date(2027, 1, 20)
    await c.handle.signal(
        SIGNAL_REFERRAL_ANSWER,
        answer(referral_id, ReferralDecision.UNDER_REVIEW, expected_date=expected),
    )
    reviewing = await c.at(S.UNDER_REVIEW)
    assert reviewing.snapshot.step_due == expected
    assert reviewing.clocks["referral"]["due_on"] == expected.isoformat()
    await c.handle.signal(SIGNAL_REFERRAL_ANSWER, answer(referral_id, ReferralDecision.REJECTED))
    feedback = await c.at(S.FEEDBACK)
    assert feedback.history[-1].decision_code == "rejected"
    # An answer about an older referral id is ignored.
    await c.handle.signal(
        SIGNAL_REFERRAL_ANSWER, answer(str(uuid.uuid4()), ReferralDecision.ACCEPTED)
    )
    closed = await c.act(UPDATE_FEEDBACK, told())
    assert closed.outcome is Outcome.REFERRAL_REJECTED


async def test_an_override_of_the_suggested_destination_needs_a_reason(drive: Drive) -> None:
    c = await drive(submitted(program="PKH"))
    await c.answer_registry()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await c.act(UPDATE_BACK_OFFICE, refer("BPNT"))
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "InvalidAction"
    with pytest.raises(WorkflowUpdateFailedError):
        await c.act(UPDATE_BACK_OFFICE, refer("NOT_IN_CATALOG", "because"))
    proposed = await c.act(UPDATE_BACK_OFFICE, refer("BPNT", "the complaint is about rice"))
    assert proposed.referral_destination == "BPNT"
    state = await c.state()
    assert state.history[-1].details["override_reason"] == "the complaint is about rice"


async def test_manager_sends_back_and_back_office_resolves_locally(drive: Drive) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    back = await c.act(
        UPDATE_MANAGER_DECISION,
        ManagerDecision(
            actor=MANAGER,
            request_id=request_id(),
            decision="send_back",
            note="can be handled by the Puskesos",
        ),
    )
    assert back.step is S.BACK_OFFICE
    resolved = await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="resolve",
            answer="Paid on 2 December",
            decision_code="paid_late",
        ),
    )
    assert resolved.step is S.FEEDBACK
    state = await c.state()
    assert state.history[-1].decision_code == "paid_late"
    closed = await c.act(UPDATE_FEEDBACK, told("satisfied"))
    assert closed.outcome is Outcome.RESOLVED_LOCALLY


async def test_a_repeated_request_id_returns_the_first_result_and_writes_nothing(
    drive: Drive,
) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    action = refer()
    first = await c.act(UPDATE_BACK_OFFICE, action)
    entries = len((await c.state()).history)
    again = await c.act(UPDATE_BACK_OFFICE, action)  # a retry by intake: no longer in step
    assert again == first
    assert len((await c.state()).history) == entries


async def test_a_facilitator_capture_is_returned_corrected_and_approved(drive: Drive) -> None:
    c = await drive(
        submitted(channel=Channel.FACILITATOR_VISIT, program=None, category=Category.PROGRAM_NEED)
    )
    review = await c.at(S.SUPERVISOR_REVIEW)
    assert review.snapshot.holder_role is Role.SUPERVISOR
    with pytest.raises(WorkflowUpdateFailedError):
        await c.act(
            UPDATE_SUPERVISOR_REVIEW,
            SupervisorReview(actor=FACILITATOR, request_id=request_id(), decision="approve"),
        )
    returned = await c.act(
        UPDATE_SUPERVISOR_REVIEW,
        SupervisorReview(
            actor=actor(Role.SUPERVISOR),
            request_id=request_id(),
            decision="return_for_correction",
            note="name the program",
        ),
    )
    assert returned.step is S.RETURNED_FOR_CORRECTION
    corrected = await c.act(
        UPDATE_RESUBMIT,
        CorrectedSubmission(
            actor=FACILITATOR,
            request_id=request_id(),
            description="Anak perlu bantuan sekolah",
            category=Category.PROGRAM_NEED,
            program_code="PIP",
            sub_type="madrasah",
        ),
    )
    assert corrected.step is S.SUPERVISOR_REVIEW
    assert corrected.program_code == "PIP"
    approved = await c.act(
        UPDATE_SUPERVISOR_REVIEW,
        SupervisorReview(actor=actor(Role.SUPERVISOR), request_id=request_id(), decision="approve"),
    )
    assert approved.step in (S.REGISTERED, S.REGISTRY_CHECK)
    at_back = await c.answer_registry()
    options = await c.act(UPDATE_BACK_OFFICE, refer())
    assert options.referral_destination == "PIP_KEMENAG"
    roles = [h.actor_role for h in at_back.history[:6]]
    assert roles == ["facilitator", "system", "supervisor", "facilitator", "supervisor", "system"]


async def test_an_information_request_is_answered_at_registration_and_closes(
    drive: Drive,
) -> None:
    c = await drive(submitted(category=Category.INFORMATION, program=None))
    result = await c.handle.result()
    assert result.step is S.CLOSED
    assert result.outcome is Outcome.ANSWERED
    final = await c.state()
    assert [h.to_step for h in final.history] == [S.RECEIVED, S.REGISTERED, S.CLOSED]


async def test_an_information_request_closes_with_the_answer_the_front_office_gave(
    drive: Drive,
) -> None:
    """Since ``proginfo-information-answer``: the entry, its version, topic and the (masked)
    answer are recorded on the closing transition, and published with it."""
    entry = uuid.uuid4()
    complaint = submitted(category=Category.INFORMATION, program=None).model_copy(
        update={
            "information_answer": InformationAnswer(
                entry_id=entry, entry_version=3, topic="PKH", answer="Syarat PKH dijelaskan."
            )
        }
    )
    c = await drive(complaint)
    result = await c.handle.result()
    assert result.outcome is Outcome.ANSWERED
    closing = (await c.state()).history[-1]
    assert (closing.to_step, closing.reason) == (S.CLOSED, "answered_at_registration")
    expected = {
        "entry_id": str(entry),
        "entry_version": 3,
        "topic": "PKH",
        "answer": "Syarat PKH dijelaskan.",
    }
    assert closing.details == expected
    events = await c.published(Topic.COMPLAINT_LIFECYCLE, expect=3)
    closed = [e.parse(ComplaintTransitioned) for e in events if e.data["to_step"] == "closed"]
    assert [e.details for e in closed] == [expected]


async def test_a_registry_answers_hints_reach_the_complaints_registry_summary(
    drive: Drive,
) -> None:
    """The programs the household may qualify for travel with the registry's answer into the
    registry summary back office reads beside the complaint."""
    c = await drive(submitted(category=Category.PROGRAM_NEED, program="PIP_KEMENDIKBUD"))
    await c.at(S.REGISTRY_CHECK)
    request = await c.registry_request()
    hint = MayQualify(
        program_code="BPNT", entry_id=uuid.uuid4(), entry_version=1, to_check=["hamil"]
    )
    answer = registry_answer(c.complaint, request.request_id).model_copy(
        update={"may_qualify_for": [hint]}
    )
    await c.handle.signal(SIGNAL_REGISTRY_RESULT, answer)
    back = await c.at(S.BACK_OFFICE)
    assert back.snapshot.registry is not None
    assert back.snapshot.registry.may_qualify_for == [hint]


async def test_a_person_outside_the_registry_is_put_on_the_pre_list(drive: Drive) -> None:
    c = await drive(submitted(category=Category.MEMBERSHIP))
    back = await c.answer_registry(found=False)
    assert back.snapshot.registry is not None
    assert back.snapshot.registry.prelist_requested
    events = await c.published(Topic.REGISTRY_REQUESTS, expect=2)
    prelist = [
        e.parse(PrelistEntryRequested) for e in events if e.type == PrelistEntryRequested.event_type
    ]
    assert len(prelist) == 1
    assert prelist[0].person == c.complaint.complainant
    proposed = await c.act(UPDATE_BACK_OFFICE, refer())
    assert proposed.referral_destination == "DTKS"


async def test_a_complainant_named_by_reference_travels_by_reference(drive: Drive) -> None:
    """intake now sends ``complainant:<complaint id>`` and the lookup kind, not the identity:
    the registry check and the pre-list request carry the reference, and the household is still
    told (it is not anonymous)."""
    old = submitted(category=Category.MEMBERSHIP)
    assert old.complainant is not None
    by_ref = old.model_copy(
        update={
            "complainant": None,
            "complainant_ref": complainant_reference(old.complaint_id),
            "lookup": LookupKind.NIK,
        }
    )
    c = await drive(by_ref)
    request = await c.registry_request()
    assert (request.lookup, request.complainant_ref) == (LookupKind.NIK, by_ref.complainant_ref)
    assert (request.nik, request.kk_number, request.name, request.place_code) == (None,) * 4
    back = await c.answer_registry(found=False)
    assert back.snapshot.registry is not None
    assert back.snapshot.registry.prelist_requested
    events = await c.published(Topic.REGISTRY_REQUESTS, expect=2)
    assert old.complainant.nik is not None
    assert all(old.complainant.nik not in str(e.data) for e in events)
    assert all(old.complainant.name not in str(e.data) for e in events)
    (prelist,) = [
        e.parse(PrelistEntryRequested) for e in events if e.type == PrelistEntryRequested.event_type
    ]
    assert (prelist.person, prelist.complainant_ref) == (None, by_ref.complainant_ref)
    told = await c.published(Topic.NOTIFICATION_REQUESTS, expect=1)
    assert any(e.data.get("kind") == NotificationKind.HOUSEHOLD_MESSAGE.value for e in told)


async def test_a_repeat_complaint_is_flagged_with_the_earlier_ticket(drive: Drive) -> None:
    household = uuid.uuid4()
    first = await drive(submitted(program="BPNT"))
    await first.answer_registry(household_id=household)
    other_program = await drive(submitted(program="PKH"))
    await other_program.answer_registry(household_id=household)
    second = await drive(submitted(program="BPNT"))
    back = await second.answer_registry(household_id=household)
    assert back.snapshot.repeat_of == [first.complaint.ticket_number]
    assert back.history[-1].details["repeat_of"] == [first.complaint.ticket_number]


async def test_asking_the_household_pauses_the_resolve_clock_until_the_answer_is_back(
    drive: Drive,
) -> None:
    c = await drive(submitted())
    before = await c.answer_registry()
    asked = await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="request_information",
            question="Which month was not paid?",
        ),
    )
    assert asked.step is S.AWAITING_INFORMATION
    assert asked.holder_role is Role.FACILITATOR
    paused = await c.state()
    assert paused.clocks["resolve"]["paused_since"] is not None
    task = paused.notifications[-1]
    assert (task["kind"], task["destination"]) == ("facilitator_task", "facilitator:3204052001")
    back = await c.act(
        UPDATE_INFORMATION_RECEIVED,
        InformationReceived(actor=FACILITATOR, request_id=request_id(), information="September"),
    )
    assert back.step is S.BACK_OFFICE
    assert back.resolve_due == before.snapshot.resolve_due  # same day: no working day lost


async def test_the_households_information_is_recorded_by_a_facilitator_or_the_front_office(
    drive: Drive,
) -> None:
    """The decision pinned in ``test_human_actions.py``, as the running workflow applies it."""
    c = await drive(submitted())
    await c.answer_registry()
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE, request_id=request_id(), kind="request_information", question="?"
        ),
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await c.act(
            UPDATE_INFORMATION_RECEIVED,
            InformationReceived(actor=BACK_OFFICE, request_id=request_id(), information="x"),
        )
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "NotYourRole"
    back = await c.act(
        UPDATE_INFORMATION_RECEIVED,
        InformationReceived(
            actor=actor(Role.FRONT_OFFICE), request_id=request_id(), information="Oktober"
        ),
    )
    assert back.step is S.BACK_OFFICE


async def test_not_satisfied_reopens_once_then_closes(drive: Drive) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="resolve",
            answer="Data corrected",
            decision_code="data_fixed",
        ),
    )
    reopened = await c.act(UPDATE_FEEDBACK, told("not_satisfied"))
    assert reopened.step is S.BACK_OFFICE
    assert reopened.reopened
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="resolve",
            answer="Paid now",
            decision_code="paid",
        ),
    )
    closed = await c.act(UPDATE_FEEDBACK, told("not_satisfied"))
    assert closed.step is S.CLOSED
    assert closed.outcome is Outcome.RESOLVED_LOCALLY
    await c.handle.result()


async def test_a_household_appeal_after_closing_reopens_the_complaint(drive: Drive) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="resolve",
            answer="Data corrected",
            decision_code="data_fixed",
        ),
    )
    closed = await c.act(UPDATE_FEEDBACK, told())
    assert closed.step is S.CLOSED
    reopened = await c.act(
        UPDATE_HOUSEHOLD_RESPONSE,
        HouseholdResponse(
            actor=actor(Role.FRONT_OFFICE),
            request_id=request_id(),
            response="not_satisfied",
            appeal=True,
        ),
    )
    assert reopened.step is S.BACK_OFFICE
    assert reopened.reopened


async def test_mark_duplicate_closes_and_withdraw_ends_any_open_step(drive: Drive) -> None:
    dup = await drive(submitted())
    await dup.answer_registry()
    closed = await dup.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="mark_duplicate",
            duplicate_of="SLRT-00000001",
        ),
    )
    assert (closed.step, closed.outcome) == (S.CLOSED, Outcome.DUPLICATE)
    await dup.handle.result()

    gone = await drive(submitted())
    await gone.at(S.REGISTRY_CHECK)
    with pytest.raises(WorkflowUpdateFailedError):
        await gone.act(
            UPDATE_WITHDRAW, Withdraw(actor=actor(Role.VIEWER), request_id=request_id(), reason="x")
        )
    withdrawn = await gone.act(
        UPDATE_WITHDRAW,
        Withdraw(
            actor=actor(Role.FRONT_OFFICE), request_id=request_id(), reason="resolved elsewhere"
        ),
    )
    assert (withdrawn.step, withdrawn.outcome) == (S.WITHDRAWN, Outcome.WITHDRAWN)
    result = await gone.handle.result()
    assert result.step is S.WITHDRAWN


async def test_an_anonymous_report_skips_the_registry(drive: Drive) -> None:
    c = await drive(submitted(anonymous=True))
    back = await c.at(S.BACK_OFFICE)
    assert back.snapshot.registry is None
    assert back.history[-1].reason == "anonymous"


async def test_every_notification_carries_the_complaint_and_no_personal_data(
    drive: Drive,
) -> None:
    c = await drive(submitted())
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    notifications: list[NotificationRequested] = await c.notifications(expect=1)
    assert c.complaint.complainant is not None
    for n in notifications:
        assert n.complaint_id == c.complaint.complaint_id
        assert c.complaint.complainant.name not in str(n.model_dump())
