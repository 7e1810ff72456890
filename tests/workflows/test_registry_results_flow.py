"""Registry results back to the complaint (issue 15, items 1 and 2), driven on the real Temporal
servers with the real activities (Kafka, the routing schema): waiting on registration, a
pre-list entry's result, a correction's results, a revisit, a closed complaint's run held open
for its results (and let go when the wait is over)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Literal

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    SIGNAL_REGISTRY_PROPOSAL,
    UPDATE_BACK_OFFICE,
    UPDATE_FEEDBACK,
    UPDATE_PROPOSE_CORRECTION,
    BackOfficeAction,
    ComplaintStep,
    FacilitatorFeedback,
    Outcome,
    ProposeRegistryCorrection,
    RegistryProposalNews,
)
from slrt.contracts.corrections import AddressChange, FieldChange
from slrt.contracts.events import ComplaintSubmitted, RegistryCorrectionRequested
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import Category, NotificationKind
from tests.support.complaints import Driven, actor, request_id, submitted

S = ComplaintStep
Drive = Callable[[ComplaintSubmitted], Awaitable[Driven]]
Status = Literal["proposed", "approved", "returned", "exported", "accepted", "rejected", "revisit"]

BACK_OFFICE = actor(Role.BACK_OFFICE)
FACILITATOR = actor(Role.FACILITATOR)


def news(
    proposal: uuid.UUID,
    status: Status,
    *,
    kind: Literal["prelist", "change"] = "prelist",
    reason: str | None = None,
) -> RegistryProposalNews:
    return RegistryProposalNews(
        proposal_id=proposal,
        kind=kind,
        status=status,
        reason=reason,
        batch_id=uuid.uuid4() if status != "proposed" else None,
        at=datetime.now(UTC),
    )


def await_registration() -> BackOfficeAction:
    return BackOfficeAction(actor=BACK_OFFICE, request_id=request_id(), kind="await_registration")


def told(response: Literal["satisfied", "not_satisfied"] | None = None) -> FacilitatorFeedback:
    return FacilitatorFeedback(
        actor=FACILITATOR,
        request_id=request_id(),
        household_told=True,
        visited_on=date.today(),
        household_response=response,
    )


async def household_messages(c: Driven, expect: int) -> list[tuple[str, dict[str, object]]]:
    heard = [
        n
        for n in await c.notifications(expect=expect)
        if n.kind is NotificationKind.HOUSEHOLD_MESSAGE
    ]
    return [(n.template, n.params) for n in heard]


async def test_a_pre_listed_complainant_waits_on_registration_and_the_acceptance_decides(
    drive: Drive,
) -> None:
    c = await drive(submitted(category=Category.MEMBERSHIP, program=None))
    await c.answer_registry(found=False)
    entry = uuid.uuid4()
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, news(entry, "proposed"))
    await c.until(lambda s: s.history[-1].reason == "registry_proposal_updated")

    waiting = await c.act(UPDATE_BACK_OFFICE, await_registration())
    assert waiting.step is S.AWAITING_REGISTRATION
    assert waiting.holder_role is None
    state = await c.state()
    assert state.clocks["resolve"]["paused_since"] is not None  # SIKS-NG's weeks are not ours
    assert "step" not in state.clocks

    exported = news(entry, "exported")
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, exported)
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, exported)  # redelivered: recorded once
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, news(entry, "accepted"))
    at_feedback = await c.at(S.FEEDBACK)
    assert at_feedback.history[-1].decision_code == Outcome.REGISTRY_ACCEPTED
    assert at_feedback.history[-1].details["proposal_id"] == str(entry)
    closed = await c.act(UPDATE_FEEDBACK, told("satisfied"))
    assert closed.outcome is Outcome.REGISTRY_ACCEPTED
    await c.handle.result()

    path = [(h.from_step, h.to_step, h.reason) for h in (await c.state()).history][3:]
    assert path == [
        (S.REGISTRY_CHECK, S.BACK_OFFICE, "registry_checked"),
        (S.BACK_OFFICE, S.BACK_OFFICE, "registry_proposal_updated"),
        (S.BACK_OFFICE, S.AWAITING_REGISTRATION, "registration_awaited"),
        (S.AWAITING_REGISTRATION, S.AWAITING_REGISTRATION, "registry_proposal_updated"),
        (S.AWAITING_REGISTRATION, S.FEEDBACK, "registry_accepted"),
        (S.FEEDBACK, S.CLOSED, "household_told"),
    ]
    heard = await household_messages(c, expect=3)
    assert heard[-1] == (
        "household_outcome",
        {
            "ticket": c.complaint.ticket_number,
            "place_code": c.complaint.village_code,
            "outcome": "registry_accepted",
            "decided_by": "siks_ng",
            "reopenable": True,
        },
    )


async def test_waiting_on_registration_needs_an_undecided_proposal(drive: Drive) -> None:
    c = await drive(submitted())
    await c.answer_registry(found=True)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await c.act(UPDATE_BACK_OFFICE, await_registration())
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "InvalidAction"
    assert cause.details == ({"fields": ["kind"]},)
    assert "no_registry_proposal" in str(cause)
    assert (await c.state()).snapshot.step is S.BACK_OFFICE


async def test_a_correction_goes_to_the_registry_and_its_results_decide_the_complaint(
    drive: Drive,
) -> None:
    c = await drive(submitted())
    at_back_office = await c.answer_registry(found=True)
    registry = at_back_office.snapshot.registry
    assert registry is not None
    assert registry.household_id is not None
    person = uuid.uuid4()
    correction = ProposeRegistryCorrection(
        actor=BACK_OFFICE,
        request_id=request_id(),
        evidence="KK dilihat saat kunjungan",
        changes=[
            FieldChange(individual_id=person, field="birth_date", new_value="1985-07-01"),
            AddressChange(household_id=registry.household_id, address="Dusun Cibodas RT 02/05"),
        ],
    )
    waiting = await c.act(UPDATE_PROPOSE_CORRECTION, correction)
    assert waiting.step is S.AWAITING_REGISTRATION
    state = await c.state()
    assert state.history[-1].details["changes"] == ["field", "address"]
    assert "Cibodas" not in str(state.history[-1].details)  # values stay off the timeline

    requested = [
        e.parse(RegistryCorrectionRequested)
        for e in await c.published(Topic.REGISTRY_REQUESTS, expect=2)
        if e.type == RegistryCorrectionRequested.event_type
    ]
    assert len(requested) == 1
    assert requested[0].complaint_id == c.complaint.complaint_id
    assert requested[0].changes == correction.changes
    assert requested[0].requested_by == BACK_OFFICE.user_id

    first, second = uuid.uuid4(), uuid.uuid4()
    for proposal in (first, second):
        await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, news(proposal, "proposed", kind="change"))
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, news(first, "accepted", kind="change"))
    still = await c.until(lambda s: s.history[-1].reason == "registry_verified")
    assert still.snapshot.step is S.AWAITING_REGISTRATION  # one of two decided: it waits on
    await c.handle.signal(
        SIGNAL_REGISTRY_PROPOSAL,
        news(second, "rejected", kind="change", reason="alamat tidak ditemukan"),
    )
    decided = await c.at(S.FEEDBACK)
    assert decided.history[-1].decision_code == Outcome.REGISTRY_REJECTED

    heard = await household_messages(c, expect=4)
    templates = [template for template, _ in heard]
    assert templates == ["household_registered", "household_registry_result", "household_outcome"]
    assert heard[1][1]["result"] == "accepted"
    assert heard[1][1]["kind"] == "change"
    assert heard[2][1]["outcome"] == "registry_rejected"
    assert heard[2][1]["note"] == "alamat tidak ditemukan"


async def test_a_revisit_sends_the_complaint_back_to_back_office(drive: Drive) -> None:
    c = await drive(submitted(category=Category.MEMBERSHIP, program=None))
    await c.answer_registry(found=False)
    entry = uuid.uuid4()
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, news(entry, "proposed"))
    await c.act(UPDATE_BACK_OFFICE, await_registration())
    await c.handle.signal(
        SIGNAL_REGISTRY_PROPOSAL, news(entry, "revisit", reason="rumah tidak ditemukan")
    )
    back = await c.at(S.BACK_OFFICE)
    assert back.history[-1].reason == "registry_revisit"
    assert back.snapshot.holder_role is Role.BACK_OFFICE
    assert back.clocks["resolve"]["paused_since"] is None  # resumed
    # Still undecided: back office may wait again once the entry is corrected.
    again = await c.act(UPDATE_BACK_OFFICE, await_registration())
    assert again.step is S.AWAITING_REGISTRATION


async def test_a_closed_complaint_waits_for_its_result_and_records_it(drive: Drive) -> None:
    c = await drive(submitted(category=Category.MEMBERSHIP, program=None))
    await c.answer_registry(found=False)
    entry = uuid.uuid4()
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, news(entry, "proposed"))
    await c.until(lambda s: s.history[-1].reason == "registry_proposal_updated")
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="resolve",
            answer="Diusulkan masuk daftar awal",
            decision_code="prelisted",
        ),
    )
    closed = await c.act(UPDATE_FEEDBACK, told("satisfied"))
    assert closed.step is S.CLOSED
    # Satisfied: nothing left to reopen, yet the run stays for the pre-list entry's result.
    assert (await c.handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, news(entry, "accepted"))
    await c.handle.result()
    final = await c.state()
    assert [(h.from_step, h.to_step, h.reason) for h in final.history][-1] == (
        S.CLOSED,
        S.CLOSED,
        "registry_verified",
    )
    heard = await household_messages(c, expect=4)
    assert heard[-1][0] == "household_registry_result"
    assert heard[-1][1]["result"] == "accepted"


async def test_a_closed_complaint_stops_waiting_when_the_wait_is_over(
    drive_skipping: Drive,
) -> None:
    c = await drive_skipping(submitted(category=Category.MEMBERSHIP, program=None))
    await c.answer_registry(found=False)
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, news(uuid.uuid4(), "proposed"))
    await c.until(lambda s: s.history[-1].reason == "registry_proposal_updated")
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="resolve",
            answer="Diusulkan masuk daftar awal",
            decision_code="prelisted",
        ),
    )
    await c.act(UPDATE_FEEDBACK, told())
    # The time-skipping server runs the clock forward: the reopen window ends (the household
    # hears the final message), then the result wait; the run ends without a result.
    result = await c.handle.result()
    assert result.step is S.CLOSED
    final = await c.state()
    assert final.history[-1].reason == "household_told"
    sent = [n["template"] for n in final.notifications]
    assert sent.count("household_final") == 1


async def test_a_returned_correction_sends_the_complaint_back_to_back_office(
    drive: Drive,
) -> None:
    c = await drive(submitted())
    await c.answer_registry(found=True)
    correction = ProposeRegistryCorrection(
        actor=BACK_OFFICE,
        request_id=request_id(),
        evidence="KTP dilihat",
        changes=[FieldChange(individual_id=uuid.uuid4(), field="sex", new_value="female")],
    )
    assert (await c.act(UPDATE_PROPOSE_CORRECTION, correction)).step is S.AWAITING_REGISTRATION
    # The registry does not hold that person: the proposal is returned at once.
    returned = news(uuid.uuid4(), "returned", kind="change", reason="unknown_individual")
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, returned)
    back = await c.at(S.BACK_OFFICE)
    assert back.history[-1].reason == "registry_correction_returned"
    assert back.history[-1].details["reason"] == "unknown_individual"
    # Settled: nothing is left to wait for.
    with pytest.raises(WorkflowUpdateFailedError):
        await c.act(UPDATE_BACK_OFFICE, await_registration())
