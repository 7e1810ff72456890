"""Health on its own port: what the public API port says, what the management port says, and
which outages make a service unready."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from slrt.service import Dependency, Runtime, build_app
from slrt.settings import ServiceSettings

SECRET_ERROR = "could not connect to kafka-0.kafka.svc:9092 as user slrt"


class Checks:
    """What each check answers; the test flips them."""

    def __init__(self) -> None:
        self.up = {"postgres": True, "kafka": True, "temporal-worker": True}

    def runtime_checks(self, runtime: Runtime[ServiceSettings]) -> None:
        for name in self.up:
            runtime.add_check(name, self._check(name))

    def _check(self, name: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            if not self.up[name]:
                raise ConnectionError(SECRET_ERROR)
            return True

        return check


def _app(checks: Checks, management_port: int | None) -> FastAPI:
    async def on_start(runtime: Runtime[ServiceSettings]) -> None:
        checks.runtime_checks(runtime)

    settings = ServiceSettings(management_port=management_port)
    return build_app(
        "demo",
        settings,
        title="t",
        description="d",
        uses=(),
        on_start=on_start,
        ready_without=(Dependency.KAFKA,),
    )


@pytest.fixture
def checks() -> Checks:
    return Checks()


@pytest.fixture
def split(checks: Checks) -> Iterator[tuple[TestClient, TestClient]]:
    """(API port, management port) of a service with a management port."""
    app = _app(checks, management_port=9090)
    with TestClient(app) as public:
        yield public, TestClient(app.state.management)


def test_the_api_port_says_only_ready_or_not(
    split: tuple[TestClient, TestClient], checks: Checks
) -> None:
    public, _ = split
    assert public.get("/readyz").json() == {"status": "ready"}
    assert public.get("/healthz").json() == {"status": "ok"}
    assert public.get("/metrics").status_code == 404
    checks.up["postgres"] = False
    answer = public.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "not ready"}


def test_the_management_port_names_what_is_down_without_error_text(
    split: tuple[TestClient, TestClient], checks: Checks
) -> None:
    _, management = split
    assert management.get("/metrics").status_code == 200
    assert "slrt_http_requests" in management.get("/metrics").text
    checks.up["postgres"] = False
    answer = management.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {
        "status": "unavailable",
        "down": ["postgres"],
        "checks": {"postgres": "down", "kafka": "ok", "temporal-worker": "ok"},
    }
    assert "kafka-0" not in answer.text


def test_a_dependency_the_service_can_do_without_keeps_it_ready(
    split: tuple[TestClient, TestClient], checks: Checks
) -> None:
    public, management = split
    checks.up["kafka"] = False
    assert public.get("/readyz").status_code == 200
    detail = management.get("/readyz")
    assert detail.status_code == 200
    assert detail.json()["status"] == "ready"
    assert detail.json()["down"] == ["kafka"]
    # Its own checks count: routing without a running worker cannot do its job.
    checks.up["temporal-worker"] = False
    assert public.get("/readyz").status_code == 503


def test_liveness_never_depends_on_another_system(
    split: tuple[TestClient, TestClient], checks: Checks
) -> None:
    public, management = split
    for name in checks.up:
        checks.up[name] = False
    assert public.get("/healthz").status_code == 200
    assert management.get("/healthz").json() == {"status": "ok"}


def test_a_stopping_service_is_not_ready(checks: Checks) -> None:
    app = _app(checks, management_port=9090)
    with TestClient(app):
        management = TestClient(app.state.management)
        assert management.get("/readyz").status_code == 200
    # The lifespan has ended: the stop event is set.
    answer = management.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "stopping"


def test_without_a_management_port_everything_is_on_the_api_port(checks: Checks) -> None:
    app = _app(checks, management_port=None)
    assert not hasattr(app.state, "management")
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 200
        checks.up["postgres"] = False
        assert client.get("/readyz").json()["down"] == ["postgres"]
