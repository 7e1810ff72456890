"""Stand-in: a LAPOR!-like public-complaint API (SP4N-LAPOR!).

``POST /api/v1/reports`` files a report (idempotent on ``Idempotency-Key``) and answers
``{"tracking_id", "status"}``; ``GET /api/v1/reports/{tracking_id}`` gives its status and the
agency's response (``tanggapan``). Statuses: belum_terverifikasi → terverifikasi →
didisposisikan → tindak_lanjut → selesai, or ditolak / bukan_kewenangan. A test (or the demo)
moves a report with ``PUT /_control/reports/{tracking_id}`` and reads it as filed with
``GET /_control/reports/{tracking_id}``; ``GET /_received`` lists every report filed (tracking
id, the referral it names in ``referensi_eksternal``, status).

``PUT /_control/availability`` with ``{"status": 503, "retry_after": 60}`` makes it refuse every
new report with that status (and ``Retry-After``) until ``{"status": 200}`` puts it back: an
agency's system that is up but overloaded (the chaos suite uses it; a stopped process models
one that is down).

With ``--state-file`` the reports survive a restart, as a real LAPOR! keeps them: the local
stack's notifier remembers tracking ids across ``make down``/``make up``, and a stand-in that
forgot them would hand the same ids to new reports.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from slrt_dev.standins.server import LOOPBACK

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


class Availability(BaseModel):
    status: int = 200
    """200: files reports; anything else: answers every new report with this status."""
    retry_after: int | None = None


FIRST_NUMBER = 1000001


@dataclass
class LaporState:
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    next_number: int = FIRST_NUMBER
    path: Path | None = None
    """Where the reports are kept between runs (None: in memory only)."""
    availability: Availability = field(default_factory=Availability)

    @classmethod
    def kept_in(cls, path: Path) -> LaporState:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            return cls(path=path)
        saved = json.loads(path.read_text())
        return cls(saved["reports"], saved["by_key"], saved["next_number"], path)

    def new_tracking_id(self) -> str:
        tracking_id = f"LAPOR-{self.next_number}"
        self.next_number += 1
        return tracking_id

    def save(self) -> None:
        if self.path is None:
            return
        keep = {"reports": self.reports, "by_key": self.by_key, "next_number": self.next_number}
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(keep))
        os.replace(scratch, self.path)  # whole or not at all, even if killed mid-write


def create_app(state: LaporState) -> FastAPI:
    app = FastAPI(title="Stand-in: LAPOR! public-complaint API")

    @app.post("/api/v1/reports", status_code=201, response_model=None)
    async def file_report(
        report: dict[str, Any], idempotency_key: str | None = Header(default=None)
    ) -> dict[str, str] | JSONResponse:
        refusing = state.availability
        if refusing.status != 200:
            headers = {"Retry-After": str(refusing.retry_after)} if refusing.retry_after else {}
            return JSONResponse({"detail": "unavailable"}, refusing.status, headers=headers)
        missing = [f for f in REQUIRED if not report.get(f)]
        if missing:
            raise HTTPException(422, f"missing: {', '.join(missing)}")
        if idempotency_key and idempotency_key in state.by_key:
            tracking_id = state.by_key[idempotency_key]
        else:
            tracking_id = state.new_tracking_id()
            state.reports[tracking_id] = {
                "report": report,
                "status": "belum_terverifikasi",
                "tanggapan": None,
            }
            if idempotency_key:
                state.by_key[idempotency_key] = tracking_id
            state.save()
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

    @app.get("/_control/reports/{tracking_id}")
    async def filed(tracking_id: str) -> dict[str, Any]:
        """The report as it was filed (what the agency reads), with its status."""
        if tracking_id not in state.reports:
            raise HTTPException(404)
        return {"tracking_id": tracking_id, **state.reports[tracking_id]}

    @app.put("/_control/reports/{tracking_id}")
    async def move(tracking_id: str, change: Move) -> dict[str, Any]:
        if tracking_id not in state.reports:
            raise HTTPException(404)
        state.reports[tracking_id].update(status=change.status, tanggapan=change.tanggapan)
        state.save()
        return {"tracking_id": tracking_id, "status": change.status}

    @app.put("/_control/availability")
    async def availability(change: Availability) -> Availability:
        state.availability = change
        return change

    @app.get("/_received")
    async def received() -> list[dict[str, Any]]:
        return [
            {
                "tracking_id": tracking_id,
                "referensi_eksternal": found["report"].get("referensi_eksternal"),
                "status": found["status"],
                "tanggapan": found["tanggapan"],
            }
            for tracking_id, found in state.reports.items()
        ]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m slrt_dev.standins.lapor", description=__doc__)
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--state-file", type=Path, help="keep the reports here across restarts")
    args = parser.parse_args()
    state = LaporState.kept_in(args.state_file) if args.state_file else LaporState()
    uvicorn.run(create_app(state), host=LOOPBACK, port=args.port)


if __name__ == "__main__":
    main()
