"""Request dependencies: the service's pool, settings, Temporal client and idempotency key."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

import asyncpg
from fastapi import Depends, Header, Request
from temporalio.client import Client

from services.intake.settings import IntakeSettings
from slrt.service import Runtime

_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


def pool(request: Request) -> asyncpg.Pool:
    return runtime(request).pool


def temporal(request: Request) -> Client:
    return runtime(request).temporal


def settings(request: Request) -> IntakeSettings:
    found: IntakeSettings = request.app.state.intake_settings
    return found


def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=_KEY.pattern,
            description="Your id of this request (1–100 visible ASCII characters): "
            "a repeat with the same key returns the first answer.",
        ),
    ] = None,
) -> str:
    return key if key is not None else str(uuid.uuid4())


Pool = Annotated[asyncpg.Pool, Depends(pool)]
Temporal = Annotated[Client, Depends(temporal)]
Settings = Annotated[IntakeSettings, Depends(settings)]
IdempotencyKey = Annotated[str, Depends(idempotency_key)]
