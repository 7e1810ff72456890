"""The SLRT services as background processes (``python -m services.<name>``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx

from slrt_dev.stack.config import REPO_ROOT, StackSettings
from slrt_dev.stack.process import ManagedProcess

SERVICE_NAMES = ("registry", "notifier", "routing", "intake", "dashboard", "console")


class ServiceProcess(ManagedProcess):
    start_timeout = 120.0

    def __init__(self, name: str, stack: StackSettings) -> None:
        port: int = getattr(stack, f"{name}_port")
        super().__init__(name, stack.data_dir, {f"SLRT_STACK_{name.upper()}_PORT": port})
        self.cwd = REPO_ROOT
        self.env = {
            **stack.connection_env(),
            f"SLRT_{name.upper()}_PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.update(peer_env(stack).get(name, {}))
        if name == "routing":
            self.env["SLRT_ROUTING_SLA_CLOCK_SPEED"] = str(stack.sla_clock_speed)

    def command(self) -> list[str]:
        return [sys.executable, "-m", f"services.{self.name}"]

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


def peer_env(stack: StackSettings) -> dict[str, dict[str, str]]:
    """Where each service finds itself and the others on this stack (their own defaults name
    the default ports; a second stack on other ports needs these)."""

    from slrt_dev.demo.settings import DemoSettings

    def url(port: int) -> str:
        return f"http://127.0.0.1:{port}"

    return {
        "intake": {
            "SLRT_INTAKE_PUBLIC_BASE_URL": url(stack.intake_port),
            # Attachments in the local folder store, sealed (the key ring in secrets/).
            "SLRT_INTAKE_ATTACHMENT_DIR": str(stack.data_dir / "attachments"),
        },
        "notifier": {"SLRT_NOTIFIER_INTAKE_PUBLIC_URL": url(stack.intake_port)},
        "registry": {
            "SLRT_REGISTRY_INTAKE_URL": url(stack.intake_port),
            "SLRT_REGISTRY_PUBLIC_URL": url(stack.registry_port),
            "SLRT_REGISTRY_ATTACHMENT_DIR": str(stack.data_dir / "registry-attachments"),
        },
        "dashboard": {
            "SLRT_DASHBOARD_REGISTRY_URL": url(stack.registry_port),
            "SLRT_DASHBOARD_PUBLIC_URL": url(stack.dashboard_port),
            "SLRT_DASHBOARD_INTAKE_PUBLIC_URL": url(stack.intake_port),
            # The demo district runs the monitoring cycle: its last quarter's questionnaire
            # round opens at start, and its reminders (`manager:<district>`) reach the demo
            # directory's manager (`demo-manager-<district>`) in their daily digest.
            "SLRT_DASHBOARD_MONITORING_AREAS": json.dumps([DemoSettings().district]),
        },
        "console": {
            "SLRT_CONSOLE_INTAKE_URL": url(stack.intake_port),
            "SLRT_CONSOLE_REGISTRY_URL": url(stack.registry_port),
            "SLRT_CONSOLE_PUBLIC_URL": url(stack.console_port),
        },
    }


def service_processes(stack: StackSettings) -> list[ServiceProcess]:
    return [ServiceProcess(name, stack) for name in SERVICE_NAMES]


def log_dir(stack: StackSettings) -> Path:
    return stack.data_dir / "logs"
