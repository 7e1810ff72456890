"""Waiting on what routing does in response to Kafka events."""

from __future__ import annotations

import asyncpg
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from slrt.contracts.events import ProgramCatalogEntry
from slrt.kafka import EventProducer
from tests.support.polling import poll


async def described(
    client: Client, workflow_id: str, timeout: float = 60.0
) -> WorkflowExecutionDescription:
    """The workflow's description once it exists (the consumer starts it asynchronously)."""

    async def describe() -> WorkflowExecutionDescription | None:
        try:
            return await client.get_workflow_handle(workflow_id).describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return None

    found = await poll(
        describe,
        lambda found: found is not None,
        timeout=timeout,
        interval=0.2,
        explain=lambda _: f"workflow {workflow_id} was never started",
    )
    assert found is not None
    return found


async def listed(client: Client, query: str, timeout: float = 30.0) -> list[WorkflowExecution]:
    """The workflows a visibility query finds, once it finds any (visibility lags a little
    behind the workflow's own state)."""

    async def found() -> list[WorkflowExecution]:
        return [w async for w in client.list_workflows(query)]

    return await poll(
        found, timeout=timeout, interval=0.2, explain=lambda _: f"no workflow matches {query}"
    )


async def processed(dsn: str, event_id: str, timeout: float = 60.0) -> None:
    """Wait until routing's consumer recorded ``event_id`` as handled (its offset follows)."""
    conn = await asyncpg.connect(dsn)
    try:
        await poll(
            lambda: conn.fetchval(
                "SELECT true FROM routing.processed_events WHERE event_id = $1", event_id
            ),
            timeout=timeout,
            interval=0.2,
            explain=lambda _: f"event {event_id} was never handled",
        )
    finally:
        await conn.close()


async def publish_catalog(producer: EventProducer, entries: list[ProgramCatalogEntry]) -> list[str]:
    ids = []
    for entry in entries:
        envelope = await producer.publish(entry, subject=entry.code)
        ids.append(envelope.id)
    return ids
