"""The local-stack code: idempotent start, data kept across restarts, clear errors."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import asyncpg
import psutil
import pytest

from slrt_dev.stack.config import StackSettings
from slrt_dev.stack.kafka import Kafka
from slrt_dev.stack.postgres import Postgres
from slrt_dev.stack.process import PidFile, StackError, free_port, spawn, terminate
from tests.support.harness import postgres_folder


async def test_postgres_restarts_with_its_data_and_a_second_start_is_a_no_op() -> None:
    folder = postgres_folder()
    pg = Postgres(
        folder,
        free_port(),
        database="slrt",
        user="slrt",
        os_user=StackSettings().postgres_os_user,
    )
    try:
        assert await asyncio.to_thread(pg.start) is True
        assert await asyncio.to_thread(pg.start) is False
        await pg.ensure_database()
        conn = await asyncpg.connect(pg.dsn)
        await conn.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('masih ada')")
        await conn.close()
        pid = pg.pid()
        assert pid is not None

        assert await asyncio.to_thread(pg.stop) is True
        assert _gone(pid)
        assert pg.pid() is None

        assert await asyncio.to_thread(pg.start) is True
        conn = await asyncpg.connect(pg.dsn)
        assert await conn.fetchval("SELECT note FROM kept") == "masih ada"
        await conn.close()
    finally:
        await asyncio.to_thread(pg.stop)
        shutil.rmtree(folder, ignore_errors=True)


def _gone(pid: int) -> bool:
    """Exited (a zombie waiting for a reaper that is not us counts as exited)."""
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def test_a_taken_port_is_refused_with_the_setting_to_change(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        kafka = Kafka(tmp_path, tmp_path / "cache", taken, free_port(), partitions=1)
        with pytest.raises(
            StackError, match=f"port {taken} is already taken.*SLRT_STACK_KAFKA_PORT"
        ):
            kafka.start()


def test_stop_ends_exactly_the_recorded_process_and_ignores_a_reused_pid(tmp_path: Path) -> None:
    pid_file = PidFile(tmp_path / "sleeper.pid")
    proc = spawn(["sleep", "300"], log_file=tmp_path / "sleeper.log", pid_file=pid_file)
    assert pid_file.process() is not None
    assert terminate(pid_file, timeout=10) is True
    assert not proc.is_running()
    assert not pid_file.path.exists()

    # A PID file whose process start time does not match is not ours: nothing is signalled.
    bystander = spawn(["sleep", "300"], log_file=tmp_path / "other.log", pid_file=pid_file)
    pid_file.path.write_text(f'{{"pid": {bystander.pid}, "created": 1.0}}')
    try:
        assert pid_file.process() is None
        assert terminate(pid_file) is False
        assert bystander.is_running()
    finally:
        bystander.kill()
        bystander.wait()
