"""The abuse suite runs the services on the real stack: in-process with the fixtures of the
intake, dashboard and notifier tests, or as processes with those of the end-to-end tests."""

from tests.dashboard.conftest import dashboard_pool, dashboard_settings, producer
from tests.e2e.conftest import e2e_topics, log_dir
from tests.intake.conftest import intake, intake_topics, issuer, secrets_dir
from tests.notifier.conftest import standins, start_notifier

__all__ = [
    "dashboard_pool",
    "dashboard_settings",
    "e2e_topics",
    "intake",
    "intake_topics",
    "issuer",
    "log_dir",
    "producer",
    "secrets_dir",
    "standins",
    "start_notifier",
]
