"""The intake service's HTTP API (``/v1``) and its small server-rendered pages."""

from __future__ import annotations

from fastapi import APIRouter

from services.intake.api import (
    actions,
    attachments,
    audit,
    codec,
    complainants,
    complaints,
    contacts,
    referrals,
    retention,
    tracking,
)

routers: list[APIRouter] = [
    complaints.router,
    attachments.router,
    actions.router,
    retention.router,
    referrals.router,
    tracking.router,
    audit.router,
    contacts.router,
    complainants.router,
    codec.router,
]
