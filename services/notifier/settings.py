"""Settings of the notifier service (``SLRT_NOTIFIER_*``; connections from ``SLRT_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from slrt.settings import ServiceSettings

STANDARD_WEBHOOKS_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
"""Delays after the first attempt (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h): ~27.6 h in all."""


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_NOTIFIER_", env_file=".env", extra="ignore")

    port: int = 8003

    intake_public_url: str = "http://127.0.0.1:8001"
    """Where program managers answer: ``/v1/referrals/<id>/callback`` and ``/v1/answer/<token>``."""
    answer_link_valid_days: int = Field(default=30, ge=1)
    intake_url: str | None = None
    """Where the notifier redeems household contact references (intake's internal endpoint,
    ``/internal/v1/contacts/redeem``); unset: ``intake_public_url``."""
    intake_token_ref: str = "notifier-service-token"  # noqa: S105 -- a secret's name
    """The secret holding the notifier's service-account bearer token for intake (re-read on
    every redemption, so a refreshed token is picked up without a restart)."""

    retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: list(STANDARD_WEBHOOKS_SCHEDULE), min_length=1
    )
    """Delay before each retry; its length is the number of retries, its sum the horizon."""
    retry_jitter: float = Field(default=0.1, ge=0, lt=1)
    """Each delay is drawn uniformly within ± this fraction."""
    attempt_timeout_seconds: float = Field(default=15.0, gt=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    """A claimed delivery is retried by another worker if its attempt has not ended by then."""
    dispatch_poll_seconds: float = Field(default=1.0, gt=0)
    max_in_flight: int = Field(default=50, ge=1)
    destination_concurrency: int = Field(default=4, ge=1)
    """Attempts in flight to one destination at most, so a slow one cannot take every slot."""

    destination_rate_per_second: float = Field(default=5.0, gt=0)
    destination_burst: int = Field(default=10, ge=1)
    breaker_failures: int = Field(default=5, ge=1)
    """Consecutive failures that open a destination's circuit."""
    breaker_cooldown_seconds: float = Field(default=60.0, gt=0)
    destination_probe_seconds: float = Field(default=30.0, gt=0)
    """How often a destination with retries waiting longer than this is probed (an HTTP GET
    of its base URL, a TCP connect to the SMTP relay; any answer below 500 means it is back):
    when it comes back, and when an attempt to it succeeds after failures, its waiting retries
    are due at once instead of at their next scheduled time."""

    sms_gateway_url: str = "http://127.0.0.1:8093"
    sms_gateway_token_ref: str | None = None
    sms_sender: str = "SLRT"
    sms_max_length: int = Field(default=160, ge=70)

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password_ref: str | None = None
    email_sender: str = "SLRT <no-reply@slrt.local>"

    lapor_url: str = "http://127.0.0.1:8091"
    lapor_token_ref: str | None = None
    lapor_poll_seconds: float = Field(default=300.0, gt=0)

    siks_ng_url: str = "http://127.0.0.1:8092"
    siks_ng_token_ref: str | None = None
    siks_ng_poll_seconds: float = Field(default=300.0, gt=0)
    """How often the status of each membership referral filed in SIKS-NG is read."""

    contacts_file: Path | None = None
    """JSON directory of staff destinations (``<role>:<area>`` or user id) → email/phone."""

    digest_hour: int = Field(default=7, ge=0, le=23)
    """Local hour at which staff reminders go out as one digest per person."""
    digest_minute: int = Field(default=0, ge=0, le=59)
    """Minute of that hour (07:30: ``DIGEST_HOUR=7``, ``DIGEST_MINUTE=30``)."""
    digest_timezone: str = "Asia/Jakarta"
