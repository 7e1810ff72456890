"""The notifier service's FastAPI app: delivery status API plus the background loops."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifier import api
from services.notifier.runner import Notifier
from services.notifier.settings import NotifierSettings
from slrt.auth.tokens import AuthSettings
from slrt.service import Dependency, Runtime, build_app


def create_app(settings: NotifierSettings) -> FastAPI:
    async def start(runtime: Runtime[NotifierSettings]) -> None:
        notifier = Notifier(settings, runtime.pool, runtime.producer)
        runtime.provide(notifier.dispatcher)  # a manager's re-send wakes it
        for name, loop in notifier.loops(runtime.stop).items():
            runtime.spawn(loop, name)

    return build_app(
        "notifier",
        settings,
        title="SLRT Notifier API",
        description="Delivery of referrals, reminders, tasks and household messages, with "
        "retries, dead letters and delivery status.",
        uses=(Dependency.POSTGRES, Dependency.KAFKA),
        routers=api.routers,
        auth=AuthSettings(),
        on_start=start,
    )
