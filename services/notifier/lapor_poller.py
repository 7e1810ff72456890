"""Follows referrals filed in LAPOR!: polls each open report's status and, when LAPOR!'s
status answers the referral (tindak lanjut, selesai, ditolak, bukan kewenangan), publishes a
``ReferralAnswered`` like any other program manager's answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from services.notifier import store
from services.notifier.dispatcher import SOURCE
from services.notifier.payloads import LAPOR_FINAL, lapor_decision
from slrt import outbox, text
from slrt.contracts.events import ReferralAnswered
from slrt.masking import mask_free_text

POLL_FAILURES: tuple[type[BaseException], ...] = (*store.DATABASE_DOWN, httpx.HTTPError)

log = logging.getLogger(__name__)


class LaporPoller:
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

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except POLL_FAILURES as exc:
                log.warning("LAPOR! poll failed", extra={"error": repr(exc)[:300]})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)

    async def poll_once(self) -> int:
        """Poll every open report once; returns how many answers were published."""
        async with self._pool.acquire() as conn:
            reports = await store.open_lapor_reports(conn)
        answered = 0
        headers = {"authorization": f"Bearer {self._token}"} if self._token else {}
        for report in reports:
            try:
                answered += await self._poll(report, headers)
            except (httpx.HTTPError, ValueError) as exc:
                # One report LAPOR! cannot answer for now must not stop the others.
                log.warning(
                    "LAPOR! status poll failed",
                    extra={"tracking_id": report["tracking_id"], "error_type": type(exc).__name__},
                )
        return answered

    async def _poll(self, report: dict[str, Any], headers: dict[str, str]) -> int:
        tracking_id = report["tracking_id"]
        response = await self._http.get(
            f"{self._base}/api/v1/reports/{tracking_id}", headers=headers
        )
        if response.status_code != 200:
            log.warning(
                "LAPOR! status not available",
                extra={"tracking_id": tracking_id, "status_code": response.status_code},
            )
            return 0
        # LAPOR!'s text is stored and published: what PostgreSQL cannot store is replaced.
        body = text.storable(response.json())
        status = str(body.get("status", ""))
        async with self._pool.acquire() as conn, conn.transaction():
            changed = await store.update_lapor_report(
                conn, tracking_id, status, final=status in LAPOR_FINAL
            )
            decision = lapor_decision(status)
            if not changed or decision is None:
                return 0
            note = body.get("tanggapan")
            answer = ReferralAnswered(
                answer_id=f"lapor:{tracking_id}:{status}",
                complaint_id=report["complaint_id"],
                referral_id=report["referral_id"],
                decision=decision,
                note=mask_free_text(str(note)[:2000]) if note else None,
                answered_at=datetime.now(UTC),
            )
            await outbox.write(conn, answer, source=SOURCE, subject=str(report["complaint_id"]))
        log.info(
            "LAPOR! status mapped to a referral answer",
            extra={"tracking_id": tracking_id, "decision": decision.value},
        )
        return 1
