"""``python -m services.registry``: run the registry service."""

from __future__ import annotations

from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from slrt.service import run


def main() -> None:
    settings = RegistrySettings()
    run("registry", settings, create_app(settings))


if __name__ == "__main__":
    main()
