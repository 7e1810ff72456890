"""Registry news for a complaint whose workflow run has ended (``workflows/registry_results.py``).

A closed complaint's run waits for the results of the proposals it started, but only for
``registry_result_wait_days``; a result after that (or for a run that ended before the wait
existed) finds no run to signal. It is never dropped nor dead-lettered: routing reads the ended
run's history for the last lifecycle event it published (the input of its last
``emit_transition`` or the transitions of a ``publish_effects`` batch; no worker needed,
unlike a query), records the news on the complaint's timeline as the next lifecycle event
(from = to = the final step, reason ``registry_verified`` / ``registry_proposal_updated``,
the final snapshot) and, for a verification result, tells the household
(``household_registry_result``), as the run would have. The sequence comes from
``routing.late_registry_results`` so that a redelivery publishes the same event id and two
late results take consecutive sequences.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from slrt.contracts.complaints import RegistryProposalNews
from slrt.contracts.contacts import HouseholdMessage, household_reference
from slrt.contracts.events import ComplaintTransitioned, NotificationRequested
from slrt.contracts.temporal import complaint_workflow_id
from slrt.contracts.transitions import Reason
from slrt.contracts.vocabulary import NotificationKind
from slrt.db import Connection
from slrt.kafka import EventProducer
from workflows import household
from workflows.model import ACTIVITY_EMIT_TRANSITION, ACTIVITY_PUBLISH_EFFECTS, EffectBatch

log = logging.getLogger(__name__)

SYSTEM = "system"
_NAMESPACE = uuid.UUID("6f1b0a56-4d55-4b7e-9a52-2f0a3c1d9e11")


def news_key(complaint_id: UUID, news: RegistryProposalNews) -> str:
    return f"{complaint_id}:{news.proposal_id}:{news.status}:{news.batch_id}"


def details_of(news: RegistryProposalNews) -> dict[str, Any]:
    details: dict[str, Any] = {
        "proposal_id": str(news.proposal_id),
        "kind": news.kind,
        "status": news.status,
        "batch_id": str(news.batch_id) if news.batch_id else None,
        "reason": news.reason,
        "household_id": str(news.household_id) if news.household_id else None,
        "after_run": True,
    }
    return {k: v for k, v in details.items() if v is not None}


async def next_sequence(conn: Connection, key: str, complaint_id: UUID, last: int) -> int:
    """The sequence of this news on the complaint's timeline (the same on a redelivery)."""
    sequence: int = await conn.fetchval(
        """
        INSERT INTO late_registry_results (news_key, complaint_id, sequence)
        SELECT $1, $2, GREATEST($3::int, coalesce(
            (SELECT max(sequence) FROM late_registry_results WHERE complaint_id = $2), 0)) + 1
        ON CONFLICT (news_key) DO UPDATE SET news_key = EXCLUDED.news_key
        RETURNING sequence
        """,
        key,
        complaint_id,
        last,
    )
    return sequence


class LateResults:
    def __init__(self, client: Client, producer: EventProducer) -> None:
        self._client = client
        self._producer = producer

    async def record(
        self, complaint_id: UUID, news: RegistryProposalNews, conn: Connection
    ) -> None:
        last = await self._last_transition(complaint_id)
        if last is None:
            # No run ever existed for this id (a proposal naming an unknown complaint).
            log.warning(
                "registry news for a complaint without a workflow",
                extra={"complaint_id": str(complaint_id)},
            )
            return
        sequence = await next_sequence(
            conn, news_key(complaint_id, news), complaint_id, last.sequence
        )
        snapshot = last.snapshot
        reason = Reason.REGISTRY_VERIFIED if news.is_result else Reason.REGISTRY_PROPOSAL_UPDATED
        details = details_of(news)
        event = ComplaintTransitioned(
            complaint_id=complaint_id,
            sequence=sequence,
            from_step=snapshot.step.value,
            to_step=snapshot.step.value,
            actor=SYSTEM,
            actor_role=SYSTEM,
            at=datetime.now(UTC),
            reason=reason,
            details=details,
            snapshot=snapshot,
        )
        subject = str(complaint_id)
        await self._producer.publish(event, subject=subject, id=f"complaint-{subject}-{sequence}")
        log.info(
            "registry news recorded after the complaint's run ended",
            extra={"complaint_id": subject, "sequence": sequence, "status": news.status},
        )
        if not news.is_result:
            return
        request_id = uuid.uuid5(_NAMESPACE, news_key(complaint_id, news))
        message = NotificationRequested(
            request_id=request_id,
            complaint_id=complaint_id,
            place_code=snapshot.place_code,
            kind=NotificationKind.HOUSEHOLD_MESSAGE,
            destination=household_reference(complaint_id),
            template=HouseholdMessage.REGISTRY_RESULT.value,
            params={
                k: v
                for k, v in {
                    "ticket": snapshot.ticket_number,
                    "place_code": snapshot.place_code,
                    **household.registry_result_params(details),
                }.items()
                if v is not None
            },
        )
        await self._producer.publish(message, subject=subject, id=str(request_id))

    async def _last_transition(self, complaint_id: UUID) -> ComplaintTransitioned | None:
        """The last lifecycle event the complaint's run published (None: no such run)."""
        handle = self._client.get_workflow_handle(complaint_workflow_id(str(complaint_id)))
        try:
            history = await handle.fetch_history()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        last: ComplaintTransitioned | None = None
        converter = self._client.data_converter
        for event in history.events:
            if not event.HasField("activity_task_scheduled_event_attributes"):
                continue
            scheduled = event.activity_task_scheduled_event_attributes
            name = scheduled.activity_type.name
            if name == ACTIVITY_EMIT_TRANSITION:
                found = await converter.decode(scheduled.input.payloads, [ComplaintTransitioned])
            elif name == ACTIVITY_PUBLISH_EFFECTS:
                (batch,) = await converter.decode(scheduled.input.payloads, [EffectBatch])
                found = [e for e in batch.effects() if isinstance(e, ComplaintTransitioned)]
            else:
                continue
            for transition in found:
                if last is None or transition.sequence > last.sequence:
                    last = transition
        return last
