"""Settings of the intake service (``SLRT_INTAKE_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from slrt.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_INTAKE_", env_file=".env", extra="ignore")

    port: int = 8001
