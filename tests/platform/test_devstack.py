"""The local-stack code: idempotent start, data kept across restarts, clear errors."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from pathlib import Path

import asyncpg
import psutil
import pytest

from services.registry.domain.catalog import ProgramSpec
from slrt import secrets, temporal
from slrt.answer_links import SECRET_REF as ANSWER_LINKS
from slrt.settings import ConnectionSettings
from slrt_dev.demo import programs
from slrt_dev.demo.settings import DemoSettings
from slrt_dev.stack.cli import Stack
from slrt_dev.stack.config import REPO_ROOT, STANDINS, StackSettings
from slrt_dev.stack.kafka import Kafka
from slrt_dev.stack.postgres import Postgres
from slrt_dev.stack.process import (
    ManagedProcess,
    PidFile,
    StackError,
    free_port,
    spawn,
    terminate,
)
from slrt_dev.stack.secrets import ensure_secrets
from tests.support.harness import RealStack, postgres_folder, service_process


@pytest.mark.stack
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

        # A client holding its connection (as the services' pools do) does not keep the
        # server up: the stack stops it in fast mode, not smart mode, which would wait for it.
        pooled = await asyncpg.connect(pg.dsn)
        began = asyncio.get_running_loop().time()
        assert await asyncio.to_thread(pg.stop) is True
        assert asyncio.get_running_loop().time() - began < 20
        assert _gone(pid)
        assert pg.pid() is None
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await pooled.fetchval("SELECT 1")
        await pooled.close(timeout=1)

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


def _port_fields() -> list[str]:
    return [name for name in StackSettings.model_fields if name.endswith("_port")]


def test_every_port_of_the_stack_is_a_setting_so_two_stacks_run_side_by_side(
    tmp_path: Path,
) -> None:
    """A second stack with other ``SLRT_STACK_*`` ports and its own data folder shares no port,
    PID file or log with the first, and its services and demo are pointed at its own parts."""
    first = StackSettings(data_dir=tmp_path / "first")
    second = StackSettings(
        data_dir=tmp_path / "second",
        **{name: getattr(first, name) + 10_000 for name in _port_fields()},
    )

    def parts(settings: StackSettings) -> tuple[set[int], set[Path]]:
        stack = Stack(settings)
        managed = [stack.kafka, stack.temporal, *stack.services, *stack.standins]
        assert all(isinstance(p, ManagedProcess) for p in managed)
        ports = {stack.postgres.port} | {port for p in managed for port in p.ports.values()}
        files = {p.pid_file.path for p in managed} | {p.log_file for p in managed}
        return ports, files

    first_ports, first_files = parts(first)
    second_ports, second_files = parts(second)
    assert first_ports == {getattr(first, name) for name in _port_fields()}
    assert not first_ports & second_ports
    assert not first_files & second_files

    env = {service.name: service.env for service in Stack(second).services}
    assert env["notifier"]["SLRT_NOTIFIER_LAPOR_URL"] == f"http://127.0.0.1:{second.lapor_port}"
    assert env["notifier"]["SLRT_NOTIFIER_SMTP_PORT"] == str(second.smtp_sink_port)
    siks_ng = f"http://127.0.0.1:{second.siks_ng_port}"
    assert env["notifier"]["SLRT_NOTIFIER_SIKS_NG_URL"] == siks_ng
    assert env["notifier"]["SLRT_NOTIFIER_SIKS_NG_POLL_SECONDS"] == "3"
    assert env["notifier"]["SLRT_NOTIFIER_INTAKE_PUBLIC_URL"].endswith(f":{second.intake_port}")
    assert env["registry"]["SLRT_REGISTRY_INTAKE_URL"].endswith(f":{second.intake_port}")
    assert env["dashboard"]["SLRT_DASHBOARD_REGISTRY_URL"].endswith(f":{second.registry_port}")
    # The demo district runs the monitoring cycle (its rounds open, its managers are reminded).
    monitored = json.loads(env["dashboard"]["SLRT_DASHBOARD_MONITORING_AREAS"])
    assert monitored == [DemoSettings().district]
    assert env["console"]["SLRT_CONSOLE_INTAKE_URL"].endswith(f":{second.intake_port}")
    assert env["console"]["SLRT_CONSOLE_PUBLIC_URL"].endswith(f":{second.console_port}")
    standins = {s.module: s for s in Stack(second).standins}
    assert set(standins) == set(STANDINS)
    assert all(s.port == second.standin_port(name) for name, s in standins.items())
    # LAPOR! and SIKS-NG keep what was filed: the notifier's ids outlive a restart.
    for name in ("lapor", "siks_ng"):
        command = standins[name].command()
        kept = Path(command[command.index("--state-file") + 1])
        assert kept == second.data_dir / "standins" / f"{name}.json"


def test_the_stack_makes_its_secrets_once_and_points_services_and_receiver_at_them(
    tmp_path: Path,
) -> None:
    """``make up`` provisions the answer-link key, the demo webhook program's key and the Temporal
    payload key ring: every
    service reads them from the stack's secrets folder, and the program's system (the webhook
    receiver stand-in) holds the same webhook key."""
    settings = StackSettings(data_dir=tmp_path / "stack")
    folder = settings.secrets_dir
    assert ensure_secrets(folder) == [
        ANSWER_LINKS,
        programs.WEBHOOK_SECRET_REF,
        "temporal-payload-keys",
        "attachment-keys",
        "console-session",
    ]
    answer_key = secrets.resolve(ANSWER_LINKS, folder)
    payload_keys = temporal.payload_keys(ConnectionSettings(), folder)
    assert payload_keys.current == "local-1"
    assert len(payload_keys.keys["local-1"]) == 32
    webhook_keys = secrets.webhook_keys(programs.WEBHOOK_SECRET_REF, folder)
    assert len(answer_key) >= 32
    assert len(webhook_keys) == 1
    assert (folder / ANSWER_LINKS).stat().st_mode & 0o077 == 0
    assert ensure_secrets(folder) == []  # kept: links already sent stay valid
    assert secrets.resolve(ANSWER_LINKS, folder) == answer_key
    assert temporal.payload_keys(ConnectionSettings(), folder) == payload_keys  # histories readable

    stack = Stack(settings)
    assert all(s.env["SLRT_SECRETS_DIR"] == str(folder) for s in stack.services)
    (receiver,) = [s for s in stack.standins if s.module == "webhook_receiver"]
    secret_file = Path(receiver.command()[receiver.command().index("--secret-file") + 1])
    assert secret_file.read_text().split() == webhook_keys
    (sink,) = [s for s in stack.standins if s.module == "smtp_sink"]
    assert str(settings.smtp_sink_http_port) in sink.command()


def test_the_demo_programs_answer_by_webhook_to_the_receiver_and_by_answer_link() -> None:
    specs = programs.specs("3204", "http://127.0.0.1:8090", programs.WEBHOOK_SECRET_REF)
    webhook, link = specs[programs.WEBHOOK_PROGRAM], specs[programs.ANSWER_LINK_PROGRAM]
    assert webhook["callback_url"] == "http://127.0.0.1:8090/webhooks/referrals"
    assert webhook["webhook_secret_ref"] == programs.WEBHOOK_SECRET_REF
    assert "callback_url" not in link
    assert link["contact_email"] == programs.ANSWER_LINK_EMAIL
    assert {webhook["area"], link["area"]} == {"3204"}
    assert "Kabupaten Bandung" in webhook["name"]
    for spec in specs.values():  # what the registry's catalog API accepts
        ProgramSpec.model_validate(spec)


def test_the_demo_plays_at_the_stack_its_settings_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLRT_STACK_INTAKE_PORT", "9101")
    monkeypatch.setenv("SLRT_STACK_LAPOR_PORT", "9191")
    demo = DemoSettings()
    assert demo.intake_url == "http://127.0.0.1:9101"
    assert demo.lapor_url == "http://127.0.0.1:9191"
    assert demo.siks_ng_url == f"http://127.0.0.1:{StackSettings().siks_ng_port}"
    assert demo.registry_url == f"http://127.0.0.1:{StackSettings().registry_port}"
    assert demo.notifier_url == f"http://127.0.0.1:{StackSettings().notifier_port}"


def test_env_example_lists_every_stack_setting() -> None:
    listed = (REPO_ROOT / ".env.example").read_text()
    for name in StackSettings.model_fields:
        assert f"SLRT_STACK_{name.upper()}=" in listed, name


def test_a_unit_test_cannot_reach_a_server(request: pytest.FixtureRequest) -> None:
    """The split behind ``make test-fast``: this test asks for no server, so it is ``unit`` and
    every way to start or reach one fails it."""
    assert request.node.get_closest_marker("unit") is not None
    assert request.node.get_closest_marker("stack") is None
    folder = Path("/nonexistent")
    with pytest.raises(AssertionError, match="is a unit test"):
        RealStack(folder).postgres_dsn  # noqa: B018 (the property starts PostgreSQL)
    with pytest.raises(AssertionError, match="is a unit test"):
        Kafka(folder, folder, free_port(), free_port(), partitions=1).start()
    with pytest.raises(AssertionError, match="is a unit test"):
        asyncio.run(asyncpg.connect("postgresql://slrt@127.0.0.1:1/slrt"))
    with (
        pytest.raises(AssertionError, match="is a unit test"),
        service_process("intake", {}, folder),
    ):
        pass


@pytest.mark.stack
def test_a_stack_test_is_not_in_the_fast_run(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("unit") is None
