"""Transactional outbox: write the event with the state change, publish it afterwards.

``write`` stores an envelope in the caller's transaction, so a rolled-back transaction leaves
no event behind and a committed one always has its event. ``OutboxRelay`` publishes unpublished
rows in id order, waits for the broker's acks, then marks them — at-least-once: a relay killed
between publishing and marking publishes those rows again, and consumers dedupe on the event id.

Only one relay per schema publishes at a time (a transaction-level advisory lock), which keeps
one aggregate's events in order across replicas; ``FOR UPDATE SKIP LOCKED`` keeps a second relay
from waiting on rows the first holds.

The relay is woken by the commit: an insert into ``outbox`` sends ``NOTIFY slrt_outbox_<schema>``
(a statement trigger, platform migration ``0003_outbox_notify``), which PostgreSQL delivers when
the writing transaction commits; the relay LISTENs on a connection of its own and publishes at
once. It still polls every ``safety_seconds`` (and every ``poll_seconds`` while it cannot
listen), so a row whose notification it missed (written while it was not listening, a dropped
connection) is relayed all the same, only later.

Under load the commits come faster than passes: a pass that published rows is followed by the
next no sooner than ``coalesce_seconds`` after it began, so one pass takes the rows of many
commits (a first row after a quiet spell is relayed at once). A pass is three round trips:
``BEGIN``; the lock and the rows in one statement; the mark and ``COMMIT`` in one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import zlib
from typing import Any

import asyncpg

from slrt.contracts.envelope import Envelope, EventData
from slrt.db import Connection, holds_session_state
from slrt.kafka import EventProducer
from slrt.metrics import OUTBOX_FAILURES, OUTBOX_PUBLISHED
from slrt.stopping import sleep_or_stop
from slrt.telemetry import inject_headers

log = logging.getLogger(__name__)


async def write(conn: Connection, data: EventData, *, source: str, subject: str) -> Envelope:
    """Add ``data`` to the outbox inside the caller's (open) transaction."""
    if not conn.is_in_transaction():
        raise RuntimeError("outbox.write must run inside the transaction of the state change")
    envelope = Envelope.wrap(data, source=source, subject=subject)
    trace_headers = {k: v.decode() for k, v in inject_headers([])}
    await conn.execute(
        "INSERT INTO outbox (event_id, topic, envelope, trace_headers) VALUES ($1, $2, $3, $4)",
        envelope.id,
        data.topic.value,
        envelope.model_dump(mode="json"),
        trace_headers,
    )
    return envelope


def row(data: EventData, *, source: str, subject: str) -> tuple[str, str, str, str]:
    """The outbox row's values of ``data`` (event id, topic, envelope, trace headers; the last
    two as JSON text, for a statement that casts them to ``jsonb``), for a caller that inserts
    the row in a statement of its own (intake's one-statement submission); :func:`write`'s rule
    holds for it too: the row goes in with the state change.

    The envelope's text is the one ``Envelope.wrap(...).model_dump_json()`` gives, made without
    the round trip through a dict (the data serialised once, by pydantic, straight to JSON, and
    not validated again as the envelope's ``data``; ``tests/platform/test_envelope.py`` compares
    the two)."""
    head = Envelope(type=data.event_type, source=source, subject=subject, data={})
    attributes = head.model_dump_json()
    # ``data`` is the envelope's last field: its empty object closes the text.
    assert attributes.endswith(_EMPTY_DATA)
    envelope = f"{attributes[: -len(_EMPTY_DATA)]}{data.model_dump_json()}}}"
    trace_headers = {k: v.decode() for k, v in inject_headers([])}
    return head.id, data.topic.value, envelope, json.dumps(trace_headers)


