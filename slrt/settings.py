"""One settings pattern for every service.

Connection settings (Postgres, Kafka, Temporal, telemetry) are shared and read from ``SLRT_*``
variables; each service adds its own settings under ``SLRT_<SERVICE>_*``. Values come from the
environment, then from a ``.env`` file in the working directory, then from the defaults below,
which match the local stack started by ``make up``.

Workflow code never imports this module: Temporal's sandbox forbids reading the environment.
"""

from __future__ import annotations

import os
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConnectionSettings(BaseSettings):
    """Where the shared infrastructure is (``SLRT_*``)."""

    model_config = SettingsConfigDict(env_prefix="SLRT_", env_file=".env", extra="ignore")

    postgres_dsn: SecretStr = SecretStr("postgresql://slrt@127.0.0.1:15432/slrt")
    postgres_pool_min: int = Field(default=1, ge=0)
    postgres_pool_max: int = Field(default=10, ge=1)

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    """Client certificate (PEM) for brokers that authenticate clients by TLS (mTLS, e.g. a
    Strimzi KafkaUser with ``authentication: tls``); with ``kafka_ssl_keyfile``."""
    kafka_ssl_keyfile: str | None = None
    kafka_consumer_group_prefix: str = ""
    """Put before every consumer group id of every service (``slrt.kafka.consumer_group_id``):
    the groups are the names in each service's ``consumers`` module (``registry``,
    ``routing.complaints``, ``notifier.requests`` …) with this in front. Empty (the default) in
    production: committed offsets and the dedupe records (``processed_events.consumer``) are
    kept under the group ids, so changing it on a running system makes every consumer read its
    topics again from the start. Set it for stacks that share a Kafka cluster (the tests give
    every stack its own)."""

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "slrt"
    temporal_task_queue: str = "complaints"
    temporal_tls_cert: str | None = None
    temporal_tls_key: str | None = None
    temporal_tls_ca: str | None = None
    """CA certificate file of a frontend signed by a private CA (default: system roots)."""
    temporal_payload_keys_ref: str = "temporal-payload-keys"
    """The secret (``slrt.secrets``) holding the Temporal payload encryption keys, the current
    one first (``slrt.payload_codec``). Every client and worker encrypts with it; a service
    whose secret is missing does not start."""

    otlp_endpoint: str | None = None
    """OTLP/HTTP traces endpoint, e.g. ``http://127.0.0.1:4318/v1/traces``; unset = no export."""
    log_level: str = "INFO"
    log_json: bool = True


RETIRED_GROUP_VARIABLES: dict[str, str] = {
    "SLRT_REGISTRY_CONSUMER_GROUP": "registry",
    "SLRT_DASHBOARD_CONSUMER_GROUP": "dashboard",
    "SLRT_INTAKE_STATUS_CONSUMER_GROUP": "intake-status",
    "SLRT_INTAKE_CATALOG_CONSUMER_GROUP": "intake-catalog",
    "SLRT_INTAKE_STAFF_CONSUMER_GROUP": "intake-staff",
}
"""Variables that once named a consumer group, and the group's name since
(``kafka_consumer_group_prefix``). A service refuses to start while one is set: ignoring it
would move that consumer to another group, which reads its topics again from the start and
handles every event again (``docs/deploy.md``, "Consumer groups")."""


class ServiceSettings(BaseSettings):
    """Base of every service's settings; subclasses set ``env_prefix`` and ``port``."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    management_port: int | None = Field(default=None, ge=1, le=65535)
    """Serve ``/healthz``, the detailed ``/readyz`` and ``/metrics`` on this port instead of the
    API port, which then answers ``/readyz`` with ready / not ready only (the Helm chart sets
    it: the Ingress routes the API port, never this one). Unset: everything on ``port``."""
    graceful_shutdown_seconds: float = Field(default=20.0, gt=0)
    keep_alive_seconds: int = Field(default=75, ge=1)
    """How long the API server keeps an idle HTTP/1.1 connection open. Longer than a client's
    own idle expiry (httpx: 5 s; nginx's ingress upstream keep-alive: 60 s), so the client
    closes first: a server that closes at the client's own expiry races the client's next
    request on that connection (a reset request, a new TCP connection, a stalled client)."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """Larger request bodies are refused with 413 before they are read whole (routes that take
    large uploads, the registry's CSV imports, apply their own limit)."""
    connections: ConnectionSettings = Field(default_factory=ConnectionSettings)

    @model_validator(mode="after")
    def _no_retired_group_variables(self) -> Self:
        for variable, group in RETIRED_GROUP_VARIABLES.items():
            if variable in os.environ:
                raise ValueError(
                    f"{variable} is no longer read: the group is named '{group}', with "
                    "SLRT_KAFKA_CONSUMER_GROUP_PREFIX before it; move its committed offsets and "
                    "dedupe records to that name (docs/deploy.md, 'Consumer groups'), then unset it"
                )
        return self
