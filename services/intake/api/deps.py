"""Request dependencies of intake's routes: the platform's (``slrt.deps``), intake's settings and
the idempotency key."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import Depends, Header

from services.intake.settings import IntakeSettings
from slrt.deps import Clock, CurrentPrincipal, Pool, Temporal, settings_dependency

__all__ = ["Clock", "CurrentPrincipal", "IdempotencyKey", "Pool", "Settings", "Temporal"]

_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")


async def idempotency_key(
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


Settings = Annotated[IntakeSettings, Depends(settings_dependency(IntakeSettings))]
IdempotencyKey = Annotated[str, Depends(idempotency_key)]
