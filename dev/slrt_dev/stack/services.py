"""The four SLRT services as background processes (``python -m services.<name>``)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx

from slrt_dev.stack.config import REPO_ROOT, StackSettings
from slrt_dev.stack.process import PidFile, ensure_ports_free, spawn, terminate, wait_until

SERVICE_NAMES = ("registry", "notifier", "routing", "intake", "dashboard")


class ServiceProcess:
    def __init__(self, name: str, stack: StackSettings) -> None:
        self.name = name
        self.port: int = getattr(stack, f"{name}_port")
        self.log_file = stack.data_dir / "logs" / f"{name}.log"
        self.pid_file = PidFile(stack.data_dir / "pids" / f"{name}.pid")
        self.env = {
            **stack.connection_env(),
            f"SLRT_{name.upper()}_PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        if name == "routing":
            self.env["SLRT_ROUTING_SLA_CLOCK_SPEED"] = str(stack.sla_clock_speed)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pid(self) -> int | None:
        proc = self.pid_file.process()
        return proc.pid if proc else None

    def start(self) -> bool:
        if self.pid() is not None:
            return False
        ensure_ports_free(self.name, {f"SLRT_STACK_{self.name.upper()}_PORT": self.port})
        proc = spawn(
            [sys.executable, "-m", f"services.{self.name}"],
            log_file=self.log_file,
            pid_file=self.pid_file,
            env=self.env,
            cwd=REPO_ROOT,
        )
        wait_until(
            self.name, self.ready, timeout=120, alive=proc.is_running, log_file=self.log_file
        )
        return True

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> bool:
        return terminate(self.pid_file, timeout=30)


def service_processes(stack: StackSettings) -> list[ServiceProcess]:
    return [ServiceProcess(name, stack) for name in SERVICE_NAMES]


def log_dir(stack: StackSettings) -> Path:
    return stack.data_dir / "logs"
