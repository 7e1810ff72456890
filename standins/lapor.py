"""Stand-in: a LAPOR!-like public-complaint API (SP4N-LAPOR!).

``POST /api/v1/reports`` files a report (idempotent on ``Idempotency-Key``) and answers
``{"tracking_id", "status"}``; ``GET /api/v1/reports/{tracking_id}`` gives its status and the
agency's response (``tanggapan``). Statuses: belum_terverifikasi → terverifikasi →
didisposisikan → tindak_lanjut → selesai, or ditolak / bukan_kewenangan. A test (or the demo)
moves a report with ``PUT /_control/reports/{tracking_id}``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

from standins.server import main

Status = Literal[
    "belum_terverifikasi",
    "terverifikasi",
    "didisposisikan",
    "tindak_lanjut",
    "selesai",
    "ditolak",
    "bukan_kewenangan",
]
REQUIRED = ("judul", "isi", "instansi_tujuan", "referensi_eksternal")


class Move(BaseModel):
    status: Status
    tanggapan: str | None = None


@dataclass
class LaporState:
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1000001))


def create_app(state: LaporState) -> FastAPI:
    app = FastAPI(title="Stand-in: LAPOR! public-complaint API")

    @app.post("/api/v1/reports", status_code=201)
    async def file_report(
        report: dict[str, Any], idempotency_key: str | None = Header(default=None)
    ) -> dict[str, str]:
        missing = [f for f in REQUIRED if not report.get(f)]
        if missing:
            raise HTTPException(422, f"missing: {', '.join(missing)}")
        if idempotency_key and idempotency_key in state.by_key:
            tracking_id = state.by_key[idempotency_key]
        else:
            tracking_id = f"LAPOR-{next(state.numbers)}"
            state.reports[tracking_id] = {
                "report": report,
                "status": "belum_terverifikasi",
                "tanggapan": None,
            }
            if idempotency_key:
                state.by_key[idempotency_key] = tracking_id
        return {"tracking_id": tracking_id, "status": state.reports[tracking_id]["status"]}

    @app.get("/api/v1/reports/{tracking_id}")
    async def report_status(tracking_id: str) -> dict[str, Any]:
        if tracking_id not in state.reports:
            raise HTTPException(404)
        found = state.reports[tracking_id]
        return {
            "tracking_id": tracking_id,
            "status": found["status"],
            "tanggapan": found["tanggapan"],
        }

    @app.put("/_control/reports/{tracking_id}")
    async def move(tracking_id: str, change: Move) -> dict[str, Any]:
        if tracking_id not in state.reports:
            raise HTTPException(404)
        state.reports[tracking_id].update(status=change.status, tanggapan=change.tanggapan)
        return {"tracking_id": tracking_id, "status": change.status}

    return app


if __name__ == "__main__":
    main("lapor", create_app(LaporState()), 8091)
