"""A service serves on the event loop uvicorn is configured with (uvloop, installed with
``uvicorn[standard]``) whether or not it has a management port: the Helm chart sets one, and
serving both servers used to fall back to the standard library's loop there (slower per
request than what the benchmarks measure without one)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from slrt_dev.stack.process import free_port

SERVICE = """
import asyncio, os, signal, sys

from slrt.service import Runtime, build_app, run
from slrt.settings import ServiceSettings


async def on_start(runtime: Runtime[ServiceSettings]) -> None:
    print("loop:", type(asyncio.get_running_loop()).__module__, flush=True)
    # Started: stop the way Kubernetes does.
    asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGTERM)


management = None if sys.argv[2] == "-" else int(sys.argv[2])
settings = ServiceSettings(port=int(sys.argv[1]), management_port=management)
app = build_app("loopcheck", settings, title="t", description="d", uses=(), on_start=on_start)
run("loopcheck", settings, app)
"""


@pytest.mark.parametrize("with_management_port", [False, True])
def test_the_service_serves_on_uvicorns_configured_loop(with_management_port: bool) -> None:
    management = str(free_port()) if with_management_port else "-"
    done = subprocess.run(
        [sys.executable, "-c", SERVICE, str(free_port()), management],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("loop:")]
    assert lines == ["loop: uvloop"], (done.returncode, done.stdout, done.stderr[-2000:])
