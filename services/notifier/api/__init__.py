"""The notifier's HTTP API: delivery status and a manager's re-send (``/v1/deliveries``)."""

from __future__ import annotations

from fastapi import APIRouter

from services.notifier.api import deliveries

routers: list[APIRouter] = [deliveries.router]
