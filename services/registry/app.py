"""The registry service's FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry.settings import RegistrySettings
from slrt.service import Dependency, build_app


def create_app(settings: RegistrySettings) -> FastAPI:
    return build_app(
        "registry",
        settings,
        title="SLRT Registry API",
        description="DT-PPFM social registry lookups, the program catalog, pre-list and "
        "profile-change proposals, SIKS-NG exchange.",
        uses=(Dependency.POSTGRES, Dependency.KAFKA),
    )
