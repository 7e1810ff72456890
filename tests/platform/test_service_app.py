"""What every service app gets from slrt.service: health, metrics, problem+json errors."""

from __future__ import annotations

import httpx
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from slrt.problems import Problem
from slrt.service import api_config, build_app
from slrt.settings import ServiceSettings


class Visit(BaseModel):
    village_code: str = Field(pattern=r"^\d{10}$")


def _app() -> TestClient:
    router = APIRouter()

    @router.post("/v1/visits/{visit_id}")
    async def visit(visit_id: int, body: Visit) -> dict[str, str]:
        if visit_id == 409:
            raise Problem(
                409,
                "wrong-step",
                "Not now",
                "the complaint is in back_office",
                current_step="back_office",
            )
        return {"village": body.village_code}

    app = build_app(
        "demo", ServiceSettings(), title="t", description="d", uses=(), routers=[router]
    )
    return TestClient(app)


def test_health_metrics_and_problems() -> None:
    with _app() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["down"] == []

        assert client.post("/v1/visits/1", json={"village_code": "3204052001"}).status_code == 200
        invalid = client.post("/v1/visits/2", json={"village_code": "32"})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        body = invalid.json()
        assert body["type"] == "https://slrt.id/problems/invalid-request"
        assert body["errors"][0]["field"] == "village_code"
        assert body["errors"][0]["rule"] == "string_pattern_mismatch"

        conflict = client.post("/v1/visits/409", json={"village_code": "3204052001"}).json()
        assert conflict["status"] == 409
        assert conflict["current_step"] == "back_office"
        assert client.get("/nowhere").json()["type"] == "https://slrt.id/problems/not-found"

        metrics = client.get("/metrics").text
        assert (
            'slrt_http_requests_total{method="POST",route="/v1/visits/{visit_id}",'
            'service="demo",status="200"} 1.0'
        ) in metrics
        assert 'route="/healthz"' not in metrics


def test_the_api_server_outlasts_a_clients_idle_keep_alive() -> None:
    """The server closes an idle connection later than httpx does (its pool's expiry), so a
    client never sends a request on a connection the server is closing at that moment
    (uvicorn's own 5 s equals httpx's 5 s: the benchmark saw reset requests and reconnects)."""
    app = build_app("demo", ServiceSettings(), title="t", description="d", uses=(), routers=[])
    config = api_config(ServiceSettings(), app)
    assert config.timeout_keep_alive == ServiceSettings().keep_alive_seconds
    assert config.timeout_keep_alive > (httpx.Limits().keepalive_expiry or 0)
    assert api_config(ServiceSettings(keep_alive_seconds=120), app).timeout_keep_alive == 120
