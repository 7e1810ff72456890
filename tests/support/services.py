"""Run a service as its own process against the test stack, the way the local stack does."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from slrt.auth.dev_issuer import DevIssuer
from slrt.auth.tokens import AuthSettings
from slrt.devstack.config import REPO_ROOT
from slrt.devstack.process import free_port


def dev_issuer(log_dir: Path) -> DevIssuer:
    """The development issuer whose tokens services started by ``service_process`` accept."""
    settings = AuthSettings()
    issuer = DevIssuer(log_dir / "issuer", settings.issuer, settings.audience)
    issuer.ensure_keys()
    return issuer


@contextmanager
def service_process(name: str, env: Mapping[str, str], log_dir: Path) -> Iterator[str]:
    """Start ``python -m services.<name>``; yields its base URL once ``/healthz`` answers.

    Tokens: unless ``env`` names a JWKS, the service trusts a development issuer in
    ``log_dir/issuer`` (mint tokens with ``dev_issuer(log_dir)``).
    """
    port = free_port()
    issuer = dev_issuer(log_dir)
    env = {"SLRT_AUTH_JWKS_FILE": str(issuer.jwks_file), "SLRT_AUTH_ISSUER": issuer.issuer, **env}
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
