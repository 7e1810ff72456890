"""The loop the notifier's destination pollers share (LAPOR!, SIKS-NG): every ``interval``
seconds, read the items still open and poll the destination's status of each. A loop survives
what it can try again (``POLL_FAILURES``: PostgreSQL or the destination away) with a warning;
one item the destination cannot answer for now (an HTTP error, a body that is not JSON) is
skipped with a warning and does not stop the others.

Each destination's module keeps its specifics: which items are open (``_open``) and what one
item's status means (``_poll``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import asyncpg
import httpx

from services.notifier import store
from slrt.db import Connection

POLL_FAILURES: tuple[type[BaseException], ...] = (*store.DATABASE_DOWN, httpx.HTTPError)
"""What a poller's loop survives and tries again on its next round."""


class StatusPoller(ABC):
    destination: ClassVar[str]
    """The destination's name in log lines (``LAPOR!``, ``SIKS-NG``)."""
    item_key: ClassVar[str]
    """The open item's id at the destination, named in log lines (never personal data)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        token: str | None,
        interval: float,
    ) -> None:
        self._pool = pool
        self._http = http
        self._base = base_url.rstrip("/")
        self._token = token
        self._interval = interval
        # Log lines stay under the destination's module (``…lapor_poller``, ``…siks_ng_poller``).
        self._log = logging.getLogger(type(self).__module__)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except POLL_FAILURES as exc:
                self._log.warning(
                    f"{self.destination} poll failed", extra={"error": repr(exc)[:300]}
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)

    async def poll_once(self) -> int:
        """Poll every open item once; returns how many answers were published."""
        async with self._pool.acquire() as conn:
            items = await self._open(conn)
        answered = 0
        headers = {"authorization": f"Bearer {self._token}"} if self._token else {}
        for item in items:
            try:
                answered += await self._poll(item, headers)
            except (httpx.HTTPError, ValueError) as exc:
                # One item the destination cannot answer for now must not stop the others.
                self._log.warning(
                    f"{self.destination} status poll failed",
                    extra={self.item_key: item[self.item_key], "error_type": type(exc).__name__},
                )
        return answered

    @abstractmethod
    async def _open(self, conn: Connection) -> list[dict[str, Any]]:
        """The items still waiting for the destination's answer."""

    @abstractmethod
    async def _poll(self, item: dict[str, Any], headers: dict[str, str]) -> int:
        """Poll one item's status; returns 1 when it became an answer, else 0."""
