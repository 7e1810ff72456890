"""Stand-in: SIKS-NG (the ministry's registry system) taking membership complaints and
pre-list proposals: ``POST /api/v1/submissions`` → ``{"submission_id"}`` (idempotent on
``Idempotency-Key``); ``GET /_received`` lists them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Header, HTTPException

from slrt_dev.standins.server import main

KINDS = ("keluhan_kepesertaan", "usulan_daftar_awal")


@dataclass
class SiksNgState:
    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)


def create_app(state: SiksNgState) -> FastAPI:
    app = FastAPI(title="Stand-in: SIKS-NG submissions API")

    @app.post("/api/v1/submissions", status_code=201)
    async def submit(
        submission: dict[str, Any], idempotency_key: str | None = Header(default=None)
    ) -> dict[str, str]:
        if submission.get("jenis") not in KINDS:
            raise HTTPException(422, "jenis must be one of " + ", ".join(KINDS))
        if idempotency_key and idempotency_key in state.by_key:
            return {"submission_id": state.by_key[idempotency_key]}
        submission_id = f"SIKS-{uuid.uuid4().hex[:10].upper()}"
        state.submissions[submission_id] = submission
        if idempotency_key:
            state.by_key[idempotency_key] = submission_id
        return {"submission_id": submission_id}

    @app.get("/_received")
    async def received() -> dict[str, dict[str, Any]]:
        return state.submissions

    return app


if __name__ == "__main__":
    main("siks_ng", create_app(SiksNgState()), 8092)
