"""The abuse suite runs the services in-process on the real stack, with the fixtures of the
intake and dashboard tests."""

from tests.dashboard.conftest import dashboard_pool, dashboard_settings, producer
from tests.intake.conftest import intake, intake_topics, issuer, secrets_dir

__all__ = [
    "dashboard_pool",
    "dashboard_settings",
    "intake",
    "intake_topics",
    "issuer",
    "producer",
    "secrets_dir",
]
