"""Reading the registry's aggregates (it owns DT-PPFM) on behalf of the viewer: the viewer's own
token goes along, so the registry applies the same area scoping and suppression."""

from __future__ import annotations

from typing import Any

import httpx

from slrt.errors import NotFound, Refused, Unavailable


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
            raise _unavailable("try again shortly") from None
        # The registry's answer passes on as it came: outside the viewer's area, or not theirs.
        if response.status_code == 404:
            raise NotFound(title="No such area")
        if response.status_code == 403:
            raise Refused(kind="not-found", title="No such area")
        if response.status_code != 200:
            raise _unavailable(f"status {response.status_code}")
        return response.json()


def _unavailable(detail: str) -> Unavailable:
    return Unavailable(
        detail, kind="registry-unavailable", title="Registry unavailable", upstream=True
    )
