"""Follows referrals filed in LAPOR!: polls each open report's status and, when LAPOR!'s
status answers the referral (tindak lanjut, selesai, ditolak, bukan kewenangan), publishes a
``ReferralAnswered`` like any other program manager's answer."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from services.notifier import store
from services.notifier.dispatcher import SOURCE
from services.notifier.payloads import LAPOR_FINAL, lapor_decision
from services.notifier.status_poller import StatusPoller
from slrt import outbox, text
from slrt.contracts.events import ReferralAnswered
from slrt.db import Connection
from slrt.masking import mask_free_text

log = logging.getLogger(__name__)


class LaporPoller(StatusPoller):
    destination = "LAPOR!"
    item_key = "tracking_id"

    async def _open(self, conn: Connection) -> list[dict[str, Any]]:
        return await store.open_lapor_reports(conn)

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
