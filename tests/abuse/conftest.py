"""The abuse suite runs the services on the real stack: in-process with the fixtures of the
intake, dashboard and notifier tests, or as processes with those of the end-to-end tests
(``e2e_topics``, ``log_dir``: tests/conftest.py)."""

from tests.dashboard.conftest import dashboard_pool, dashboard_settings, producer
from tests.intake.conftest import intake, intake_topics, issuer, secrets_dir
from tests.notifier.conftest import standins, start_notifier

__all__ = [
    "dashboard_pool",
    "dashboard_settings",
    "intake",
    "intake_topics",
    "issuer",
    "producer",
    "secrets_dir",
    "standins",
    "start_notifier",
]
