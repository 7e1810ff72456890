"""The routing service: the complaint workflows' Temporal worker and the Kafka consumers that
start them and feed them results. HTTP serves health only."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.routing import api
from services.routing.consumers import consumers
from services.routing.settings import RoutingSettings
from services.routing.versions import promote_at_start
from services.routing.worker import build_worker, run_worker
from slrt.auth.directory import DirectoryCopy
from slrt.service import Dependency, Runtime, build_app

log = logging.getLogger(__name__)


def create_app(settings: RoutingSettings) -> FastAPI:
    async def on_start(runtime: Runtime[RoutingSettings]) -> None:
        if settings.sla_clock_speed != 1.0:
            log.warning(
                "SLA clocks run faster than real time: not for production",
                extra={"sla_clock_speed": settings.sla_clock_speed},
            )
        # The districts' separation of duties comes from the staff directory (its copy here).
        directory = runtime.part(DirectoryCopy)
        if directory is None:
            directory = DirectoryCopy(settings.connections, clock=runtime.clock)
            runtime.provide(directory)
            runtime.spawn(directory.run(runtime.stop), "staff-directory-copy")
        worker = build_worker(
            runtime.temporal, runtime.producer, runtime.pool, settings, directory=directory
        )
        runtime.spawn(
            run_worker(worker, runtime.stop, lambda: promote_at_start(runtime.temporal, settings)),
            "temporal-worker",
        )

        async def worker_runs() -> bool:
            return worker.is_running

        runtime.add_check("temporal-worker", worker_runs)
        for consumer in consumers(runtime, settings):
            runtime.spawn(consumer.run(runtime.stop), f"consumer-{consumer.group_id}")

    return build_app(
        "routing",
        settings,
        routers=api.routers,
        title="SLRT Routing",
        description="Hosts the complaint workflows' Temporal worker and the Kafka consumers that "
        "start them and feed them results. Serves health only.",
        uses=(Dependency.POSTGRES, Dependency.KAFKA, Dependency.TEMPORAL),
        # The worker runs the workflows without Kafka; the consumers wait for it to return.
        ready_without=(Dependency.KAFKA,),
        on_start=on_start,
    )
