"""``/healthz`` (the process is alive) and ``/readyz`` (this pod can do its job).

Liveness never looks at another system: a database outage must not make Kubernetes restart
every pod. Readiness runs every check, but only the *required* ones decide: intake keeps
accepting complaints while Kafka is down (its outbox relays them later), routing keeps its
Temporal worker running without Kafka. A service that is stopping is not ready.

Two forms of ``/readyz``:

- **detailed** (the management port, or the only port when there is none): ``status``, the
  names of the checks that are ``down`` and each check's ``ok``/``down``. Never the error text,
  which is logged (once per change) instead;
- **public** (the API port when a management port serves the detailed one): only
  ``{"status": "ready"}`` or ``{"status": "not ready"}``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)

DependencyCheck = Callable[[], Awaitable[object]]
"""Raises (or returns False) when the dependency is down."""


async def _run_check(check: DependencyCheck, timeout: float) -> str | None:
    try:
        result = await asyncio.wait_for(check(), timeout)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__
    return "check returned false" if result is False else None


class Readiness:
    """Runs the checks; remembers each one's last state to log changes, not every probe."""

    def __init__(
        self,
        checks: Callable[[], Mapping[str, DependencyCheck]],
        *,
        required: Callable[[str], bool] = lambda name: True,
        stopping: Callable[[], bool] = lambda: False,
        timeout: float = 3.0,
    ) -> None:
        self._checks = checks
        self._required = required
        self._stopping = stopping
        self._timeout = timeout
        self._last: dict[str, bool] = {}

    async def evaluate(self) -> tuple[str, list[str], dict[str, str]]:
        """(status, the checks that are down, each check's ``ok``/``down``)."""
        current = self._checks()
        names = list(current)
        errors = await asyncio.gather(*(_run_check(current[n], self._timeout) for n in names))
        for name, error in zip(names, errors, strict=True):
            up = error is None
            if self._last.get(name, True) != up:
                if up:
                    log.info("dependency is back", extra={"check": name})
                else:
                    log.warning("dependency is down", extra={"check": name, "error": error})
            self._last[name] = up
        down = [n for n, e in zip(names, errors, strict=True) if e is not None]
        checks = {n: ("ok" if e is None else "down") for n, e in zip(names, errors, strict=True)}
        if self._stopping():
            status = "stopping"
        elif any(self._required(n) for n in down):
            status = "unavailable"
        else:
            status = "ready"
        return status, down, checks


def health_router(
    checks: Callable[[], Mapping[str, DependencyCheck]],
    timeout: float = 3.0,
    *,
    required: Collection[str] | None = None,
    stopping: Callable[[], bool] = lambda: False,
    detailed: bool = True,
) -> APIRouter:
    """``checks`` is read per request: dependencies connect after the app is built.
    ``required``: the checks whose failure makes the pod unready (``None``: every check)."""
    readiness = Readiness(
        checks,
        required=(lambda name: True) if required is None else (lambda name: name in required),
        stopping=stopping,
        timeout=timeout,
    )
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process is running")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: this instance can do its job",
        responses={503: {"description": "Not ready (a required dependency is down, or stopping)"}},
    )
    async def readyz() -> JSONResponse:
        status, down, results = await readiness.evaluate()
        code = 200 if status == "ready" else 503
        if not detailed:
            return JSONResponse({"status": "ready" if code == 200 else "not ready"}, code)
        return JSONResponse({"status": status, "down": down, "checks": results}, code)

    return router
