"""Reading the registry's aggregates (it owns DT-PPFM) on behalf of the viewer: the viewer's own
token goes along, so the registry applies the same area scoping and suppression."""

from __future__ import annotations

from typing import Any

import httpx

from slrt.problems import Problem


class RegistryClient:
    def __init__(self, base_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._client = httpx.AsyncClient(base_url=base_url, timeout=10.0, transport=transport)

    async def close(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, area: str, token: str) -> Any:
        try:
            response = await self._client.get(
                path, params={"area": area}, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError:
            raise Problem(
                502, "registry-unavailable", "Registry unavailable", "try again shortly"
            ) from None
        if response.status_code in (403, 404):
            raise Problem(response.status_code, "not-found", "No such area")
        if response.status_code != 200:
            raise Problem(
                502,
                "registry-unavailable",
                "Registry unavailable",
                f"status {response.status_code}",
            )
        return response.json()
