"""Where the local stack keeps its data and which ports it uses (``SLRT_STACK_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from slrt.settings import ConnectionSettings

REPO_ROOT = Path(__file__).resolve().parents[3]

STANDINS = ("lapor", "siks_ng", "sms_gateway", "smtp_sink", "webhook_receiver")
"""The stand-ins of the outside world the stack runs (``slrt_dev.standins.<name>``)."""


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLRT_STACK_", env_file=".env", extra="ignore")

    data_dir: Path = REPO_ROOT / ".slrt"
    """Everything the stack writes: databases, broker log, Temporal's SQLite file, logs, PIDs."""
    cache_dir: Path | None = None
    """Downloaded Kafka jars; default ``<data_dir>/cache``. Survives ``make down``."""

    postgres_port: int = Field(default=15432, ge=1, le=65535)
    postgres_database: str = "slrt"
    postgres_user: str = "slrt"
    postgres_os_user: str = "slrt-postgres"
    """PostgreSQL refuses to run as root; when started by root it runs as this OS user."""

    kafka_port: int = Field(default=19092, ge=1, le=65535)
    kafka_controller_port: int = Field(default=19093, ge=1, le=65535)
    kafka_partitions: int = Field(default=3, ge=1)
    kafka_heap: str = "512m"

    temporal_port: int = Field(default=7233, ge=1, le=65535)
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    temporal_namespace: str = "slrt"

    intake_port: int = Field(default=8001, ge=1, le=65535)
    registry_port: int = Field(default=8002, ge=1, le=65535)
    notifier_port: int = Field(default=8003, ge=1, le=65535)
    routing_port: int = Field(default=8004, ge=1, le=65535)
    dashboard_port: int = Field(default=8005, ge=1, le=65535)
    console_port: int = Field(default=8006, ge=1, le=65535)

    # The stand-ins for the outside world; the notifier of this stack is pointed at them. The
    # defaults are the notifier's own defaults (``SLRT_NOTIFIER_LAPOR_URL`` …).
    lapor_port: int = Field(default=8091, ge=1, le=65535)
    siks_ng_port: int = Field(default=8092, ge=1, le=65535)
    sms_gateway_port: int = Field(default=8093, ge=1, le=65535)
    smtp_sink_port: int = Field(default=8025, ge=1, le=65535)
    smtp_sink_http_port: int = Field(default=8026, ge=1, le=65535)
    """The SMTP sink's inspection endpoint (``GET /_received``): what the demo checks."""
    webhook_receiver_port: int = Field(default=8090, ge=1, le=65535)

    sla_clock_speed: float = Field(default=40_000.0, ge=1.0, le=1_000_000.0)
    """Routing's SLA clocks run this many times faster than real time on the local stack
    (``SLRT_ROUTING_SLA_CLOCK_SPEED``): at 40,000 a calendar day passes in 2.2 s, so the demo's
    week shows reminders, breaches and a referral expiring as ``no_response`` within minutes.
    Set 1 to keep real time."""

    def standin_port(self, name: str) -> int:
        port: int = getattr(self, f"{name}_port")
        return port

    @property
    def cache(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    @property
    def postgres_dsn(self) -> str:
        return (
            f"postgresql://{self.postgres_user}@127.0.0.1:{self.postgres_port}/"
            f"{self.postgres_database}"
        )

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    def connections(self) -> ConnectionSettings:
        """Connection settings pointing at this stack."""
        return ConnectionSettings(
            postgres_dsn=SecretStr(self.postgres_dsn),
            kafka_bootstrap=self.kafka_bootstrap,
            temporal_address=self.temporal_address,
            temporal_namespace=self.temporal_namespace,
        )

    @property
    def secrets_dir(self) -> Path:
        """The stack's secrets (``SLRT_SECRETS_DIR``): the answer-link key and the demo
        district's webhook key, made once by ``slrt-stack up`` (``slrt_dev.stack.secrets``)."""
        return self.data_dir / "secrets"

    @property
    def dev_issuer_dir(self) -> Path:
        """The local development token issuer's keys (see ``slrt-dev token``)."""
        return self.data_dir / "dev-issuer"

    def connection_env(self) -> dict[str, str]:
        """The ``SLRT_*`` variables that point a service at this stack."""
        return {
            "SLRT_AUTH_JWKS_FILE": str(self.dev_issuer_dir / "jwks.json"),
            # Tokens with only ``sub`` are authorised by the staff directory (the demo's).
            "SLRT_AUTH_DIRECTORY": "true",
            "SLRT_SECRETS_DIR": str(self.secrets_dir),
            "SLRT_POSTGRES_DSN": self.postgres_dsn,
            "SLRT_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "SLRT_TEMPORAL_ADDRESS": self.temporal_address,
            "SLRT_TEMPORAL_NAMESPACE": self.temporal_namespace,
        }
