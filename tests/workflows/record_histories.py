"""Record real histories of every demo path into ``histories/`` (a tool, not a test).

Run it on purpose, before changing the workflow, with the code the histories must pin down:

    .venv/bin/pytest tests/workflows/record_histories.py -q

Pytest collects a file named on the command line whatever its name; a plain ``pytest`` run
never picks this one up (it does not match ``test_*.py``). Each case drives one path of
``demo/paths.py`` (and the branches the demo does not play: reopening, awaiting information,
send-back, failed delivery, clocks) on the real dev server or on the time-skipping server, and
writes ``(await handle.fetch_history()).to_json()``. ``test_replay.py`` replays every file.
Workflows on the dev server are started with the search attributes routing gives them, so the
step/overdue indexing is recorded too.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from services.routing.activities import complaint_policy
from services.routing.settings import RoutingSettings
from slrt.auth.principal import Role
from slrt.contracts.complainants import complainant_reference
from slrt.contracts.complaints import (
    SIGNAL_DELIVERY_OUTCOME,
    SIGNAL_REFERRAL_ANSWER,
    SIGNAL_REGISTRY_PROPOSAL,
    SIGNAL_REGISTRY_RESULT,
    UPDATE_BACK_OFFICE,
    UPDATE_FEEDBACK,
    UPDATE_HOUSEHOLD_RESPONSE,
    UPDATE_INFORMATION_RECEIVED,
    UPDATE_MANAGER_DECISION,
    UPDATE_PROPOSE_CORRECTION,
    UPDATE_RESUBMIT,
    UPDATE_SUPERVISOR_REVIEW,
    UPDATE_WITHDRAW,
    BackOfficeAction,
    ComplaintSnapshot,
    ComplaintStep,
    CorrectedSubmission,
    DeliveryOutcome,
    FacilitatorFeedback,
    HouseholdResponse,
    InformationAnswer,
    InformationReceived,
    ManagerDecision,
    MayQualify,
    ProposeRegistryCorrection,
    ReferralAnswer,
    RegistryProposalNews,
    SupervisorReview,
    Withdraw,
)
from slrt.contracts.corrections import AddressChange
from slrt.contracts.events import ComplaintSubmitted
from slrt.contracts.sla import SlaPolicy
from slrt.contracts.temporal import (
    CATEGORY_KEY,
    COMPLAINT_WORKFLOW,
    PLACE_CODE_KEY,
    TICKET_KEY,
    complaint_workflow_id,
)
from slrt.contracts.vocabulary import Category, Channel, LookupKind, ReferralDecision
from tests.support.complaints import Driven, actor, registry_answer, request_id, submitted
from workflows.model import MEMO_SLA_POLICY

S = ComplaintStep
HISTORIES = Path(__file__).parent / "histories"
BACK_OFFICE = actor(Role.BACK_OFFICE)
MANAGER = actor(Role.MANAGER)
FACILITATOR = actor(Role.FACILITATOR)
SUPERVISOR = actor(Role.SUPERVISOR)


def _indexed(complaint: ComplaintSubmitted) -> TypedSearchAttributes:
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(TICKET_KEY, complaint.ticket_number),
        SearchAttributePair(PLACE_CODE_KEY, complaint.village_code),
        SearchAttributePair(CATEGORY_KEY, complaint.category),
    ]
    return TypedSearchAttributes(pairs)


async def start(
    client: Client,
    queue: str,
    bootstrap: str,
    complaint: ComplaintSubmitted,
    *,
    index: bool = True,
    policy: SlaPolicy | None = None,
) -> Driven:
    """Start a complaint's workflow; with ``policy``, as routing's consumer does since
    ``perf-path-policy-at-start`` (the terms in the start's memo, eager start)."""
    driven = Driven(client, queue, bootstrap, complaint)
    driven.handle = await client.start_workflow(
        COMPLAINT_WORKFLOW,
        complaint,
        memo=None if policy is None else {MEMO_SLA_POLICY: policy},
        id=complaint_workflow_id(driven.subject),
        task_queue=queue,
        result_type=ComplaintSnapshot,
        search_attributes=_indexed(complaint) if index else None,
        request_eager_start=policy is not None,
    )
    return driven


Start = Callable[[ComplaintSubmitted], Awaitable[Driven]]


@pytest.fixture
def dev(temporal_client: Client, dev_queue: str, kafka_bootstrap: str) -> Start:
    async def go(complaint: ComplaintSubmitted) -> Driven:
        return await start(temporal_client, dev_queue, kafka_bootstrap, complaint)

    return go


@pytest.fixture
def skipping(
    time_skipping_env: WorkflowEnvironment, skipping_queue: str, kafka_bootstrap: str
) -> Start:
    async def go(complaint: ComplaintSubmitted) -> Driven:
        # The time-skipping server has no custom search attributes registered.
        client = time_skipping_env.client
        return await start(client, skipping_queue, kafka_bootstrap, complaint, index=False)

    return go


async def save(c: Driven, name: str) -> None:
    history = await c.handle.fetch_history()
    (HISTORIES / f"{name}.json").write_text(history.to_json())


def resolve(code: str = "paid_late") -> BackOfficeAction:
    return BackOfficeAction(
        actor=BACK_OFFICE,
        request_id=request_id(),
        kind="resolve",
        answer="Penyaluran susulan dijadwalkan",
        decision_code=code,
    )


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


def told(response: str | None = "satisfied", *, reached: bool = True) -> FacilitatorFeedback:
    return FacilitatorFeedback(
        actor=FACILITATOR,
        request_id=request_id(),
        household_told=reached,
        visited_on=date(2026, 12, 1),
        household_response=response if reached else None,
    )


async def referred(c: Driven) -> tuple[str, uuid.UUID]:
    current = await c.state()
    entry = next(h for h in reversed(current.history) if h.reason == "referral_approved")
    sent = next(n for n in reversed(current.notifications) if n["kind"] == "referral")
    return entry.details["referral_id"], uuid.UUID(sent["request_id"])


async def answer(c: Driven, decision: ReferralDecision, **more: object) -> None:
    referral_id, _ = await referred(c)
    await c.handle.signal(
        SIGNAL_REFERRAL_ANSWER,
        ReferralAnswer(
            answer_id=uuid.uuid4().hex,
            referral_id=uuid.UUID(referral_id),
            decision=decision,
            at=datetime.now(UTC),
            **more,
        ),
    )


async def delivered(c: Driven, ok: bool = True) -> None:
    _, notification_id = await referred(c)
    await c.handle.signal(
        SIGNAL_DELIVERY_OUTCOME,
        DeliveryOutcome(
            request_id=notification_id,
            delivered=ok,
            channel="webhook",
            detail=None if ok else "failed after 8 attempts",
            at=datetime.now(UTC),
        ),
    )


async def test_back_office_resolved_locally(dev: Start) -> None:
    c = await dev(submitted(program="BPNT"))
    await c.answer_registry()
    action = resolve("kks_replaced")
    await c.act(UPDATE_BACK_OFFICE, action)
    await c.act(UPDATE_BACK_OFFICE, action)  # a retry with the same request id
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "back_office_resolved_locally")


