"""The routing service: health/metrics port of the Temporal worker and Kafka consumers."""

from __future__ import annotations

from fastapi import FastAPI

from services.routing.settings import RoutingSettings
from slrt.service import Dependency, build_app


def create_app(settings: RoutingSettings) -> FastAPI:
    return build_app(
        "routing",
        settings,
        title="SLRT Routing",
        description="Hosts the complaint workflows' Temporal worker and the Kafka consumers that "
        "start them and feed them results. Serves health only.",
        uses=(Dependency.POSTGRES, Dependency.KAFKA, Dependency.TEMPORAL),
    )
