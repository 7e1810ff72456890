"""How every service process starts, serves health, and stops.

``build_app`` returns a FastAPI app whose lifespan sets up telemetry, waits for the service's
dependencies, migrates its schema, connects the Kafka producer and the Temporal client, calls
the service's ``on_start`` (which spawns consumers, relays, workers) and, on SIGTERM, sets the
stop event and lets those tasks drain for ``graceful_shutdown_seconds``.

What the running service holds is one typed :class:`Runtime`; request handlers reach it only
through ``slrt.deps``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from temporalio.client import Client

from slrt import deps, edge, metrics, problems, telemetry, temporal
from slrt.auth.directory import DirectoryCopy
from slrt.auth.tokens import AuthSettings, TokenVerifier
from slrt.db import create_pool
from slrt.db.migrations import migrate_service
from slrt.health import DependencyCheck, health_router
from slrt.kafka import EventProducer
from slrt.settings import ServiceSettings
from slrt.telemetry import setup_telemetry

log = logging.getLogger(__name__)


class Dependency(StrEnum):
    POSTGRES = "postgres"
    KAFKA = "kafka"
    TEMPORAL = "temporal"


S = TypeVar("S", bound=ServiceSettings)
P = TypeVar("P")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime(Generic[S]):
    """What a running service holds; handed to ``on_start`` and, through ``slrt.deps``, to
    request handlers."""

    name: str
    settings: S
    verifier: TokenVerifier | None = None
    """Verifies bearer tokens; ``None`` in a service without an authenticated API."""
    clock: Callable[[], datetime] = utc_now
    """Now, for rules that count time windows (tests pin it)."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _pool: asyncpg.Pool | None = None
    _producer: EventProducer | None = None
    _temporal: Client | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _parts: dict[type[Any], Any] = field(default_factory=dict)
    _own_checks: dict[str, DependencyCheck] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        name: str,
        settings: S,
        *,
        pool: asyncpg.Pool | None = None,
        producer: EventProducer | None = None,
        temporal: Client | None = None,
        verifier: TokenVerifier | None = None,
    ) -> Runtime[S]:
        """A runtime around resources made elsewhere (tools, tests)."""
        return cls(
            name=name,
            settings=settings,
            verifier=verifier,
            _pool=pool,
            _producer=producer,
            _temporal=temporal,
        )

    def provide(self, part: object) -> None:
        """Keep a service's own long-lived object (the notifier's dispatcher) for its routes."""
        self._parts[type(part)] = part

    def part(self, kind: type[P]) -> P | None:
        """The kept part that is a ``kind`` (a subclass counts), if any."""
        return next((p for p in self._parts.values() if isinstance(p, kind)), None)

    @property
    def token_verifier(self) -> TokenVerifier:
        assert self.verifier is not None, f"{self.name} does not verify tokens"
        return self.verifier

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, f"{self.name} does not use Postgres"
        return self._pool

    @property
    def producer(self) -> EventProducer:
        assert self._producer is not None, f"{self.name} does not use Kafka"
        return self._producer

    @property
    def temporal(self) -> Client:
        assert self._temporal is not None, f"{self.name} does not use Temporal"
        return self._temporal

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        """Run a background loop; if it dies unexpectedly the service stops (and is restarted)."""
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._on_task_done)
        self.tasks.append(task)

    def _on_task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self.stop.is_set():
            return
        exc = task.exception()
        log.critical(
            "background task ended unexpectedly; stopping the service",
            extra={"task": task.get_name(), "error": repr(exc)[:500]},
        )
        self.stop.set()
        # Let the supervisor (Kubernetes, the local stack) restart a service that lost a loop.
        asyncio.get_running_loop().call_soon(_exit_uvicorn)

    def add_check(self, name: str, check: DependencyCheck) -> None:
        """A readiness check of the service's own (routing: its Temporal worker runs)."""
        self._own_checks[name] = check

    def checks(self) -> dict[str, DependencyCheck]:
        found: dict[str, DependencyCheck] = dict(self._own_checks)
        if self._pool is not None:
            found[Dependency.POSTGRES] = lambda: self.pool.fetchval("SELECT 1")
        if self._producer is not None:
            found[Dependency.KAFKA] = self.producer.ping
        if self._temporal is not None:
            found[Dependency.TEMPORAL] = lambda: temporal.ping(self.temporal)
        return found


