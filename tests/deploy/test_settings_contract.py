"""The environment the chart gives each container is the one the services' settings read.

Each Deployment's environment (its ConfigMap plus its own variables, Secret references filled
with stand-in values) is loaded into the service's real pydantic settings class, so a renamed
setting, a wrong prefix or a value the settings cannot parse fails here rather than in a
crash-looping pod.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from slrt.auth.tokens import AuthSettings
from slrt.settings import ServiceSettings
from tests.deploy.chart import MINIMAL_VALUES, SERVICES, Rendered, rendered

pytestmark = pytest.mark.timeout(1800)

# What the referenced Secrets hold in this test.
SECRET_VALUES = {
    "SLRT_POSTGRES_DSN": "postgresql://slrt:pw@slrt-db-rw.slrt.svc:5432/slrt",
    "SLRT_KAFKA_SASL_PASSWORD": "kafka-password",
    "SLRT_KAFKA_SASL_USERNAME": "slrt",
    "SLRT_AUTH_ISSUER": "https://sso.example.go.id/realms/slrt",
    "SLRT_AUTH_AUDIENCE": "slrt",
    "SLRT_AUTH_JWKS_URL": "https://sso.example.go.id/realms/slrt/certs",
    "SLRT_SECRET_TEMPORAL_PAYLOAD_KEYS": "k-1:Y2ktb25seS1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM=",
    "SLRT_SECRET_CONSOLE_SESSION": "Y2ktb25seS1jb25zb2xlLXNlc3Npb24ta2V5LTAxMjM=",
}


def _settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
        and value.__module__ == module.__name__
    ]
    assert len(found) == 1, found
    return found[0]


def _container_env(release: Rendered, service: str) -> dict[str, str]:
    env = dict(release.config())
    for name, value in release.env(service).items():
        if isinstance(value, str):
            env[name] = value
        else:
            assert "secretKeyRef" in value, (name, value)
            env[name] = SECRET_VALUES[name]
    return env


def _load(
    cls: type[BaseSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Any:
    for name in list(os.environ):
        if name.startswith("SLRT_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no developer .env
    return cls()


@pytest.mark.parametrize("service", SERVICES)
def test_minimal_release_environment_loads(
    service: str, helm_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    release = rendered([MINIMAL_VALUES])
    env = _container_env(release, service)
    settings = _load(_settings_class(service), env, monkeypatch, tmp_path)
    port = release.container(service)["ports"][0]["containerPort"]
    assert settings.host == "0.0.0.0"
    assert settings.port == port
    connections = settings.connections
    assert connections.kafka_bootstrap == "kafka-bootstrap.kafka.svc:9092"
    assert connections.temporal_address == "temporal-frontend.temporal.svc:7233"
    assert isinstance(connections.postgres_dsn, SecretStr)
    assert connections.postgres_dsn.get_secret_value() == SECRET_VALUES["SLRT_POSTGRES_DSN"]
    assert connections.log_json is True


@pytest.mark.parametrize("service", SERVICES)
def test_secured_release_environment_loads(
    service: str, helm_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    release = rendered(
        [MINIMAL_VALUES],
        {
            "kafka.securityProtocol": "SASL_SSL",
            "kafka.sasl.mechanism": "SCRAM-SHA-512",
            "kafka.sasl.existingSecret": "slrt-kafka-user",
            "kafka.sasl.existingSecretUsernameKey": "username",
            "kafka.tls.existingSecret": "platform-kafka-cluster-ca-cert",
            "temporal.tls.enabled": "true",
            "temporal.tls.existingSecret": "slrt-temporal-client-tls",
            "auth.existingSecret": "slrt-oidc",
            "secretRefs.existingSecret": "slrt-secret-refs",
            "telemetry.otlpEndpoint": "http://otel-collector.observability:4318/v1/traces",
            "postgres.poolMax": "7",
            "services.notifier.settings.laporTokenRef": "lapor-token",
            "services.notifier.settings.retryScheduleSeconds": "{5,60,600}",
            "services.intake.settings.trackingLimitPerMinute": "20",
            "ingress.trustedProxies": "{10.244.0.0/16,fd00::/8}",
        },
        # Place codes are strings (YAML: reportAreas: ["35", "3578"]).
        {"services.dashboard.settings.reportAreas": "{35,3578}"},
    )
    env = _container_env(release, service)
    settings = _load(_settings_class(service), env, monkeypatch, tmp_path)
    c = settings.connections
    assert c.kafka_security_protocol == "SASL_SSL"
    assert c.kafka_sasl_mechanism == "SCRAM-SHA-512"
    assert c.kafka_sasl_username == "slrt"
    assert c.kafka_sasl_password.get_secret_value() == "kafka-password"
    assert c.kafka_ssl_cafile == "/etc/slrt/kafka-ca/ca.crt"
    assert c.temporal_tls_cert == "/etc/slrt/temporal-tls/tls.crt"
    assert c.temporal_tls_key == "/etc/slrt/temporal-tls/tls.key"
    assert c.otlp_endpoint == "http://otel-collector.observability:4318/v1/traces"
    assert c.postgres_pool_max == 7
    mounts = {m["mountPath"] for m in release.container(service)["volumeMounts"]}
    assert {"/etc/slrt/kafka-ca", "/etc/slrt/temporal-tls"} <= mounts
    if service == "notifier":
        assert settings.lapor_token_ref == "lapor-token"
        assert settings.retry_schedule_seconds == [5.0, 60.0, 600.0]
    if service == "dashboard":
        assert settings.report_areas == ["35", "3578"]
        assert settings.registry_url == "http://slrt-registry.slrt.svc:8002"
        # The public Open311 API's rate limit reads the ingress's networks too.
        assert [str(n) for n in settings.trusted_proxies] == ["10.244.0.0/16", "fd00::/8"]
    if service == "intake":
        assert settings.tracking_limit_per_minute == 20
        assert [str(n) for n in settings.trusted_proxies] == ["10.244.0.0/16", "fd00::/8"]
    if service in ("intake", "notifier"):
        assert env["SLRT_SECRETS_DIR"] == "/etc/slrt/secrets"
        assert "/etc/slrt/secrets" in mounts
    if service != "routing":
        auth = _load(AuthSettings, env, monkeypatch, tmp_path)
        assert auth.jwks_url == SECRET_VALUES["SLRT_AUTH_JWKS_URL"]
        assert auth.issuer == SECRET_VALUES["SLRT_AUTH_ISSUER"]


EXISTING_SECRETS_VALUES = MINIMAL_VALUES.parent / "existing-secrets-values.yaml"


@pytest.mark.parametrize("service", SERVICES)
def test_certificate_release_environment_loads(
    service: str, helm_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PostgreSQL verify-full with a client certificate, Kafka mTLS, Temporal mTLS with a
    private CA: each file the settings (or libpq's PGSSL* variables) name is mounted."""
    release = rendered([MINIMAL_VALUES, EXISTING_SECRETS_VALUES])
    env = _container_env(release, service)
    c = _load(_settings_class(service), env, monkeypatch, tmp_path).connections
    assert c.kafka_security_protocol == "SSL"
    named = {
        c.kafka_ssl_cafile,
        c.kafka_ssl_certfile,
        c.kafka_ssl_keyfile,
        c.temporal_tls_cert,
        c.temporal_tls_key,
        c.temporal_tls_ca,
    }
    # asyncpg reads libpq's variables: the DSN from CloudNativePG's Secret stays as it is.
    assert env["PGSSLMODE"] == "verify-full"
    named |= {env["PGSSLROOTCERT"], env["PGSSLCERT"], env["PGSSLKEY"]}
    assert None not in named
    mounts = {m["mountPath"] for m in release.container(service)["volumeMounts"]}
    volumes = {
        v["name"]: v for v in release.deployment(service)["spec"]["template"]["spec"]["volumes"]
    }
    for path in named:
        assert str(Path(str(path)).parent) in mounts, path
    assert volumes["temporal-tls"]["secret"]["items"][-1] == {"key": "ca.crt", "path": "ca.crt"}
    assert volumes["postgres-ca"]["secret"]["secretName"] == "slrt-db-ca"
    assert volumes["kafka-client"]["secret"]["items"] == [
        {"key": "user.crt", "path": "tls.crt"},
        {"key": "user.key", "path": "tls.key"},
    ]
    # The migration Job connects to PostgreSQL the same way.
    job = release.get("Job", "slrt-migrate")["spec"]["template"]["spec"]
    job_env = {e["name"]: e.get("value") for e in job["containers"][0]["env"]}
    assert job_env["PGSSLROOTCERT"] == "/etc/slrt/postgres-ca/ca.crt"
    assert "/etc/slrt/postgres-client" in {
        m["mountPath"] for m in job["containers"][0]["volumeMounts"]
    }
