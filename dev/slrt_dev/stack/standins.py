"""The notifier's stand-ins for the outside world (LAPOR!, SIKS-NG, the SMS gateway, the SMTP
relay, a program manager's webhook receiver) as parts of the local stack, on the ports the
notifier's settings expect by default. Local stack only: production talks to the real ones."""

from __future__ import annotations

import sys

from slrt_dev.stack.config import REPO_ROOT, StackSettings
from slrt_dev.stack.process import (
    PidFile,
    ensure_ports_free,
    port_in_use,
    spawn,
    terminate,
    wait_until,
)

STANDIN_PORTS = {
    "lapor": 8091,
    "siks_ng": 8092,
    "sms_gateway": 8093,
    "smtp_sink": 8025,
    "webhook_receiver": 8090,
}
"""The notifier's defaults (``SLRT_NOTIFIER_LAPOR_URL`` …) point at these."""


class StandinProcess:
    def __init__(self, name: str, stack: StackSettings) -> None:
        self.name = f"standin-{name}"
        self.module = name
        self.port = STANDIN_PORTS[name]
        self.log_file = stack.data_dir / "logs" / f"{self.name}.log"
        self.pid_file = PidFile(stack.data_dir / "pids" / f"{self.name}.pid")
        self.args: list[str] = {
            "smtp_sink": ["--folder", str(stack.data_dir / "mail")],
            # LAPOR! keeps its reports: the notifier's tracking ids outlive a restart.
            "lapor": ["--state-file", str(stack.data_dir / "standins" / "lapor.json")],
        }.get(name, [])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pid(self) -> int | None:
        proc = self.pid_file.process()
        return proc.pid if proc else None

    def start(self) -> bool:
        if self.pid() is not None:
            return False
        ensure_ports_free(self.name, {f"port {self.port} (stand-in {self.module})": self.port})
        proc = spawn(
            [
                sys.executable,
                "-m",
                f"slrt_dev.standins.{self.module}",
                "--port",
                str(self.port),
                *self.args,
            ],
            log_file=self.log_file,
            pid_file=self.pid_file,
            env={"PYTHONUNBUFFERED": "1"},
            cwd=REPO_ROOT,
        )
        wait_until(
            self.name,
            lambda: port_in_use(self.port),
            timeout=30,
            alive=proc.is_running,
            log_file=self.log_file,
        )
        return True

    def stop(self) -> bool:
        return terminate(self.pid_file, timeout=10)


def standin_processes(stack: StackSettings) -> list[StandinProcess]:
    return [StandinProcess(name, stack) for name in STANDIN_PORTS]


def notifier_env() -> dict[str, str]:
    """What the notifier needs to reach the stand-ins; LAPOR! is polled every few seconds so
    that the demo's agencies' answers arrive while one watches."""
    return {
        "SLRT_NOTIFIER_LAPOR_URL": f"http://127.0.0.1:{STANDIN_PORTS['lapor']}",
        "SLRT_NOTIFIER_LAPOR_POLL_SECONDS": "3",
        "SLRT_NOTIFIER_SIKS_NG_URL": f"http://127.0.0.1:{STANDIN_PORTS['siks_ng']}",
        "SLRT_NOTIFIER_SMS_GATEWAY_URL": f"http://127.0.0.1:{STANDIN_PORTS['sms_gateway']}",
        "SLRT_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "SLRT_NOTIFIER_SMTP_PORT": str(STANDIN_PORTS["smtp_sink"]),
    }


def registry_env() -> dict[str, str]:
    """The webhook receiver stand-in listens on loopback over plain http: the catalog accepts a
    program whose callback URL points at it only from these hosts."""
    return {"SLRT_REGISTRY_PLAIN_HTTP_CALLBACK_HOSTS": '["127.0.0.1","localhost"]'}
