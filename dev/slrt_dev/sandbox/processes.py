"""The services and the stand-ins as their own processes against the sandbox stack, the way
the local stack runs them: for end-to-end tests and the benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from slrt.auth.tokens import AuthSettings
from slrt.settings import ConnectionSettings
from slrt_dev.issuer import (
    NOTIFIER_TOKEN_ENV,
    REGISTRY_TOKEN_ENV,
    DevIssuer,
    notifier_service_token,
    registry_service_token,
)
from slrt_dev.sandbox.groups import PREFIX_ENV, own_groups
from slrt_dev.sandbox.infra import (
    ATTACHMENT_KEYS,
    ATTACHMENT_KEYS_ENV,
    PAYLOAD_KEYS,
    PAYLOAD_KEYS_ENV,
    TEST_NAMESPACE,
)
from slrt_dev.stack.config import REPO_ROOT
from slrt_dev.stack.process import free_port, port_in_use

WEBHOOK_KEY = "whsec_" + "ZTJlLXByb2dyYW0tbWFuYWdlci1rZXktMDEyMzQ1Njc="
ANSWER_LINK_KEY = "e2e-answer-link-key-0123456789abcdef"
CONSOLE_SESSION_KEY = "c2xydC1lMmUtY29uc29sZS1zZXNzaW9uLWtleS0wMDA="
"""The staff console's session-cookie key in tests (Fernet: 32 url-safe base64 bytes)."""
SERVICES = ("registry", "routing", "notifier", "intake")


def dev_issuer(log_dir: Path) -> DevIssuer:
    """The development issuer whose tokens services started by ``service_process`` accept."""
    settings = AuthSettings()
    issuer = DevIssuer(log_dir / "issuer", settings.issuer, settings.audience)
    issuer.ensure_keys()
    return issuer


@contextmanager
def service_process(
    name: str, env: Mapping[str, str], log_dir: Path, port: int | None = None
) -> Iterator[str]:
    """Start ``python -m services.<name>``; yields its base URL once ``/healthz`` answers.

    Tokens: unless ``env`` names a JWKS, the service trusts a development issuer in
    ``log_dir/issuer`` (mint tokens with ``dev_issuer(log_dir)``). ``port``: a free port chosen
    beforehand (when another process must know the URL first); default: one is found.
    """
    port = port or free_port()
    issuer = dev_issuer(log_dir)
    env = {
        "SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file),
        "SLRT_AUTH_ISSUER": issuer.issuer,
        PAYLOAD_KEYS_ENV: PAYLOAD_KEYS,
        ATTACHMENT_KEYS_ENV: ATTACHMENT_KEYS,
        **env,
    }
    log_file = log_dir / f"{name}.log"
    with log_file.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            env={**env, f"SLRT_{name.upper()}_PORT": str(port), "PATH": "/usr/bin:/bin"},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {log_file.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {log_file.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Stack:
    urls: dict[str, str]
    issuer: DevIssuer
    env: dict[str, str]

    def auth(
        self, role: str, area: str = "3204", programs: list[str] | None = None
    ) -> dict[str, str]:
        token = self.issuer.token(f"{role}-{area}", [role], area, programs)
        return {"Authorization": f"Bearer {token}"}


def service_env(connections: ConnectionSettings, **extra: str) -> dict[str, str]:
    """What every service process needs: this test's database, Kafka (and ``connections``'
    consumer-group prefix), its own task queue."""
    return {
        "SLRT_POSTGRES_DSN": connections.postgres_dsn.get_secret_value(),
        "SLRT_KAFKA_BOOTSTRAP": connections.kafka_bootstrap,
        PREFIX_ENV: connections.kafka_consumer_group_prefix,
        "SLRT_TEMPORAL_ADDRESS": connections.temporal_address,
        "SLRT_TEMPORAL_NAMESPACE": TEST_NAMESPACE,
        "SLRT_TEMPORAL_TASK_QUEUE": f"complaints-{uuid.uuid4().hex[:8]}",
        "SLRT_LOG_JSON": "true",
        "SLRT_SECRET_ANSWER_LINKS": ANSWER_LINK_KEY,
        "SLRT_SECRET_E2E_CALLBACKS": WEBHOOK_KEY,
        "SLRT_SECRET_CONSOLE_SESSION": CONSOLE_SESSION_KEY,
        PAYLOAD_KEYS_ENV: PAYLOAD_KEYS,
        ATTACHMENT_KEYS_ENV: ATTACHMENT_KEYS,
        "SLRT_SECRETS_DIR": "/nonexistent",
        **extra,
    }


def start_services(
    connections: ConnectionSettings, log_dir: Path, **extra: str
) -> tuple[ExitStack, Stack]:
    """Start the four services (intake first: the notifier needs its public URL), in consumer
    groups of their own that start at the topics' current ends (``slrt_dev.sandbox.groups``);
    a dashboard started with ``Stack.env`` joins them."""
    env = service_env(own_groups(connections), **extra)
    env.setdefault(NOTIFIER_TOKEN_ENV, notifier_service_token(dev_issuer(log_dir)))
    env.setdefault(REGISTRY_TOKEN_ENV, registry_service_token(dev_issuer(log_dir)))
    # Households now hear back by SMS and email: unless the caller starts its own stand-ins,
    # point the notifier at a port nobody listens on (discard), never at the defaults, where a
    # local stack (`make up`) may be running its stand-ins (LAPOR! and SIKS-NG too: its
    # pollers would read that stack's answers).
    env.setdefault("SLRT_NOTIFIER_SMS_GATEWAY_URL", "http://127.0.0.1:9")
    env.setdefault("SLRT_NOTIFIER_SMTP_PORT", "9")
    env.setdefault("SLRT_NOTIFIER_LAPOR_URL", "http://127.0.0.1:9")
    env.setdefault("SLRT_NOTIFIER_SIKS_NG_URL", "http://127.0.0.1:9")
    stack = ExitStack()
    urls: dict[str, str] = {}
    try:
        urls["intake"] = stack.enter_context(service_process("intake", env, log_dir))
        env["SLRT_NOTIFIER_INTAKE_PUBLIC_URL"] = urls["intake"]
        env.setdefault("SLRT_REGISTRY_INTAKE_URL", urls["intake"])
        for name in ("registry", "routing", "notifier"):
            urls[name] = stack.enter_context(service_process(name, env, log_dir))
    except BaseException:
        stack.close()
        raise
    return stack, Stack(urls, dev_issuer(log_dir), env)


def start_console(stack: ExitStack, services: Stack, log_dir: Path, **extra: str) -> str:
    """Start the staff console beside ``start_services``' services (on ``stack``: it stops with
    them); returns its URL. It trusts the same development issuer and calls their public APIs."""
    env = {
        **services.env,
        "SLRT_CONSOLE_INTAKE_URL": services.urls["intake"],
        "SLRT_CONSOLE_REGISTRY_URL": services.urls["registry"],
        **extra,
    }
    url = stack.enter_context(service_process("console", env, log_dir))
    services.urls["console"] = url
    return url


@contextmanager
def standin(
    name: str, log_dir: Path, *args: str, env: dict[str, str] | None = None
) -> Iterator[int]:
    """Start ``python -m slrt_dev.standins.<name>`` on a free port (``env`` added to ours);
    yields the port once it listens."""
    port = free_port()
    with (log_dir / f"standin-{name}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", f"slrt_dev.standins.{name}", "--port", str(port), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
        )
    try:
        deadline = time.monotonic() + 30
        while not port_in_use(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"stand-in {name} did not start")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
