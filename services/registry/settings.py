"""Settings of the registry service (``SLRT_REGISTRY_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from slrt.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_REGISTRY_", env_file=".env", extra="ignore")

    port: int = 8002
    consumer_group: str = "registry"
    """Consumer group of the registry-requests consumer (one per deployment)."""
    plain_http_callback_hosts: list[str] = Field(default_factory=list)
    """Hosts a program's callback URL may name over plain http: loopback stand-ins in the local
    stack and tests (``["127.0.0.1","localhost"]``). Referrals carry personal data, so every
    other callback URL must be https; empty (the default) in any real deployment."""
