"""Stand-in: SIKS-NG (the ministry's registry system, Pusdatin Kemensos) taking membership
complaints and pre-list proposals, and giving its verdict on each.

``POST /api/v1/submissions`` files a submission (usulan) and answers ``{"submission_id",
"status"}`` (idempotent on ``Idempotency-Key``). ``GET /api/v1/submissions/{submission_id}``
gives its status and the verifier's note (``keterangan``): ``diajukan`` (filed, nobody has
looked yet) → ``diverifikasi`` (Pokja Data Terpadu is verifying) → ``disetujui`` / ``ditolak``,
or ``bukan_kewenangan`` (not the registry's business). The notifier polls it
(``services/notifier/siks_ng_poller.py``).

A test (or the demo) gives the verdict with ``PUT /_control/submissions/{submission_id}``
(``{"status", "keterangan"}``) and reads the submission as filed with ``GET
/_control/submissions/{submission_id}``; ``GET /_received`` lists every submission (id, kind,
the referral it names in ``referensi``, status).

With ``--state-file`` the submissions survive a restart, as the real system keeps them: the
local stack's notifier keeps polling submission ids across ``make down``/``make up``.
"""

from __future__ import annotations

import argparse
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

from slrt_dev.standins.server import LOOPBACK

KINDS = ("keluhan_kepesertaan", "usulan_daftar_awal")
Status = Literal["diajukan", "diverifikasi", "disetujui", "ditolak", "bukan_kewenangan"]
FILED: Status = "diajukan"


class Verdict(BaseModel):
    status: Status
    keterangan: str | None = None


@dataclass
class SiksNgState:
    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    """submission id → {"submission": what was filed, "status", "keterangan"}."""
    by_key: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    """Where the submissions are kept between runs (None: in memory only)."""

    @classmethod
    def kept_in(cls, path: Path) -> SiksNgState:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            return cls(path=path)
        saved = json.loads(path.read_text())
        return cls(saved["submissions"], saved["by_key"], path)

    def save(self) -> None:
        if self.path is None:
            return
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps({"submissions": self.submissions, "by_key": self.by_key}))
        os.replace(scratch, self.path)  # whole or not at all, even if killed mid-write


def create_app(state: SiksNgState) -> FastAPI:
    app = FastAPI(title="Stand-in: SIKS-NG submissions API")

    def found(submission_id: str) -> dict[str, Any]:
        if submission_id not in state.submissions:
            raise HTTPException(404, "no such submission")
        return state.submissions[submission_id]

    @app.post("/api/v1/submissions", status_code=201)
    async def submit(
        submission: dict[str, Any], idempotency_key: str | None = Header(default=None)
    ) -> dict[str, str]:
        if submission.get("jenis") not in KINDS:
            raise HTTPException(422, "jenis must be one of " + ", ".join(KINDS))
        if idempotency_key and idempotency_key in state.by_key:
            submission_id = state.by_key[idempotency_key]
        else:
            submission_id = f"SIKS-{uuid.uuid4().hex[:10].upper()}"
            state.submissions[submission_id] = {
                "submission": submission,
                "status": FILED,
                "keterangan": None,
            }
            if idempotency_key:
                state.by_key[idempotency_key] = submission_id
            state.save()
        status: str = state.submissions[submission_id]["status"]
        return {"submission_id": submission_id, "status": status}

    @app.get("/api/v1/submissions/{submission_id}")
    async def verdict(submission_id: str) -> dict[str, Any]:
        kept = found(submission_id)
        return {
            "submission_id": submission_id,
            "status": kept["status"],
            "keterangan": kept["keterangan"],
        }

    @app.get("/_control/submissions/{submission_id}")
    async def filed(submission_id: str) -> dict[str, Any]:
        """The submission as it was filed (what the verifier reads), with its status."""
        return {"submission_id": submission_id, **found(submission_id)}

    @app.put("/_control/submissions/{submission_id}")
    async def decide(submission_id: str, change: Verdict) -> dict[str, Any]:
        found(submission_id).update(status=change.status, keterangan=change.keterangan)
        state.save()
        return {"submission_id": submission_id, "status": change.status}

    @app.get("/_received")
    async def received() -> list[dict[str, Any]]:
        return [
            {
                "submission_id": submission_id,
                "jenis": kept["submission"].get("jenis"),
                "referensi": kept["submission"].get("referensi"),
                "status": kept["status"],
                "keterangan": kept["keterangan"],
            }
            for submission_id, kept in state.submissions.items()
        ]

    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m slrt_dev.standins.siks_ng", description=__doc__
    )
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--state-file", type=Path, help="keep the submissions here across restarts")
    args = parser.parse_args()
    state = SiksNgState.kept_in(args.state_file) if args.state_file else SiksNgState()
    uvicorn.run(create_app(state), host=LOOPBACK, port=args.port)


if __name__ == "__main__":
    main()
