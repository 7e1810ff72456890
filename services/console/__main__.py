"""``python -m services.console``: run the staff console."""

from __future__ import annotations

from services.console.app import create_app
from services.console.settings import ConsoleSettings
from slrt.service import run


def main() -> None:
    settings = ConsoleSettings()
    run("console", settings, create_app(settings))


if __name__ == "__main__":
    main()
