"""The baseline of the lookup benchmark: a bare FastAPI + asyncpg endpoint doing what the
registry's lookup does to the database — the same person-and-programs statement
(``services.registry.store.persons.PERSON_BY_NIK``) and one audit row, each in autocommit — with
no token, no authorisation, no telemetry, no middleware. ``python -m bench._bare_lookup DSN
PORT``."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, HTTPException, Request

from services.registry.store.persons import PERSON_BY_NIK

AUDIT = (
    "INSERT INTO audit_log (actor, action, individual_id, household_id, complaint_id) "
    "VALUES ($1, 'person_lookup', $2, $3, $4)"
)


def create_app(dsn: str) -> FastAPI:
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(
            dsn,
            min_size=1,
            max_size=10,
            server_settings={"search_path": "registry,public"},
        )
        yield
        await state["pool"].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/persons/lookup")
    async def lookup(request: Request) -> list[dict[str, Any]]:
        body = await request.json()
        pool = state["pool"]
        row = await pool.fetchrow(PERSON_BY_NIK, body["nik"])
        if row is None:
            raise HTTPException(404)
        await pool.execute(AUDIT, "bench", row["id"], row["household_id"], None)
        return [{k: v for k, v in dict(row).items()}]

    return app


if __name__ == "__main__":
    uvicorn.run(
        create_app(sys.argv[1]),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        log_level="warning",
        access_log=False,
    )
