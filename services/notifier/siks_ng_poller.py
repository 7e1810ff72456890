"""Follows membership referrals filed in SIKS-NG: polls each open submission's status and, when
SIKS-NG's status answers the referral (diverifikasi, disetujui, ditolak, bukan kewenangan),
publishes a ``ReferralAnswered`` like any other program manager's answer.

Idempotent: the answer's id is ``siks_ng:<submission id>:<status>`` (the workflow applies an
answer id once), and a status is turned into an answer only when it changes, in the transaction
that records the change; every change is audited in ``siks_ng_verdicts`` (what SIKS-NG said,
when it was seen, the answer it became)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from services.notifier import store
from services.notifier.dispatcher import SOURCE
from services.notifier.payloads import (
    SIKS_NG_FINAL,
    mask_nik,
    siks_ng_answer_id,
    siks_ng_decision,
)
from services.notifier.status_poller import StatusPoller
from slrt import outbox
from slrt.contracts.events import ReferralAnswered
from slrt.db import Connection

log = logging.getLogger(__name__)


class SiksNgPoller(StatusPoller):
    destination = "SIKS-NG"
    item_key = "submission_id"

    async def _open(self, conn: Connection) -> list[dict[str, Any]]:
        return await store.open_siks_ng_submissions(conn)

    async def _poll(self, submission: dict[str, Any], headers: dict[str, str]) -> int:
        submission_id = submission["submission_id"]
        response = await self._http.get(
            f"{self._base}/api/v1/submissions/{submission_id}", headers=headers
        )
        if response.status_code != 200:
            log.warning(
                "SIKS-NG status not available",
                extra={"submission_id": submission_id, "status_code": response.status_code},
            )
            return 0
        body = response.json()
        status = str(body.get("status", ""))
        decision = siks_ng_decision(status)
        answer_id = siks_ng_answer_id(submission_id, status) if decision else None
        async with self._pool.acquire() as conn, conn.transaction():
            changed = await store.update_siks_ng_submission(
                conn,
                submission_id,
                status,
                final=status in SIKS_NG_FINAL,
                answer_id=answer_id,
                decision=decision.value if decision else None,
            )
            if not changed or decision is None or answer_id is None:
                return 0
            note = body.get("keterangan")
            answer = ReferralAnswered(
                answer_id=answer_id,
                complaint_id=submission["complaint_id"],
                referral_id=submission["referral_id"],
                decision=decision,
                # The verifier may quote the person's NIK; the timeline and the SMS never do.
                note=mask_nik(str(note))[:2000] if note else None,
                answered_at=datetime.now(UTC),
            )
            await outbox.write(conn, answer, source=SOURCE, subject=str(submission["complaint_id"]))
        log.info(
            "SIKS-NG status mapped to a referral answer",
            extra={"submission_id": submission_id, "decision": decision.value},
        )
        return 1