async def test_referral_rejected(dev: Start) -> None:
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.REJECTED, note="Tidak memenuhi syarat")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "referral_rejected")


async def test_under_review_then_accepted(dev: Start) -> None:
    c = await dev(submitted(program="BPNT"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.UNDER_REVIEW, expected_date=date(2027, 1, 20))
    await c.at(S.UNDER_REVIEW)
    await answer(c, ReferralDecision.UNDER_REVIEW, note="Masih diperiksa Bulog")
    await c.until(lambda s: s.history[-1].reason == "under_review" and len(s.history) >= 9)
    await answer(c, ReferralDecision.ACCEPTED, note="Beras diganti")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "under_review_then_accepted")


async def test_not_responsible_then_rerouted(dev: Start) -> None:
    c = await dev(submitted(program="PBI_JK"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer("BPNT", "Keluhan tercatat pada penyaluran BPNT"))
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(
        c,
        ReferralDecision.NOT_RESPONSIBLE,
        note="Bukan kewenangan BPNT",
        suggested_destination="PBI_JK",
    )
    await c.at(S.BACK_OFFICE)
    await c.until(lambda s: s.history[-1].reason == "not_responsible")
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await answer(c, ReferralDecision.ACCEPTED, note="Status PBI dipulihkan")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "not_responsible_then_rerouted")


