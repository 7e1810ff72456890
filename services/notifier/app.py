"""The notifier service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifier.settings import NotifierSettings
from slrt.service import Dependency, build_app


def create_app(settings: NotifierSettings) -> FastAPI:
    return build_app(
        "notifier",
        settings,
        title="SLRT Notifier API",
        description="Delivery of referrals, reminders, tasks and household messages, with "
        "retries, dead letters and delivery status.",
        uses=(Dependency.POSTGRES, Dependency.KAFKA),
    )
