"""A crash between commit and publish loses nothing: the committed complaint's event is
published by the next relay, once per event id."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from services.intake.schemas import SubmissionIn
from services.intake.submissions import submit
from slrt.auth.principal import Principal, Role
from slrt.contracts.topics import Topic
from slrt.db import Connection, create_pool
from slrt.db.migrations import migrate_service
from slrt.kafka import EventProducer
from slrt.outbox import OutboxRelay
from slrt.places import directory
from slrt.settings import ConnectionSettings
from tests.support.intake import walk_in
from tests.support.kafka_tools import read_topic

FRONT_OFFICE = Principal(subject="fo-1", roles=frozenset({Role.FRONT_OFFICE}), area="3204")


class Killed(Exception):
    pass


class RelayKilledBeforeMark(OutboxRelay):
    """Publishes, then dies before marking the rows published (a pod killed mid-pass)."""

    async def _mark_published(self, conn: Connection, ids: list[int]) -> None:
        raise Killed


async def _ids_for(bootstrap: str, complaint_id: str) -> list[str]:
    records = await read_topic(bootstrap, Topic.COMPLAINT_SUBMITTED, expect=1, timeout=10)
    return [dict(r.headers)["ce_id"].decode() for r in records if r.key == complaint_id.encode()]


async def test_an_accepted_complaint_survives_a_crash_before_and_during_publishing(
    intake_topics: None, connections: ConnectionSettings, kafka_bootstrap: str
) -> None:
    dsn = connections.postgres_dsn.get_secret_value()
    await migrate_service(dsn, "intake")
    pool: asyncpg.Pool = await create_pool(connections, "intake")
    try:
        first = await submit(
            pool,
            SubmissionIn.model_validate(walk_in()),
            FRONT_OFFICE,
            "k-1",
            directory(),
            "http://intake.test",
        )
        died_after_commit = str(first.complaint.complaint_id)
        # The process died right after the commit: nothing was published yet.
        assert await _ids_for(kafka_bootstrap, died_after_commit) == []
        async with EventProducer(connections, "/slrt/intake") as producer:
            # The restarted service's relay publishes it: exactly one record.
            assert await OutboxRelay(pool, producer, schema="intake").relay_once() == 1
            assert len(await _ids_for(kafka_bootstrap, died_after_commit)) == 1

            second = await submit(
                pool,
                SubmissionIn.model_validate(walk_in()),
                FRONT_OFFICE,
                "k-2",
                directory(),
                "http://intake.test",
            )
            died_while_publishing = str(second.complaint.complaint_id)
            with pytest.raises(Killed):
                await RelayKilledBeforeMark(pool, producer, schema="intake").relay_once()
            unmarked = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            assert await pool.fetchval(unmarked) == 1
            assert await OutboxRelay(pool, producer, schema="intake").relay_once() == 1
            assert await OutboxRelay(pool, producer, schema="intake").relay_once() == 0
        ids = await _ids_for(kafka_bootstrap, died_while_publishing)
        # At-least-once on the wire, one event: both copies carry the same event id, on which
        # every consumer dedupes.
        assert len(ids) == 2
        assert len(set(ids)) == 1
        assert uuid.UUID(ids[0])
        assert len(await _ids_for(kafka_bootstrap, died_after_commit)) == 1
    finally:
        await pool.close()