async def test_withdrawn_at_back_office(dev: Start) -> None:
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(
        UPDATE_WITHDRAW,
        Withdraw(actor=BACK_OFFICE, request_id=request_id(), reason="Bantuan sudah diterima"),
    )
    await c.handle.result()
    await save(c, "withdrawn_at_back_office")


async def test_returned_for_correction(dev: Start) -> None:
    c = await dev(submitted(channel=Channel.FACILITATOR_VISIT, program=None))
    await c.at(S.SUPERVISOR_REVIEW)
    await c.act(
        UPDATE_SUPERVISOR_REVIEW,
        SupervisorReview(
            actor=SUPERVISOR,
            request_id=request_id(),
            decision="return_for_correction",
            note="Sebutkan programnya",
        ),
    )
    await c.act(
        UPDATE_RESUBMIT,
        CorrectedSubmission(
            actor=FACILITATOR,
            request_id=request_id(),
            description="Bantuan BPNT bulan Oktober belum diterima.",
            category=Category.IMPLEMENTATION,
            program_code="BPNT",
        ),
    )
    await c.act(
        UPDATE_SUPERVISOR_REVIEW,
        SupervisorReview(actor=SUPERVISOR, request_id=request_id(), decision="approve"),
    )
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, resolve("distribution_rescheduled"))
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "returned_for_correction")


async def test_prelist(dev: Start) -> None:
    c = await dev(submitted(category=Category.MEMBERSHIP, program=None))
    await c.answer_registry(found=False)
    await c.act(UPDATE_BACK_OFFICE, resolve("prelisted"))
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "prelist_resolved_locally")


async def test_pii2_prelist_by_reference(dev: Start) -> None:
    """The complainant named by reference (``complainant:<complaint id>``), as intake now
    submits: the registry check and the pre-list request carry the reference."""
    old = submitted(category=Category.MEMBERSHIP, program=None)
    complaint = old.model_copy(
        update={
            "complainant": None,
            "complainant_ref": complainant_reference(old.complaint_id),
            "lookup": LookupKind.NIK,
        }
    )
    c = await dev(complaint)
    await c.answer_registry(found=False)
    await c.act(UPDATE_BACK_OFFICE, resolve("prelisted"))
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "pii2_prelist_by_reference")


async def test_anonymous_referral_accepted(dev: Start) -> None:
    c = await dev(submitted(channel=Channel.DISTRICT_WALK_IN, program="BPNT", anonymous=True))
    await c.at(S.BACK_OFFICE)
    await c.refer()
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.ACCEPTED, note="Oknum ditindak")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told(None))  # closed; the reopen window stays open
    await save(c, "anonymous_referral_accepted")


async def test_reopened_by_feedback_then_by_the_household(dev: Start) -> None:
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, resolve())
    await c.act(UPDATE_FEEDBACK, told(reached=False))  # household not reached
    await c.act(UPDATE_FEEDBACK, told("not_satisfied"))  # reopened (once)
    await c.act(UPDATE_BACK_OFFICE, resolve("paid_in_full"))
    await c.act(UPDATE_FEEDBACK, told(None))  # not reopenable a second time: it ends
    await c.handle.result()
    await save(c, "reopened_then_closed")


async def test_reopened_by_the_household_after_closing(dev: Start) -> None:
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, resolve())
    await c.act(UPDATE_FEEDBACK, told(None))
    await c.act(
        UPDATE_HOUSEHOLD_RESPONSE,
        HouseholdResponse(
            actor=actor(Role.FRONT_OFFICE),
            request_id=request_id(),
            response="not_satisfied",
            appeal=True,
        ),
    )
    await c.at(S.BACK_OFFICE)
    await c.act(UPDATE_BACK_OFFICE, resolve("paid_in_full"))
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "household_reopened_after_closing")


