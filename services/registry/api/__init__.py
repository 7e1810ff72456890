"""The registry HTTP API (``/v1/…``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.api import (
    aggregates,
    attachments,
    catalog,
    imports,
    persons,
    program_info,
    proposals,
    staff,
    tablet,
)

routers: list[APIRouter] = [
    persons.router,
    catalog.router,
    proposals.router,
    imports.router,
    aggregates.router,
    tablet.router,
    attachments.router,
    program_info.router,
    staff.router,
]
