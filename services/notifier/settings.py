"""Settings of the notifier service (``SLRT_NOTIFIER_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from slrt.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_NOTIFIER_", env_file=".env", extra="ignore")

    port: int = 8003
