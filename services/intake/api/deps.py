"""Request dependencies of intake's routes: the platform's (``slrt.deps``), intake's settings and
the idempotency key."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import Depends, Header

from services.intake.settings import IntakeSettings
from slrt.deps import Clock, CurrentPrincipal, Pool, Temporal, settings_dependency

__all__ = [
    "Clock",
    "CurrentPrincipal",
    "IdempotencyHeader",
    "IdempotencyKey",
    "Pool",
    "Settings",
    "Temporal",
    "key_or_new",
]

_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")


IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=_KEY.pattern,
        description="Your id of this request (1–100 visible ASCII characters): "
        "a repeat with the same key returns the first answer.",
    ),
]
"""The ``Idempotency-Key`` header as a route's own parameter (``None`` when not sent): what
:data:`IdempotencyKey` resolves, without a dependency of its own (``submitComplaint``, whose
every call FastAPI's dependency resolution would otherwise pay; :func:`key_or_new` then)."""


def key_or_new(key: str | None) -> str:
    """The caller's key, or a new one of our own (a request without a key is not retried)."""
    return key if key is not None else str(uuid.uuid4())


async def idempotency_key(key: IdempotencyHeader = None) -> str:
    return key_or_new(key)


Settings = Annotated[IntakeSettings, Depends(settings_dependency(IntakeSettings))]
IdempotencyKey = Annotated[str, Depends(idempotency_key)]
