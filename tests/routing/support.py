"""Waiting on what routing does in response to Kafka events."""

from __future__ import annotations

import asyncio

import asyncpg
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from slrt.contracts.events import ProgramCatalogEntry
from slrt.kafka import EventProducer


async def described(
    client: Client, workflow_id: str, timeout: float = 60.0
) -> WorkflowExecutionDescription:
    """The workflow's description once it exists (the consumer starts it asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await client.get_workflow_handle(workflow_id).describe()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"workflow {workflow_id} was never started")
        await asyncio.sleep(0.2)


async def listed(client: Client, query: str, timeout: float = 30.0) -> list[WorkflowExecution]:
    """The workflows a visibility query finds, once it finds any (visibility lags a little
    behind the workflow's own state)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = [w async for w in client.list_workflows(query)]
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no workflow matches {query}")
        await asyncio.sleep(0.2)


async def processed(dsn: str, event_id: str, timeout: float = 60.0) -> None:
    """Wait until routing's consumer recorded ``event_id`` as handled (its offset follows)."""
    conn = await asyncpg.connect(dsn)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await conn.fetchval(
            "SELECT true FROM routing.processed_events WHERE event_id = $1", event_id
        ):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"event {event_id} was never handled")
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def publish_catalog(producer: EventProducer, entries: list[ProgramCatalogEntry]) -> list[str]:
    ids = []
    for entry in entries:
        envelope = await producer.publish(entry, subject=entry.code)
        ids.append(envelope.id)
    return ids
