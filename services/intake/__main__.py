"""``python -m services.intake``: run the intake service."""

from __future__ import annotations

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from slrt.service import run


def main() -> None:
    settings = IntakeSettings()
    run("intake", settings, create_app(settings))


if __name__ == "__main__":
    main()
