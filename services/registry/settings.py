"""Settings of the registry service (``SLRT_REGISTRY_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from slrt.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_REGISTRY_", env_file=".env", extra="ignore")

    port: int = 8002
    consumer_group: str = "registry"
    """Consumer group of the registry-requests consumer (one per deployment)."""
