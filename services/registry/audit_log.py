"""The read audit (``audit_log``) by group commit: off each request's own transaction, never
after its answer.

A lookup used to open a transaction for its read and its audit row: BEGIN, the read, the insert,
COMMIT, four round trips and a WAL flush per request. Now the read is one statement and the
request hands its audit rows to the :class:`AuditWriter` and waits for them to be committed —
by a flush it shares with every request that arrived meanwhile (group commit, as PostgreSQL
does with its own WAL). A flush starts as soon as rows wait and none is running; rows that
arrive during a flush go in the next one, so under load one INSERT carries many requests' rows
and the wait is at most about one flush.

The guarantee: **a request answers only after its audit rows are committed**, so the rows of
every answered read survive any crash (a SIGKILL loses only reads that were never answered: the
kill test in ``tests/registry/test_audit_durability.py``). A failed flush fails the requests of
that batch (503/500 answer, no data handed out). At shutdown the writer drains what is pending
before the pool closes (:meth:`AuditWriter.run`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

log = logging.getLogger(__name__)

MAX_ROWS_PER_FLUSH = 2000

_INSERT = """
INSERT INTO audit_log (at, actor, action, individual_id, household_id, complaint_id)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::uuid[], $5::uuid[],
    $6::uuid[])
"""

Row = tuple[datetime, str, str, UUID | None, UUID | None, UUID | None]


class AuditWriter:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._pending: deque[tuple[list[Row], asyncio.Future[None]]] = deque()
        self._flusher: asyncio.Task[None] | None = None

    async def record(
        self,
        *,
        actor: str,
        action: str,
        reads: Iterable[tuple[UUID | None, UUID | None]],
        complaint_id: UUID | None,
    ) -> None:
        """One audit row per record read (``reads``: (individual id, household id) pairs);
        returns once they are committed, raises if their flush failed."""
        at = datetime.now(UTC)
        rows = [(at, actor, action, ind, hh, complaint_id) for ind, hh in reads]
        if not rows:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Its failure is read by the request, or by nobody if the request was cancelled (the
        # flush has logged it): never a "Future exception was never retrieved" at collection.
        done.add_done_callback(_consume)
        self._pending.append((rows, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_pending(), name="audit-flush")
        # A request cancelled while it waits (the client went away) leaves its rows to the
        # flush: they were read, so they are written.
        await asyncio.shield(done)

    async def drain(self) -> None:
        """Wait until every row handed over so far is written (or its flush failed)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.wait({self._flusher})

    async def run(self, stop: asyncio.Event) -> None:
        """A service task: at shutdown, drain before the pool closes."""
        await stop.wait()
        await self.drain()

    async def _flush_pending(self) -> None:
        while self._pending:
            batch: list[tuple[list[Row], asyncio.Future[None]]] = []
            size = 0
            while self._pending and (
                not batch or size + len(self._pending[0][0]) <= MAX_ROWS_PER_FLUSH
            ):
                rows, done = self._pending.popleft()
                batch.append((rows, done))
                size += len(rows)
            try:
                await self._insert([row for rows, _ in batch for row in rows])
            except Exception as exc:  # the waiting requests fail; none is answered
                log.warning("audit flush failed", extra={"error": type(exc).__name__})
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def _insert(self, rows: list[Row]) -> None:
        columns = list(zip(*rows, strict=True))
        await self._pool.execute(_INSERT, *(list(c) for c in columns))


def _consume(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()
