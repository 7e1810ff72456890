"""The dashboard's HTTP side: server-rendered pages (Jinja2 templates with autoescape), their
CSV and JSON data, the M&E report pages and the planning page; the viewer's session; the
public Open311 GeoReport v2 API."""

from __future__ import annotations

from fastapi import APIRouter

from services.dashboard.api import monitoring, open311, pages, planning, reports

routers: list[APIRouter] = [
    pages.router,
    reports.router,
    monitoring.router,
    monitoring.api,
    planning.router,
    open311.router,
]
