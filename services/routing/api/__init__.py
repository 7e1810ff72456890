"""Routing's HTTP API: none of its own. Routing serves only what every service serves
(``/healthz``, ``/readyz``, ``/metrics``, mounted by ``slrt.service``); its work arrives by
Kafka and Temporal."""

from __future__ import annotations

from fastapi import APIRouter

routers: list[APIRouter] = []
