"""Background processes tracked by PID files, so ``down`` stops exactly what ``up`` started.

:class:`ManagedProcess` is the one shape of a part of the local stack that we spawn ourselves
(Kafka, the Temporal dev server, the services, the stand-ins): PID and log file under the data
folder, an idempotent ``start`` that refuses a taken port naming the setting to change, waits
until the part is ready and reports a crash during start-up with its log's tail, and a ``stop``
that ends exactly the recorded process. PostgreSQL is the exception: ``pg_ctl`` starts and stops
it and keeps its own ``postmaster.pid`` (``postgres.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil


class StackError(RuntimeError):
    """A problem the person running the stack can fix; the message says how."""


@dataclass(frozen=True)
class PidFile:
    path: Path

    def write(self, pid: int) -> None:
        created = psutil.Process(pid).create_time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"pid": pid, "created": created}))

    def process(self) -> psutil.Process | None:
        """The live process this file names, or None (also when the PID was reused)."""
        try:
            info = json.loads(self.path.read_text())
            proc = psutil.Process(int(info["pid"]))
            if abs(proc.create_time() - float(info["created"])) > 1.0:
                return None
            if proc.status() == psutil.STATUS_ZOMBIE:
                return None
            return proc
        except (FileNotFoundError, ValueError, KeyError, psutil.Error):
            return None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def can_bind(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on ``port`` now (also false while a client socket holds
    it as its local port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_ports_free(component: str, ports: Mapping[str, int]) -> None:
    for setting, port in ports.items():
        if port_in_use(port) or not can_bind(port):
            raise StackError(
                f"{component}: port {port} is already taken by another process; "
                f"stop it or choose another port with {setting}=<port>"
            )


def spawn(
    cmd: Sequence[str],
    *,
    log_file: Path,
    pid_file: PidFile,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> psutil.Process:
    """Start ``cmd`` in its own session, output appended to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        popen = subprocess.Popen(
            list(cmd),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    pid_file.write(popen.pid)
    return psutil.Process(popen.pid)


def wait_until(
    what: str,
    ready: Callable[[], bool],
    *,
    timeout: float,
    alive: Callable[[], bool] = lambda: True,
    log_file: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not alive():
            raise StackError(f"{what} exited during start-up{_log_hint(log_file)}")
        time.sleep(0.25)
    raise StackError(f"{what} did not become ready within {timeout:.0f}s{_log_hint(log_file)}")


def _log_hint(log_file: Path | None) -> str:
    if log_file is None or not log_file.exists():
        return ""
    tail = log_file.read_text(errors="replace").splitlines()[-15:]
    return f"; see {log_file}. Last lines:\n  " + "\n  ".join(tail)


def terminate(pid_file: PidFile, timeout: float = 30.0) -> bool:
    """SIGTERM the process (and its session), SIGKILL what is left after ``timeout``."""
    proc = pid_file.process()
    if proc is None:
        pid_file.remove()
        return False
    group = [proc, *proc.children(recursive=True)]
    for p in group:
        _signal(p, signal.SIGTERM)
    _, alive = psutil.wait_procs(group, timeout=timeout)
    for p in alive:
        _signal(p, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=5)
    pid_file.remove()
    return True


class ManagedProcess(ABC):
    """A server of the local stack in the background: subclasses give the command line and,
    where needed, the work before it (:meth:`prepare`) and the readiness probe (:meth:`ready`,
    by default: the first port accepts connections)."""

    start_timeout: float = 60.0
    stop_timeout: float = 30.0

    def __init__(self, name: str, data_dir: Path, ports: Mapping[str, int]) -> None:
        self.name = name
        self.ports = dict(ports)
        """The setting that chooses each port (named in the error when it is taken): port."""
        self.log_file = data_dir / "logs" / f"{name}.log"
        self.pid_file = PidFile(data_dir / "pids" / f"{name}.pid")
        self.env: dict[str, str] = {}
        """Added to this process's environment."""
        self.cwd: Path | None = None

    @property
    def port(self) -> int:
        return next(iter(self.ports.values()))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @abstractmethod
    def command(self) -> list[str]:
        """The command line that starts this process."""

    def prepare(self) -> None:  # noqa: B027 (an optional hook: most processes need nothing)
        """Work before the process starts (folders, configuration), after the port check."""

    def ready(self) -> bool:
        return port_in_use(self.port)

    def pid(self) -> int | None:
        proc = self.pid_file.process()
        return proc.pid if proc else None

    def start(self) -> bool:
        """Start if not running; returns False when it was already running."""
        if self.pid() is not None:
            return False
        ensure_ports_free(self.name, self.ports)
        self.prepare()
        proc = spawn(
            self.command(),
            log_file=self.log_file,
            pid_file=self.pid_file,
            env=self.env,
            cwd=self.cwd,
        )
        wait_until(
            self.name,
            self.ready,
            timeout=self.start_timeout,
            alive=proc.is_running,
            log_file=self.log_file,
        )
        return True

    def stop(self) -> bool:
        return terminate(self.pid_file, timeout=self.stop_timeout)


def _signal(proc: psutil.Process, sig: int) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.send_signal(sig)