async def test_information_asked_then_duplicate(dev: Start) -> None:
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="request_information",
            question="Bulan apa yang belum dibayar?",
        ),
    )
    await c.act(
        UPDATE_INFORMATION_RECEIVED,
        InformationReceived(actor=FACILITATOR, request_id=request_id(), information="September"),
    )
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="mark_duplicate",
            duplicate_of="SLRT-00000001",
        ),
    )
    await save(c, "information_asked_then_duplicate")


async def test_sent_back_then_delivery_failed(dev: Start) -> None:
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(
        UPDATE_MANAGER_DECISION,
        ManagerDecision(
            actor=MANAGER, request_id=request_id(), decision="send_back", note="Cek dulu"
        ),
    )
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c, ok=False)
    await c.until(lambda s: s.history[-1].reason == "delivery_failed")
    await c.act(
        UPDATE_WITHDRAW,
        Withdraw(actor=actor(Role.MANAGER), request_id=request_id(), reason="pindah domisili"),
    )
    await c.handle.result()
    await save(c, "sent_back_then_delivery_failed")


async def test_no_response_expires_then_resolved_locally(
    skipping: Start, time_skipping_env: WorkflowEnvironment
) -> None:
    c = await skipping(submitted(program="BPNT"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await time_skipping_env.sleep(timedelta(days=40))
    await c.until(lambda s: any(h.reason == "no_response" for h in s.history))
    await c.act(UPDATE_BACK_OFFICE, resolve("followed_up_after_no_response"))
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "no_response_then_resolved_locally")


async def test_stuck_back_office_escalates(
    skipping: Start, time_skipping_env: WorkflowEnvironment
) -> None:
    c = await skipping(submitted(program="PKH"))
    await c.answer_registry()
    await time_skipping_env.sleep(timedelta(days=45))
    await c.until(lambda s: sum(h.reason == "step_breached" for h in s.history) == 3)
    await c.act(UPDATE_BACK_OFFICE, resolve())
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "stuck_back_office_escalated")


async def test_registry_no_answer_then_late_answer_and_window_ends(
    skipping: Start, time_skipping_env: WorkflowEnvironment
) -> None:
    c = await skipping(submitted(program="PKH"))
    await c.at(S.REGISTRY_CHECK)
    request = await c.registry_request()
    await time_skipping_env.sleep(timedelta(days=5))
    await c.until(lambda s: any(h.reason == "registry_no_answer" for h in s.history))
    await c.handle.signal(SIGNAL_REGISTRY_RESULT, registry_answer(c.complaint, request.request_id))
    await c.until(lambda s: any(h.reason == "registry_attached" for h in s.history))
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="request_information",
            question="Bulan apa?",
        ),
    )
    await time_skipping_env.sleep(timedelta(days=3))
    await c.act(
        UPDATE_INFORMATION_RECEIVED,
        InformationReceived(actor=FACILITATOR, request_id=request_id(), information="Oktober"),
    )
    await c.act(UPDATE_BACK_OFFICE, resolve())
    await c.act(UPDATE_FEEDBACK, told(None))
    await time_skipping_env.sleep(timedelta(days=15))
    await c.handle.result()
    await save(c, "registry_late_then_reopen_window_over")


SOLE_MANAGER = "user-sole-manager"
"""One person with the back office's and the manager's hats (separation of duties)."""


async def test_approval_note_after_a_separation_of_duties_refusal(dev: Start) -> None:
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=actor(Role.BACK_OFFICE, SOLE_MANAGER), request_id=request_id(), kind="refer"
        ),
    )
    with pytest.raises(WorkflowUpdateFailedError):  # the proposer may not approve: no trace
        await c.act(
            UPDATE_MANAGER_DECISION,
            ManagerDecision(
                actor=actor(Role.MANAGER, SOLE_MANAGER), request_id=request_id(), decision="approve"
            ),
        )
    await c.act(
        UPDATE_MANAGER_DECISION,
        ManagerDecision(
            actor=MANAGER,
            request_id=request_id(),
            decision="approve",
            note="Disetujui; mohon diprioritaskan",
        ),
    )
    await delivered(c)
    await answer(c, ReferralDecision.ACCEPTED, note="Dibayarkan bulan depan")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "approval_note_after_separation_refusal")