_EMPTY_DATA = "{}}"


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: EventProducer,
        *,
        schema: str,
        batch_size: int = 200,
        poll_seconds: float = 0.2,
        safety_seconds: float = 5.0,
        listen: bool = True,
        coalesce_seconds: float = 0.05,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._lock_key = zlib.crc32(f"slrt-outbox:{schema}".encode())
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._safety = safety_seconds
        self._listen = listen
        self._coalesce = coalesce_seconds
        self._wake = asyncio.Event()
        self._listener: _Listener | None = None

    @property
    def listening(self) -> bool:
        """Whether a commit wakes the relay now (else it polls every ``poll_seconds``)."""
        return self._listener is not None and self._listener.alive

    def listener_pid(self) -> int | None:
        """The PostgreSQL backend that LISTENs for this relay, if any."""
        return self._listener.pid if self._listener is not None else None

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; a failing broker is retried, never skipped. Rows
        published a week ago are deleted once an hour (they are in Kafka)."""
        next_purge = 0.0
        try:
            while not stop.is_set():
                await self._ensure_listening()
                # Cleared before the pass: a commit during the pass wakes the next wait at once.
                self._wake.clear()
                began = time.monotonic()
                try:
                    if time.monotonic() >= next_purge:
                        next_purge = time.monotonic() + 3600.0
                        await self.purge_published()
                    published = await self.relay_once()
                except Exception as exc:  # any failure: retry the same rows, never skip them
                    OUTBOX_FAILURES.labels(self._schema).inc()
                    log.warning(
                        "outbox relay pass failed; retrying", extra={"error": repr(exc)[:300]}
                    )
                    await sleep_or_stop(stop, 2.0)
                    continue
                if published == 0:
                    await self._idle(stop)
                elif published < self._batch_size:
                    # More commits are coming (a busy service): let them gather for one pass.
                    await sleep_or_stop(stop, self._coalesce - (time.monotonic() - began))
        finally:
            await self._stop_listening()

    async def _idle(self, stop: asyncio.Event) -> None:
        """Wait for a commit's notification, ``stop``, or the next (safety) poll."""
        timeout = self._safety if self.listening else self._poll
        woken = asyncio.ensure_future(self._wake.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait(
                {woken, stopped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in (woken, stopped):
                waiter.cancel()

    async def _ensure_listening(self) -> None:
        if not self._listen or self.listening:
            return
        await self._stop_listening()
        try:
            self._listener = await _Listener.start(self._pool, self._wake)
        except Exception as exc:  # PostgreSQL away: poll until it is back
            log.warning("outbox relay cannot listen; polling", extra={"error": repr(exc)[:300]})

    async def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.close()

    async def relay_once(self) -> int:
        """Publish one batch; returns how many rows were published and marked."""
        async with self._pool.acquire() as conn:
            await conn.execute("BEGIN")
            try:
                # The advisory lock (one relay per schema) and the rows, in one round trip: when
                # another relay holds the lock, no row is read or locked.
                rows = await conn.fetch(
                    """
                    WITH relay AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1) AS alone)
                    SELECT o.id, o.topic, o.envelope::text AS envelope, o.trace_headers
                    FROM relay, outbox o
                    WHERE relay.alone AND o.published_at IS NULL
                    ORDER BY o.id LIMIT $2 FOR UPDATE OF o SKIP LOCKED
                    """,
                    self._lock_key,
                    self._batch_size,
                )
                if rows:
                    await self._publish(rows)
                    await self._mark_published(conn, [r["id"] for r in rows])
                else:
                    await conn.execute("COMMIT")
            except BaseException:
                # The rows stay unpublished (at-least-once); a connection that cannot roll
                # back is discarded by the pool's release.
                with contextlib.suppress(Exception):
                    if not conn.is_closed() and conn.is_in_transaction():
                        await conn.execute("ROLLBACK")
                raise
        OUTBOX_PUBLISHED.labels(self._schema).inc(len(rows))
        return len(rows)

    async def _publish(self, rows: list[asyncpg.Record]) -> None:
        acks = []
        for row in rows:
            # The text parsed by pydantic in one pass (no dict from the jsonb codec first).
            envelope = Envelope.model_validate_json(row["envelope"])
            headers = [(k, str(v).encode()) for k, v in _as_dict(row["trace_headers"]).items()]
            acks.append(await self._producer.send(row["topic"], envelope, headers))
        await asyncio.gather(*acks)

    async def _mark_published(self, conn: Connection, ids: list[int]) -> None:
        """Mark the published rows and commit the pass's transaction (one round trip: a
        simple query of two statements; the ids are the rows' own integers)."""
        listed = ",".join(str(int(i)) for i in ids)
        await conn.execute(
            f"UPDATE outbox SET published_at = now() WHERE id = ANY('{{{listed}}}'::bigint[]);"  # noqa: S608 -- integers
            " COMMIT"
        )

    async def purge_published(self, older_than_days: int = 7) -> int:
        """Delete rows published more than ``older_than_days`` ago (they are in Kafka)."""
        status = await self._pool.execute(
            "DELETE FROM outbox WHERE published_at < now() - make_interval(days => $1)",
            older_than_days,
        )
        return int(status.split()[-1])


class _Listener:
    """A pool connection held for ``LISTEN slrt_outbox_<schema>``; each notification sets
    ``wake``. The schema is the one the pool's ``outbox`` resolves to (its search path)."""

    def __init__(
        self, pool: asyncpg.Pool, conn: Any, channel: str, pid: int, wake: asyncio.Event
    ) -> None:
        self._pool = pool
        self._conn = conn
        self._channel = channel
        self.pid = pid
        self._wake = wake

    @classmethod
    async def start(cls, pool: asyncpg.Pool, wake: asyncio.Event) -> _Listener:
        conn = await pool.acquire()
        try:
            schema = await conn.fetchval(
                "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.oid = 'outbox'::regclass"
            )
            listener = cls(pool, conn, f"slrt_outbox_{schema}", conn.get_server_pid(), wake)
            # LISTEN is session state: the release after it runs the full reset (UNLISTEN *).
            holds_session_state(conn)
            await conn.add_listener(listener._channel, listener._notified)
            # A lost connection wakes the relay, which listens again on a new one.
            conn.add_termination_listener(listener._notified)
        except BaseException:
            await pool.release(conn)
            raise
        # A row committed before LISTEN took effect sent its notification to nobody: the pass
        # that follows (the caller's) finds it.
        wake.set()
        return listener

    @property
    def alive(self) -> bool:
        try:
            return not self._conn.is_closed()
        except asyncpg.InterfaceError:  # the pool took a lost connection back
            return False

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def close(self) -> None:
        try:
            if self.alive:
                self._conn.remove_termination_listener(self._notified)
                await self._conn.remove_listener(self._channel, self._notified)
        except Exception as exc:  # a dead connection: the pool discards it on release
            log.debug("outbox listener not removed", extra={"error": repr(exc)[:300]})
        finally:
            await self._pool.release(self._conn)


def _as_dict(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})
