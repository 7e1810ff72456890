"""A real S3-compatible object store on this machine: versitygw (Versity S3 Gateway, Apache-2.0,
Go) with its POSIX backend, objects as files under a folder.

The binary is built once from the Go module proxy by ``scripts/versitygw.sh`` (the way
``scripts/helm.sh`` builds helm) and cached in ``~/.cache/slrt/versitygw-<version>``; this module
asks that script for its path, so the first test that needs the store builds it (about a
minute and a half on 2 cores) and every later one reuses it. The tests' harness
(``slrt_dev.sandbox.infra.RealStack.s3``) starts one on a free loopback port per test session.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from slrt_dev.stack.config import REPO_ROOT
from slrt_dev.stack.process import free_port, port_in_use

SCRIPT = REPO_ROOT / "scripts" / "versitygw.sh"


def versitygw_binary() -> Path:
    """The cached versitygw, built first if missing (``scripts/versitygw.sh path``)."""
    found = subprocess.run(
        ["bash", str(SCRIPT), "path"], check=True, capture_output=True, text=True
    ).stdout.strip()
    return Path(found)


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"


class VersityGateway:
    """One versitygw process serving ``folder`` (each top-level directory is a bucket)."""

    def __init__(
        self,
        folder: Path,
        port: int | None = None,
        access_key: str = "slrt-test-access",
        secret_key: str = "slrt-test-secret-0123456789",  # noqa: S107 (loopback test store)
    ) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.endpoint = S3Endpoint(f"http://127.0.0.1:{self.port}", access_key, secret_key)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> S3Endpoint:
        binary = versitygw_binary()
        data = self.folder / "data"
        # Object metadata in a sidecar folder: no dependence on the filesystem's xattrs.
        meta = self.folder / "meta"
        data.mkdir(parents=True, exist_ok=True)
        meta.mkdir(parents=True, exist_ok=True)
        log = (self.folder / "versitygw.log").open("wb")
        self._proc = subprocess.Popen(
            [
                str(binary),
                "--access",
                self.endpoint.access_key,
                "--secret",
                self.endpoint.secret_key,
                "--port",
                f"127.0.0.1:{self.port}",
                "--quiet",
                "posix",
                "--sidecar",
                str(meta),
                str(data),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while not port_in_use(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                tail = (self.folder / "versitygw.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"versitygw did not start: {tail}")
            time.sleep(0.1)
        return self.endpoint

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None