class TestSeparationOfDutiesOff:
    @pytest.fixture
    def routing_settings(self) -> RoutingSettings:
        return RoutingSettings(separation_of_duties=False)

    async def test_the_proposer_approves(self, dev: Start) -> None:
        c = await dev(submitted(program="PKH"))
        await c.answer_registry()
        await c.act(
            UPDATE_BACK_OFFICE,
            BackOfficeAction(
                actor=actor(Role.BACK_OFFICE, SOLE_MANAGER), request_id=request_id(), kind="refer"
            ),
        )
        await c.act(
            UPDATE_MANAGER_DECISION,
            ManagerDecision(
                actor=actor(Role.MANAGER, SOLE_MANAGER),
                request_id=request_id(),
                decision="approve",
                note="Satu-satunya manajer kabupaten",
            ),
        )
        await delivered(c)
        await answer(c, ReferralDecision.REJECTED, note="Tidak memenuhi syarat")
        await c.at(S.FEEDBACK)
        await c.act(UPDATE_FEEDBACK, told())
        await c.handle.result()
        await save(c, "separation_of_duties_off_same_person_approves")


async def test_household_messages_asked_reopened_and_told_again(dev: Start) -> None:
    """Since PATCH_HOUSEHOLD_MESSAGES: registered, information needed, outcome, reopened,
    outcome again (not reopenable a second time: it ends)."""
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(
        UPDATE_BACK_OFFICE,
        BackOfficeAction(
            actor=BACK_OFFICE,
            request_id=request_id(),
            kind="request_information",
            question="Bulan apa yang belum dibayar?",
        ),
    )
    await c.act(
        UPDATE_INFORMATION_RECEIVED,
        InformationReceived(actor=FACILITATOR, request_id=request_id(), information="Oktober"),
    )
    await c.act(UPDATE_BACK_OFFICE, resolve())
    await c.act(UPDATE_FEEDBACK, told("not_satisfied"))
    await c.act(UPDATE_BACK_OFFICE, resolve("paid_in_full"))
    await c.act(UPDATE_FEEDBACK, told(None))
    await c.handle.result()
    await save(c, "household_messages_reopened")


async def test_household_messages_until_the_reopen_window_closes(
    skipping: Start, time_skipping_env: WorkflowEnvironment
) -> None:
    """Since PATCH_HOUSEHOLD_MESSAGES: registered, outcome, and the final word when the reopen
    window closes with the complaint still closed."""
    c = await skipping(submitted(program="BPNT"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, resolve())
    await c.act(UPDATE_FEEDBACK, told(None))
    await time_skipping_env.sleep(timedelta(days=15))
    await c.handle.result()
    await save(c, "household_messages_window_over")


async def test_pii_encrypted_referral_rejected(dev: Start) -> None:
    """Recorded with the payload codec on (the sandbox's key ring, ``sandbox-2``): every
    payload in the file is ciphertext, so ``test_replay.py`` proves a replayer with the
    services' converter decodes encrypted histories (the other files are plain: recorded
    before encryption)."""
    c = await dev(submitted(program="PKH"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.REJECTED, note="Tidak memenuhi syarat")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "pii_encrypted_referral_rejected")


# --- Registry results (lane registry-results, PATCH_REGISTRY_RESULTS) ----------------------


def _news(
    proposal: uuid.UUID, status: Any, kind: Any = "prelist", reason: str | None = None
) -> Any:
    return RegistryProposalNews(
        proposal_id=proposal,
        kind=kind,
        status=status,
        reason=reason,
        batch_id=None if status == "proposed" else uuid.UUID(int=proposal.int ^ 1),
        at=datetime.now(UTC),
    )


async def test_regres_prelist_awaiting_registration_accepted(dev: Start) -> None:
    c = await dev(submitted(category=Category.MEMBERSHIP, program=None))
    await c.answer_registry(found=False)
    entry = uuid.uuid4()
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, _news(entry, "proposed"))
    await c.until(lambda s: s.history[-1].reason == "registry_proposal_updated")
    wait = BackOfficeAction(actor=BACK_OFFICE, request_id=request_id(), kind="await_registration")
    await c.act(UPDATE_BACK_OFFICE, wait)
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, _news(entry, "exported"))
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, _news(entry, "accepted"))
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "regres_prelist_awaiting_registration_accepted")


