"""Settings of the routing service (``SLRT_ROUTING_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from slrt.settings import ServiceSettings


class RoutingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_ROUTING_", env_file=".env", extra="ignore")

    port: int = 8004
