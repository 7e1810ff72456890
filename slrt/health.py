"""``/healthz`` (the process is alive) and ``/readyz`` (every real dependency answers)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

DependencyCheck = Callable[[], Awaitable[object]]
"""Raises (or returns False) when the dependency is down."""


async def _run_check(check: DependencyCheck, timeout: float) -> str | None:
    try:
        result = await asyncio.wait_for(check(), timeout)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
    return "check returned false" if result is False else None


def health_router(
    checks: Callable[[], Mapping[str, DependencyCheck]], timeout: float = 3.0
) -> APIRouter:
    """``checks`` is read per request: dependencies connect after the app is built."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process is running")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: every dependency answers",
        responses={503: {"description": "A dependency is down; `down` names it"}},
    )
    async def readyz() -> JSONResponse:
        current = checks()
        names = list(current)
        errors = await asyncio.gather(*(_run_check(current[n], timeout) for n in names))
        results = {
            n: ("ok" if e is None else f"down: {e}") for n, e in zip(names, errors, strict=True)
        }
        down = [n for n, e in zip(names, errors, strict=True) if e is not None]
        body = {"status": "ready" if not down else "unavailable", "down": down, "checks": results}
        return JSONResponse(body, status_code=200 if not down else 503)

    return router