async def test_regres_correction_closed_run_held_for_the_result(dev: Start) -> None:
    c = await dev(submitted(program="PKH"))
    checked = await c.answer_registry(found=True)
    household = checked.snapshot.registry.household_id if checked.snapshot.registry else None
    assert household is not None
    correction = ProposeRegistryCorrection(
        actor=BACK_OFFICE,
        request_id=request_id(),
        evidence="alamat baru dilihat saat kunjungan",
        await_result=False,
        changes=[AddressChange(household_id=household, address="Dusun Cibodas RT 02/05")],
    )
    await c.act(UPDATE_PROPOSE_CORRECTION, correction)
    proposal = uuid.uuid4()
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, _news(proposal, "proposed", "change"))
    await c.until(lambda s: s.history[-1].reason == "registry_proposal_updated")
    await c.act(UPDATE_BACK_OFFICE, resolve("paid_late"))
    await c.act(UPDATE_FEEDBACK, told())
    await c.until(lambda s: s.snapshot.step is S.CLOSED)
    await c.handle.signal(
        SIGNAL_REGISTRY_PROPOSAL, _news(proposal, "rejected", "change", "alamat tidak sah")
    )
    await c.handle.result()
    await save(c, "regres_correction_closed_run_held_for_the_result")


async def test_regres_awaiting_registration_result_overdue(
    skipping: Start, time_skipping_env: WorkflowEnvironment
) -> None:
    c = await skipping(submitted(category=Category.MEMBERSHIP, program=None))
    await c.answer_registry(found=False)
    await c.handle.signal(SIGNAL_REGISTRY_PROPOSAL, _news(uuid.uuid4(), "proposed"))
    await c.until(lambda s: s.history[-1].reason == "registry_proposal_updated")
    wait = BackOfficeAction(actor=BACK_OFFICE, request_id=request_id(), kind="await_registration")
    await c.act(UPDATE_BACK_OFFICE, wait)
    await time_skipping_env.sleep(timedelta(days=200))
    await c.until(lambda s: s.history[-1].reason == "registry_result_overdue")
    await c.act(UPDATE_BACK_OFFICE, resolve("prelisted"))
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "regres_awaiting_registration_result_overdue")


async def test_perf_batched_effects_referral_accepted(dev: Start) -> None:
    """Since ``perf-batch-effects``: effects queued together go out in one ``publish_effects``
    activity (registration, the household's message and the registry check; the referral's
    transition with its request)."""
    c = await dev(submitted(program="BPNT"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.ACCEPTED, note="Beras diganti")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "perf_batched_effects_referral_accepted")


async def test_perf_local_reads_referral_accepted(dev: Start) -> None:
    """Since ``perf-local-reads``: the routing options are read by a local activity (a marker in
    the history, no activity task)."""
    c = await dev(submitted(program="BPNT"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.ACCEPTED, note="Beras diganti")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "perf_local_reads_referral_accepted")


def _approved_while_publishing(history: WorkflowHistory) -> bool:
    """Whether the manager's approval was taken while the refer's transition was still being
    published (its activity completed after the approval was accepted)."""
    events = history.events
    accepted = next(
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
        and e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        == UPDATE_MANAGER_DECISION
    )
    scheduled = [
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED and e.event_id < accepted
    ]
    return any(
        e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        and e.activity_task_completed_event_attributes.scheduled_event_id == scheduled[-1]
        and e.event_id > accepted
        for e in events
    )


