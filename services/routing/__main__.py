"""``python -m services.routing``: run the routing service."""

from __future__ import annotations

from services.routing.app import create_app
from services.routing.settings import RoutingSettings
from slrt.service import run


def main() -> None:
    settings = RoutingSettings()
    run("routing", settings, create_app(settings))


if __name__ == "__main__":
    main()
