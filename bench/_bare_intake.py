"""The baseline of the intake benchmark: a bare FastAPI + asyncpg endpoint that inserts the same
complaint row intake does (same table shape, same values), with no token, no validation beyond
the body model, no status row, no outbox. ``python -m bench._bare_intake DSN PORT``."""

from __future__ import annotations

import json
import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Request

TABLE = """
CREATE TABLE IF NOT EXISTS bare_complaints (
    id uuid PRIMARY KEY, ticket_number text NOT NULL UNIQUE, submitted_by text NOT NULL,
    idempotency_key text NOT NULL, request_hash text NOT NULL, channel text NOT NULL,
    category text NOT NULL, village_code text NOT NULL CHECK (village_code ~ '^\\d{10}$'),
    program_code text, sub_type text, anonymous boolean NOT NULL, complainant jsonb,
    phone text, phone_last4 text, tracking_code text NOT NULL, description text NOT NULL,
    occurred_on date, warnings text[] NOT NULL DEFAULT '{}', submitted_at timestamptz NOT NULL,
    UNIQUE (submitted_by, idempotency_key)
)
"""
INSERT = """
INSERT INTO bare_complaints (id, ticket_number, submitted_by, idempotency_key, request_hash,
    channel, category, village_code, program_code, sub_type, anonymous, complainant, phone,
    phone_last4, tracking_code, description, occurred_on, warnings, submitted_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
"""


def create_app(dsn: str) -> FastAPI:
    state: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        async with pool.acquire() as conn:
            await conn.execute(TABLE)
        state["pool"] = pool
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/complaints", status_code=202)
    async def submit(request: Request) -> dict[str, Any]:
        body = await request.json()
        complaint_id = uuid.uuid4()
        ticket = f"BARE-{complaint_id.hex[:12]}"
        person = body.get("complainant") or {}
        phone = person.get("phone")
        await state["pool"].execute(
            INSERT,
            complaint_id,
            ticket,
            "bench",
            request.headers.get("idempotency-key", str(complaint_id)),
            "0" * 64,
            body["channel"],
            body["category"],
            body["village_code"].replace(".", ""),
            body.get("program_code"),
            body.get("sub_type"),
            bool(body.get("anonymous")),
            json.dumps(person) if person else None,
            phone,
            phone[-4:] if phone else None,
            secrets.token_hex(4),
            body["description"],
            None,
            [],
            datetime.now(UTC),
        )
        return {"complaint_id": str(complaint_id), "ticket_number": ticket}

    return app


if __name__ == "__main__":
    uvicorn.run(
        create_app(sys.argv[1]),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        log_level="warning",
        access_log=False,
    )
