"""The console as a client of SLRT's public APIs (intake, registry), with the person's own
bearer token: what they may see and do is what the APIs let them, nothing more."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.console.settings import ConsoleSettings


@dataclass
class Answer:
    status: int
    body: Any = None
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Apis:
    def __init__(self, settings: ConsoleSettings) -> None:
        self._bases = {"intake": settings.intake_url, "registry": settings.registry_url}
        self._http = httpx.AsyncClient(timeout=settings.api_timeout_seconds)

    async def close(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Answer:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if method == "POST":
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        try:
            response = await self._http.request(
                method,
                self._bases[service].rstrip("/") + path,
                headers=headers,
                json=json,
                params={k: v for k, v in (params or {}).items() if v not in (None, "")},
            )
        except httpx.HTTPError:
            return Answer(503, problem={"status": 503, "detail": f"{service} did not answer"})
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if response.is_success:
            return Answer(response.status_code, body)
        problem = body if isinstance(body, dict) else {"detail": response.reason_phrase}
        return Answer(response.status_code, problem=problem)