async def test_perf_path_late_effects_referral_accepted(dev: Start) -> None:
    """Since ``perf-path-batch-late-effects``: the manager approves at once, while the refer's
    transition is still being published; the ``referred`` transition and the referral request
    queued meanwhile go out in one ``publish_effects``. (Recorded until the approval does land
    during that activity: a few tries at most.)"""
    for _ in range(20):
        c = await dev(submitted(program="BPNT"))
        await c.answer_registry()
        await c.act(UPDATE_BACK_OFFICE, refer())
        await c.act(UPDATE_MANAGER_DECISION, approve())
        if _approved_while_publishing(await c.handle.fetch_history()):
            break
        await c.handle.terminate(reason="approval not during the publish: recorded again")
    else:
        raise AssertionError("the approval never landed while the transition was published")
    await delivered(c)
    await answer(c, ReferralDecision.ACCEPTED, note="Beras diganti")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "perf_path_late_effects_referral_accepted")


async def test_proginfo_information_answered_from_an_entry(dev: Start) -> None:
    """Since ``proginfo-information-answer``: an information request submitted with the
    front office's answer closes at registration with the entry, version, topic and (masked)
    answer in the closing transition's details."""
    complaint = submitted(category=Category.INFORMATION, program=None).model_copy(
        update={
            "information_answer": InformationAnswer(
                entry_id=uuid.UUID("6f1d2c4e-3b5a-4c7d-9e8f-0a1b2c3d4e5f"),
                entry_version=2,
                topic="PKH",
                answer="Dijelaskan syarat PKH dan tempat mendaftar; nomor [telepon].",
            )
        }
    )
    c = await dev(complaint)
    await c.handle.result()
    await save(c, "proginfo_information_answered_from_an_entry")


async def test_proginfo_may_qualify_then_resolved_locally(dev: Start) -> None:
    """A registry answer carrying "may qualify for" hints (an additive field of the answer
    and of the registry summary), then back office resolves it locally."""
    c = await dev(submitted(category=Category.PROGRAM_NEED, program="PIP_KEMENDIKBUD"))
    await c.at(S.REGISTRY_CHECK)
    request = await c.registry_request()
    answer = registry_answer(c.complaint, request.request_id).model_copy(
        update={
            "may_qualify_for": [
                MayQualify(
                    program_code="BPNT",
                    entry_id=uuid.UUID("0c9b8a7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"),
                    entry_version=1,
                    to_check=["ada anggota yang sedang hamil"],
                )
            ]
        }
    )
    await c.handle.signal(SIGNAL_REGISTRY_RESULT, answer)
    await c.at(S.BACK_OFFICE)
    await c.act(UPDATE_BACK_OFFICE, resolve("information_given"))
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "proginfo_may_qualify_then_resolved_locally")


async def test_people_dir_district_policy_referral_accepted(dev: Start) -> None:
    """Since ``people-dir-district-policy``: the policy is asked for with the complaint's
    district (a marker, then the activity with the district as its argument)."""
    c = await dev(submitted(program="BPNT"))
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.ACCEPTED, note="Beras diganti")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    await save(c, "people_dir_district_policy_referral_accepted")


async def test_perf_path_policy_at_start_referral_accepted(
    temporal_client: Client, dev_queue: str, kafka_bootstrap: str
) -> None:
    """Since ``perf-path-policy-at-start``: routing's consumer passes the complaint's terms in
    at start (a memo) and asks for an eager start; the first workflow
    task goes straight to registration, without the ``sla_policy`` activity."""
    complaint = submitted(program="BPNT")
    policy = await complaint_policy(RoutingSettings(), None, complaint.village_code[:4])
    c = await start(temporal_client, dev_queue, kafka_bootstrap, complaint, policy=policy)
    await c.answer_registry()
    await c.act(UPDATE_BACK_OFFICE, refer())
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await delivered(c)
    await answer(c, ReferralDecision.ACCEPTED, note="Beras diganti")
    await c.at(S.FEEDBACK)
    await c.act(UPDATE_FEEDBACK, told())
    await c.handle.result()
    history = await c.handle.fetch_history()
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert "sla_policy" not in scheduled
    await save(c, "perf_path_policy_at_start_referral_accepted")
