"""``python -m services.notifier``: run the notifier service."""

from __future__ import annotations

from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from slrt.service import run


def main() -> None:
    settings = NotifierSettings()
    run("notifier", settings, create_app(settings))


if __name__ == "__main__":
    main()
