"""Routing's consumers and worker on Kafka and the time-skipping server: a referral nobody
answers expires as ``no_response`` and comes back to back office."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from services.routing.consumers import consumers
from services.routing.settings import RoutingSettings
from services.routing.worker import build_worker, run_worker
from slrt.contracts.complaints import (
    ComplaintStep,
)
from slrt.contracts.events import NotificationDelivered, RegistryCheckCompleted
from slrt.contracts.temporal import complaint_workflow_id
from slrt.contracts.vocabulary import NotificationKind
from slrt.kafka import EventProducer
from slrt.service import Runtime
from slrt.settings import ConnectionSettings
from slrt_dev.sandbox.groups import SERVICE_GROUPS, start_at_end, with_new_prefix
from tests.support.complaints import Driven, submitted
from tests.support.routing import described, processed, publish_catalog
from tests.workflows.catalog import NATIONAL

S = ComplaintStep


@pytest.fixture
async def routing_on_skipping_server(
    time_skipping_env: WorkflowEnvironment,
    routing_pool: asyncpg.Pool,
    producer: EventProducer,
    kafka_bootstrap: str,
) -> AsyncIterator[str]:
    queue = f"complaints-{uuid.uuid4().hex[:8]}"
    connections = with_new_prefix(
        ConnectionSettings(kafka_bootstrap=kafka_bootstrap, temporal_task_queue=queue)
    )
    await start_at_end(connections, SERVICE_GROUPS["routing"])  # no other test's complaints
    settings = RoutingSettings(
        connections=connections,
        search_attributes=False,  # the time-skipping server has no SLRT search attributes
    )
    client = time_skipping_env.client
    stop = asyncio.Event()
    worker = build_worker(client, producer, routing_pool, settings)
    tasks = [asyncio.create_task(run_worker(worker, stop))]
    runtime = Runtime.of("routing", settings, pool=routing_pool, producer=producer, temporal=client)
    running = consumers(runtime, settings)
    for consumer in running:
        tasks.append(asyncio.create_task(consumer.run(stop)))
    yield queue
    stop.set()
    await asyncio.gather(*tasks)


async def test_an_unanswered_referral_expires_as_no_response_and_returns_to_back_office(
    routing_on_skipping_server: str,
    time_skipping_env: WorkflowEnvironment,
    producer: EventProducer,
    kafka_bootstrap: str,
    fresh_db: str,
) -> None:
    client = time_skipping_env.client
    for event_id in await publish_catalog(producer, NATIONAL):
        await processed(fresh_db, event_id)
    complaint = submitted(program="BPNT")
    c = Driven(client, routing_on_skipping_server, kafka_bootstrap, complaint)
    await producer.publish(complaint, subject=c.subject)
    await described(client, complaint_workflow_id(c.subject))
    request = await c.registry_request()
    await producer.publish(
        RegistryCheckCompleted(
            request_id=request.request_id,
            complaint_id=complaint.complaint_id,
            found=True,
            household_id=uuid.uuid4(),
            welfare_decile=3,
            programs=["BPNT"],
        ),
        subject=c.subject,
    )
    await c.at(S.BACK_OFFICE)
    await c.to_referral()
    (referral,) = [
        n for n in await c.notifications(expect=2) if n.kind is NotificationKind.REFERRAL
    ]
    assert (referral.destination, referral.params["channel"]) == ("BPNT", "lapor")
    delivered = await producer.publish(
        NotificationDelivered(
            request_id=referral.request_id,
            complaint_id=complaint.complaint_id,
            channel="lapor",
            delivered_at=datetime.now(UTC),
        ),
        subject=c.subject,
    )
    await processed(fresh_db, delivered.id)
    await c.until(lambda s: any(h.reason == "referral_delivered" for h in s.history))

    await time_skipping_env.sleep(timedelta(days=40))
    back = await c.until(lambda s: any(h.reason == "no_response" for h in s.history))
    (expired,) = [h for h in back.history if h.reason == "no_response"]
    assert (expired.from_step, expired.to_step) == (S.REFERRED, S.BACK_OFFICE)
    assert expired.details["destination"] == "BPNT"
    reasons = [h.reason for h in back.history]
    assert reasons.index("referral_breached") < reasons.index("no_response")
    # The program manager was reminded, then told it is overdue; the manager was alerted.
    to_program = [
        (n["template"], n["breached"]) for n in back.notifications if n["destination"] == "BPNT"
    ]
    assert to_program == [
        ("referral", False),
        ("referral_reminder", False),
        ("referral_overdue", True),
    ]
    await c.handle.terminate(reason="test finished")
