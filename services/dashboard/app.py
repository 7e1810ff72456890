"""The dashboard service's FastAPI app: the read model's consumer, the pages and the reports."""

from __future__ import annotations

from fastapi import FastAPI

from services.dashboard import api, monitoring, reports, sla_metrics
from services.dashboard.api import pages
from services.dashboard.consumers import consumers
from services.dashboard.settings import DashboardSettings
from slrt.auth.tokens import AuthSettings
from slrt.outbox import OutboxRelay
from slrt.service import Dependency, Runtime, build_app


def create_app(settings: DashboardSettings, auth: AuthSettings | None = None) -> FastAPI:
    async def on_start(runtime: Runtime[DashboardSettings]) -> None:
        for consumer in consumers(runtime, settings):
            runtime.spawn(consumer.run(runtime.stop), f"consumer-{consumer.group_id}")
        relay = OutboxRelay(runtime.pool, runtime.producer, schema="dashboard")
        runtime.spawn(relay.run(runtime.stop), "outbox-relay")
        runtime.spawn(sla_metrics.refresh_loop(runtime.pool, settings, runtime.stop), "sla-gauges")
        if settings.report_areas:
            runtime.spawn(
                reports.schedule_loop(runtime.pool, settings, runtime.stop), "report-schedule"
            )

        if settings.monitoring_areas:
            runtime.spawn(
                monitoring.schedule_loop(runtime.pool, settings, runtime.stop), "monitoring"
            )

    app = build_app(
        "dashboard",
        settings,
        title="SLRT Dashboard",
        description="Complaint-handling figures, registry aggregates and M&E reports for "
        "districts, provinces and the ministry (aggregates only, never personal data).",
        uses=(Dependency.POSTGRES, Dependency.KAFKA),
        routers=api.routers,
        auth=auth or AuthSettings(),
        on_start=on_start,
    )
    pages.install(app)
    return app
