"""Authorisation from the staff directory: the roles and areas of a token's subject.

The identity provider stays the source of authentication (``slrt.auth.tokens`` verifies every
token as before). Two modes of authorisation, per token:

- **claims**: the token carries ``roles`` (and ``area``, ``programs``): they are used as they
  are, as always;
- **directory**: the token carries neither ``roles`` nor ``area`` (only ``sub``): the caller is
  the active person of the staff directory whose ``subject`` is the token's ``sub``, with the
  directory's roles, areas and programs. An unknown or inactive subject is refused (403).

Each service that turns the directory mode on (``SLRT_AUTH_DIRECTORY=true``) keeps its own copy
of the directory in memory, read from the compacted ``slrt.staff.directory`` topic from its start
(no consumer group: every replica reads it all) and followed as it changes, so an answer never
waits on the registry and a change (a person leaving, a new role) takes effect within the
topic's delay. Until the copy has caught up with the topic, directory-mode callers get 503.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from slrt.auth.principal import Principal, enclosing_area
from slrt.contracts.envelope import from_kafka
from slrt.contracts.staff import StaffPerson
from slrt.contracts.topics import Topic
from slrt.kafka import from_start_consumer
from slrt.settings import ConnectionSettings
from slrt.staff_directory import DirectorySnapshot, apply, parse_record, person_for_subject
from slrt.stopping import sleep_or_stop

log = logging.getLogger(__name__)


class NotInDirectory(Exception):
    """The token names no active person of the directory, or the service keeps none (→ 403)."""


class DirectoryNotReady(Exception):
    """The service's copy of the directory has not caught up with the topic yet (→ 503)."""


def principal_of(person: StaffPerson) -> Principal:
    """The caller a directory person is: their roles, their areas (``area`` encloses them all),
    their programs."""
    return Principal(
        subject=person.subject or str(person.person_id),
        roles=frozenset(person.roles),
        area=enclosing_area(person.areas),
        areas=frozenset(person.areas),
        programs=frozenset(person.programs),
    )


def principal_for(snapshot: DirectorySnapshot, subject: str, at: datetime) -> Principal | None:
    """The caller ``subject`` is at ``at``, by the directory; None when unknown or inactive."""
    person = person_for_subject(snapshot, subject, at)
    return principal_of(person) if person is not None else None


class DirectoryCopy:
    """A service's in-memory copy of ``slrt.staff.directory``, followed until ``stop``."""

    def __init__(
        self,
        connections: ConnectionSettings,
        *,
        topic: str = Topic.STAFF_DIRECTORY.value,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._connections = connections
        self._topic = topic
        self._clock = clock
        self.snapshot = DirectorySnapshot()
        self.ready = asyncio.Event()
        self.applied = 0

    def principal(self, subject: str) -> Principal:
        """The directory's caller for ``subject`` now; raises when unknown, inactive or not
        caught up yet."""
        found = principal_for(self.snapshot, subject, self._clock())
        if found is not None:
            return found
        if not self.ready.is_set():
            raise DirectoryNotReady("the staff directory is still being read")
        raise NotInDirectory("the token's subject is no active person of the staff directory")

    async def run(self, stop: asyncio.Event) -> None:
        """Read the topic from its start, then follow it (a service task)."""
        while not stop.is_set():
            try:
                await self._follow(stop)
            except Exception as exc:  # Kafka away: try again, keep what we have
                log.warning("staff directory copy interrupted", extra={"error": repr(exc)[:300]})
                await sleep_or_stop(stop, 2.0)

    async def _follow(self, stop: asyncio.Event) -> None:
        consumer = from_start_consumer(self._connections)
        await consumer.start()
        try:
            partitions = await self._partitions(consumer, stop)
            if partitions is None:
                return
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300)
                for records in batches.values():
                    for record in records:
                        self._apply(record.key, record.headers, record.value)
                if not self.ready.is_set() and all(
                    [await consumer.position(tp) >= ends[tp] for tp in partitions]
                ):
                    self.ready.set()
                    log.info("staff directory read", extra={"records": self.applied})
        finally:
            await consumer.stop()

    async def _partitions(
        self, consumer: AIOKafkaConsumer, stop: asyncio.Event
    ) -> list[TopicPartition] | None:
        while not stop.is_set():
            found = consumer.partitions_for_topic(self._topic)
            if not found:
                await consumer._client.force_metadata_update()
                found = consumer.partitions_for_topic(self._topic)
            if found:
                return [TopicPartition(self._topic, p) for p in sorted(found)]
            await sleep_or_stop(stop, 1.0)
        return None

    def _apply(self, key: bytes | None, headers: object, value: bytes | None) -> None:
        if value is None:
            return
        try:
            envelope = from_kafka(key, list(headers or []), value)  # type: ignore[call-overload]
            record = parse_record(envelope)
        except ValueError as exc:
            # A validation error's text quotes the input (a person's name, phone): name only
            # the fields that failed.
            fields = (
                [".".join(map(str, e["loc"])) for e in exc.errors()]
                if isinstance(exc, ValidationError)
                else []
            )
            log.warning(
                "unreadable staff directory record",
                extra={"error_type": type(exc).__name__, "fields": fields},
            )
            return
        if record is not None and apply(self.snapshot, record):
            self.applied += 1