def _exit_uvicorn() -> None:
    import os
    import signal

    os.kill(os.getpid(), signal.SIGTERM)


async def _retry(what: str, attempt: Callable[[], Awaitable[Any]], deadline: float) -> Any:
    delay = 0.5
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if time.monotonic() + delay > deadline:
                raise RuntimeError(f"{what} did not become available: {exc!r}") from exc
            log.warning(
                "waiting for dependency", extra={"dependency": what, "error": repr(exc)[:300]}
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _connect(
    runtime: Runtime[Any], uses: Iterable[Dependency], startup_timeout: float
) -> None:
    conn = runtime.settings.connections
    deadline = time.monotonic() + startup_timeout
    if Dependency.POSTGRES in uses:
        dsn = conn.postgres_dsn.get_secret_value()
        applied = await _retry("postgres", lambda: migrate_service(dsn, runtime.name), deadline)
        if applied:
            log.info("migrations applied", extra={"migrations": applied})
        runtime._pool = await create_pool(conn, runtime.name)
    if Dependency.KAFKA in uses:

        async def start_producer() -> EventProducer:
            producer = EventProducer(conn, source=f"/slrt/{runtime.name}")
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            return producer

        runtime._producer = await _retry("kafka", start_producer, deadline)
    if Dependency.TEMPORAL in uses:
        # A missing or malformed payload key stops the start at once (not a dependency to wait
        # for): nothing reaches Temporal unencrypted.
        await asyncio.to_thread(temporal.payload_keys, conn)
        runtime._temporal = await _retry("temporal", lambda: temporal.connect(conn), deadline)


async def _shutdown(runtime: Runtime[Any]) -> None:
    runtime.stop.set()
    if runtime.tasks:
        _, pending = await asyncio.wait(
            runtime.tasks, timeout=runtime.settings.graceful_shutdown_seconds
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    if runtime._producer is not None:
        await runtime._producer.stop()
    if runtime._pool is not None:
        await runtime._pool.close()


def _settle_heap() -> None:
    """Once started: move what start-up allocated (modules, the app, its routes and models,
    pydantic's validators: most of the heap) out of the collector's generations, so the
    collections that requests' short-lived objects trigger no longer traverse it, and let the
    youngest generation grow larger between collections (a request allocates thousands of
    objects; Python's default collects every 700)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


GC_YOUNG_THRESHOLD = 10_000


def build_app(
    name: str,
    settings: S,
    *,
    title: str,
    description: str,
    uses: Iterable[Dependency],
    routers: Iterable[APIRouter] = (),
    auth: AuthSettings | None = None,
    on_start: Callable[[Runtime[S]], Awaitable[None]] | None = None,
    startup_timeout: float = 120.0,
    ready_without: Iterable[Dependency] = (),
    large_body_paths: Iterable[str] = (),
    binary_body_paths: Iterable[str] = (),
) -> FastAPI:
    """The service's app; ``auth`` (the settings of the token verifier) for an authenticated
    API. The verifier is made at start-up, so settings without keys stop the start, not the
    import.

    ``ready_without``: dependencies the service can do its job without for a while (intake
    without Kafka: its outbox holds the events), so their outage does not take the pods out of
    their Service. ``large_body_paths``: path patterns whose routes take uploads beyond
    ``settings.max_body_bytes`` and limit them themselves (``slrt.edge.RequestGuard``);
    ``binary_body_paths``: the same for routes whose body is a binary file (no text checks). With
    ``settings.management_port`` set, health and metrics are served there
    (``app.state.management``, started by :func:`run`) and the API port keeps only a ``/healthz``
    and a ``/readyz`` that says ready or not ready."""
    runtime = Runtime(name=name, settings=settings)
    uses = tuple(uses)
    optional = {str(d) for d in ready_without}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if auth is not None and runtime.verifier is None:
            runtime.verifier = TokenVerifier(auth)
        await _connect(runtime, uses, startup_timeout)
        if auth is not None and auth.directory and runtime.verifier is not None:
            copy = DirectoryCopy(settings.connections, clock=runtime.clock)
            runtime.verifier.directory = copy
            runtime.provide(copy)
            runtime.spawn(copy.run(runtime.stop), "staff-directory-copy")
        if on_start is not None:
            await on_start(runtime)
        _settle_heap()
        log.info("service started", extra={"port": settings.port})
        try:
            yield
        finally:
            await _shutdown(runtime)
            # What start-up froze is collectable again (a process that starts apps one after
            # another, as the tests do, would otherwise keep their cyclic garbage).
            gc.unfreeze()
            log.info("service stopped")

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    deps.attach(app, runtime)
    problems.install(app)

    def health(detailed: bool) -> APIRouter:
        return health_router(
            runtime.checks,
            required=_Required(runtime, optional),
            stopping=runtime.stop.is_set,
            detailed=detailed,
        )

    if settings.management_port is None:
        app.include_router(health(detailed=True))
        app.include_router(metrics.metrics_router())
    else:
        app.include_router(health(detailed=False))
        management = FastAPI(title=f"{title} (management)", docs_url=None, redoc_url=None)
        management.include_router(health(detailed=True))
        management.include_router(metrics.metrics_router())
        app.state.management = management
    app.add_middleware(metrics.HttpMetrics, service=name)
    app.add_middleware(
        edge.RequestGuard,
        max_bytes=settings.max_body_bytes,
        large_body_paths=large_body_paths,
        binary_body_paths=binary_body_paths,
    )
    app.add_middleware(edge.SecurityHeaders)
    for router in routers:
        app.include_router(router)
    # One server span per request (with the route, status and the statements' and publishes'
    # spans under it); not the ASGI ``http receive``/``http send`` sub-spans, two or three more
    # spans per request that carry nothing the server span lacks.
    telemetry.cache_server_span_names()
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls="healthz,readyz", exclude_spans=["receive", "send"]
    )
    return app


class _Required:
    """The checks whose failure makes the service unready: every check but those of the
    dependencies it can do without (a set-like view, read per request)."""

    def __init__(self, runtime: Runtime[Any], optional: set[str]) -> None:
        self._runtime = runtime
        self._optional = optional

    def __contains__(self, name: object) -> bool:
        return name not in self._optional

    def __iter__(self) -> Iterator[str]:
        return (n for n in self._runtime.checks() if n not in self._optional)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _ManagementServer(uvicorn.Server):
    """The management port's server: the API server owns the signals and the shutdown."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def api_config(settings: ServiceSettings, app: FastAPI) -> uvicorn.Config:
    """The API server's configuration: an idle keep-alive connection stays open for
    ``keep_alive_seconds`` (uvicorn's own default, 5 s, is httpx's idle expiry: both ends then
    close the same connection at the same moment, and a request sent on it is lost)."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=int(settings.graceful_shutdown_seconds),
    )


def run(name: str, settings: ServiceSettings, app: FastAPI) -> None:
    """Serve ``app``; uvicorn turns SIGTERM/SIGINT into a graceful lifespan shutdown. With a
    management port, its health and metrics are served there until the API server has
    drained (probes keep answering while the service finishes its work)."""
    setup_telemetry(name, settings.connections)
    server = uvicorn.Server(api_config(settings, app))
    management = getattr(app.state, "management", None)
    if settings.management_port is None or management is None:
        server.run()
        return
    side = _ManagementServer(
        uvicorn.Config(
            management,
            host=settings.host,
            port=settings.management_port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
    )

    async def serve_both() -> None:
        side_task = asyncio.create_task(side.serve(), name="management-server")
        try:
            await server.serve()
        finally:
            side.should_exit = True
            await side_task

    # The event loop uvicorn's ``server.run()`` would use (uvloop where installed, as without a
    # management port): a bare ``asyncio.run`` would serve on the standard library's loop.
    with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
        runner.run(serve_both())
