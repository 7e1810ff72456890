"""``python -m services.routing`` on the real dev server and Kafka: one complaint from registry
check through a wrong routing, recovered, to an accepted referral and feedback; redelivered
submissions never start a second run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributeKey

from slrt.auth.principal import Role
from slrt.contracts.complaints import (
    UPDATE_FEEDBACK,
    UPDATE_WITHDRAW,
    ComplaintStep,
    FacilitatorFeedback,
    Outcome,
    Withdraw,
)
from slrt.contracts.envelope import Envelope
from slrt.contracts.events import (
    ComplaintSubmitted,
    NotificationDelivered,
    NotificationRequested,
    ReferralAnswered,
    RegistryCheckCompleted,
)
from slrt.contracts.temporal import complaint_workflow_id
from slrt.contracts.vocabulary import NotificationKind, ReferralDecision
from slrt.kafka import EventProducer
from slrt.settings import ConnectionSettings
from slrt_dev.sandbox.groups import PREFIX_ENV, SERVICE_GROUPS, own_groups
from tests.support.complaints import Driven, actor, request_id, submitted
from tests.support.harness import TEST_NAMESPACE, service_process
from tests.support.routing import described, listed, processed, publish_catalog
from tests.workflows.catalog import NATIONAL

S = ComplaintStep


@pytest.fixture
def routing_service(
    connections: ConnectionSettings, tmp_path: Path, contract_topics: None
) -> Iterator[tuple[str, Path]]:
    queue = f"complaints-{uuid.uuid4().hex[:8]}"
    # Consumer groups of its own, from the topics' ends: no other test's complaints.
    own = own_groups(connections, SERVICE_GROUPS["routing"])
    env = {
        "SLRT_POSTGRES_DSN": connections.postgres_dsn.get_secret_value(),
        "SLRT_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        PREFIX_ENV: own.kafka_consumer_group_prefix,
        "SLRT_TEMPORAL_ADDRESS": connections.temporal_address,
        "SLRT_TEMPORAL_NAMESPACE": TEST_NAMESPACE,
        "SLRT_TEMPORAL_TASK_QUEUE": queue,
        "SLRT_LOG_JSON": "true",
    }
    with service_process("routing", env, tmp_path):
        yield queue, tmp_path / "routing.log"


async def referral_sent(c: Driven, after: int) -> NotificationRequested:
    """The referral notification beyond the first ``after`` ones."""
    notifications = await c.notifications(expect=after + 1)
    referrals = [n for n in notifications if n.kind is NotificationKind.REFERRAL]
    assert len(referrals) == after + 1
    return referrals[-1]


async def deliver(producer: EventProducer, referral: NotificationRequested) -> None:
    await producer.publish(
        NotificationDelivered(
            request_id=referral.request_id,
            complaint_id=referral.complaint_id,
            channel="webhook",
            delivered_at=datetime.now(UTC),
        ),
        subject=str(referral.complaint_id),
    )


async def program_answers(
    producer: EventProducer,
    referral: NotificationRequested,
    decision: ReferralDecision,
    **more: object,
) -> None:
    assert referral.complaint_id is not None
    await producer.publish(
        ReferralAnswered(
            answer_id=uuid.uuid4().hex,
            complaint_id=referral.complaint_id,
            referral_id=uuid.UUID(referral.params["referral_id"]),
            decision=decision,
            answered_at=datetime.now(UTC),
            **more,
        ),
        subject=str(referral.complaint_id),
    )


async def test_a_wrongly_routed_referral_is_recovered_accepted_and_the_household_told(
    routing_service: tuple[str, Path],
    temporal_client: Client,
    producer: EventProducer,
    kafka_bootstrap: str,
    connections: ConnectionSettings,
) -> None:
    queue, log_file = routing_service
    for event_id in await publish_catalog(producer, NATIONAL):
        await processed(connections.postgres_dsn.get_secret_value(), event_id)
    complaint = submitted(program="PIP", sub_type="general_school")
    c = Driven(temporal_client, queue, kafka_bootstrap, complaint)
    await producer.publish(complaint, subject=c.subject)
    await described(temporal_client, complaint_workflow_id(c.subject))

    # Registry check over Kafka: the registry service's answer arrives as a signal.
    request = await c.registry_request()
    await producer.publish(
        RegistryCheckCompleted(
            request_id=request.request_id,
            complaint_id=complaint.complaint_id,
            found=True,
            household_id=uuid.uuid4(),
            welfare_decile=1,
            programs=["PIP_KEMENDIKBUD"],
        ),
        subject=c.subject,
    )
    at_back = await c.at(S.BACK_OFFICE)
    assert at_back.snapshot.registry is not None
    assert at_back.snapshot.registry.welfare_decile == 1

    proposed = await c.refer()
    assert proposed.referral_destination == "PIP_KEMENDIKBUD"
    await c.approve()
    first = await referral_sent(c, 0)
    assert first.destination == "PIP_KEMENDIKBUD"
    assert first.params["channel"] == "lapor"
    await deliver(producer, first)
    await c.until(lambda s: s.history[-1].reason == "referral_delivered")

    # Kemendikbud is not responsible (a madrasah pupil): back to back office, re-routed.
    await program_answers(
        producer, first, ReferralDecision.NOT_RESPONSIBLE, suggested_destination="PIP_KEMENAG"
    )
    back = await c.at(S.BACK_OFFICE)
    assert back.history[-1].decision_code == "not_responsible"
    again = await c.refer()
    assert again.referral_destination == "PIP_KEMENAG"
    await c.approve()
    second = await referral_sent(c, 1)
    assert second.destination == "PIP_KEMENAG"
    await deliver(producer, second)
    await program_answers(producer, second, ReferralDecision.ACCEPTED)
    await c.at(S.FEEDBACK)
    closed = await c.act(
        UPDATE_FEEDBACK,
        FacilitatorFeedback(
            actor=actor(Role.FACILITATOR),
            request_id=request_id(),
            household_told=True,
            visited_on=date(2026, 12, 2),
            household_response="satisfied",
        ),
    )
    assert (closed.step, closed.outcome) == (S.CLOSED, Outcome.REFERRAL_ACCEPTED)
    assert await c.handle.result() == closed

    path = [h.to_step for h in (await c.state()).history if h.from_step is not h.to_step]
    assert path == [
        S.RECEIVED,
        S.REGISTERED,
        S.REGISTRY_CHECK,
        S.BACK_OFFICE,
        S.MANAGER_APPROVAL,
        S.REFERRED,
        S.BACK_OFFICE,
        S.MANAGER_APPROVAL,
        S.REFERRED,
        S.FEEDBACK,
        S.CLOSED,
    ]

    # A redelivered submission (a new event for the same complaint) starts nothing new.
    description = await described(temporal_client, complaint_workflow_id(c.subject))
    redelivered: Envelope = await producer.publish(complaint, subject=c.subject)
    await processed(connections.postgres_dsn.get_secret_value(), redelivered.id)
    after = await described(temporal_client, complaint_workflow_id(c.subject))
    assert after.run_id == description.run_id
    assert after.status == WorkflowExecutionStatus.COMPLETED

    # Personal data never reached the service's log.
    log = log_file.read_text()
    assert complaint.complainant is not None
    assert complaint.complainant.nik is not None
    assert complaint.complainant.name not in log
    assert complaint.complainant.nik not in log


async def test_a_submission_redelivered_while_running_keeps_the_one_run(
    routing_service: tuple[str, Path],
    temporal_client: Client,
    producer: EventProducer,
    kafka_bootstrap: str,
    connections: ConnectionSettings,
) -> None:
    queue, _ = routing_service
    complaint: ComplaintSubmitted = submitted()
    c = Driven(temporal_client, queue, kafka_bootstrap, complaint)
    await producer.publish(complaint, subject=c.subject)
    first = await described(temporal_client, complaint_workflow_id(c.subject))
    ticket = first.typed_search_attributes.get(SearchAttributeKey.for_keyword("SlrtTicket"))
    assert ticket == complaint.ticket_number
    again = await producer.publish(complaint, subject=c.subject)
    await processed(connections.postgres_dsn.get_secret_value(), again.id)
    second = await described(temporal_client, complaint_workflow_id(c.subject))
    assert second.run_id == first.run_id
    assert second.status == WorkflowExecutionStatus.RUNNING
    withdrawn = await c.act(
        UPDATE_WITHDRAW,
        Withdraw(actor=actor(Role.FRONT_OFFICE), request_id=request_id(), reason="duplicate"),
    )
    assert withdrawn.step is S.WITHDRAWN
    # The step and the overdue flag are kept searchable as the complaint moves.
    query = f"SlrtTicket = '{complaint.ticket_number}' AND SlrtStep = 'withdrawn'"
    found = await listed(temporal_client, query)
    assert [w.id for w in found] == [complaint_workflow_id(c.subject)]
    indexed = found[0].typed_search_attributes
    assert indexed.get(SearchAttributeKey.for_bool("SlrtOverdue")) is False
