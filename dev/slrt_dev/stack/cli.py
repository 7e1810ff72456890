"""``slrt-stack up | down | status | env`` — the local stack behind ``make up`` / ``make down``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from slrt.admin import create_topics
from slrt_dev.issuer import default_issuer
from slrt_dev.stack.config import StackSettings
from slrt_dev.stack.kafka import Kafka
from slrt_dev.stack.postgres import Postgres
from slrt_dev.stack.process import StackError
from slrt_dev.stack.secrets import ensure_secrets
from slrt_dev.stack.services import ServiceProcess, service_processes
from slrt_dev.stack.standins import (
    StandinProcess,
    contacts_file,
    intake_env,
    notifier_env,
    notifier_service_env,
    registry_env,
    registry_service_env,
    standin_processes,
    write_contacts,
)
from slrt_dev.stack.temporal import TemporalDevServer

console = Console(width=max(Console().width, 120))


class Stack:
    def __init__(self, settings: StackSettings) -> None:
        s = settings
        self.settings = s
        self.postgres = Postgres(
            s.data_dir,
            s.postgres_port,
            database=s.postgres_database,
            user=s.postgres_user,
            os_user=s.postgres_os_user,
        )
        self.kafka = Kafka(
            s.data_dir,
            s.cache,
            s.kafka_port,
            s.kafka_controller_port,
            partitions=s.kafka_partitions,
            heap=s.kafka_heap,
        )
        self.temporal = TemporalDevServer(
            s.data_dir, s.temporal_port, s.temporal_ui_port, s.temporal_namespace
        )
        self.services: list[ServiceProcess] = service_processes(s)
        self.standins: list[StandinProcess] = standin_processes(s)
        for service in self.services:
            if service.name == "notifier":
                service.env.update(notifier_env(s))
            elif service.name == "registry":
                service.env.update(registry_env())
            elif service.name == "intake":
                service.env.update(intake_env())

    def up(self, *, with_services: bool = True, with_demo: bool = True) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        default_issuer().ensure_keys()
        self._step("postgres", self.postgres.start)
        asyncio.run(self.postgres.ensure_database())
        self._step("kafka", self.kafka.start)
        created = asyncio.run(
            create_topics(self.settings.connections(), partitions=self.settings.kafka_partitions)
        )
        if created:
            console.print(f"  kafka: created {len(created)} topics")
        self._step("temporal", self.temporal.start)
        if with_services:
            made = ensure_secrets(self.settings.secrets_dir)
            if made:
                console.print(f"  secrets: made {', '.join(made)} in {self.settings.secrets_dir}")
            for standin in self.standins:
                self._step(standin.name, standin.start)
            from slrt_dev.demo.settings import DemoSettings

            write_contacts(contacts_file(self.settings), DemoSettings().district)
            for service in self.services:
                if service.name == "notifier":
                    service.env.update(notifier_service_env())
                elif service.name == "registry":
                    service.env.update(registry_service_env())
                self._step(service.name, service.start)
            if with_demo:
                self._load_demo()

    def _load_demo(self) -> None:
        """The demo district, once: skipped when the registry already holds its import; and
        its own programs in the catalog (a webhook and an answer-link destination), written
        again each time (an unchanged entry changes nothing), and its program information
        (FAQ, programs' information and criteria; only what is missing is written)."""
        from slrt_dev.demo import load as demo_load
        from slrt_dev.demo import program_info, programs, staff
        from slrt_dev.demo.settings import DemoSettings

        s = self.settings
        demo = DemoSettings(data_dir=s.data_dir / "demo")
        statuses = programs.seed(
            f"http://127.0.0.1:{s.registry_port}",
            default_issuer(),
            demo.district,
            f"http://127.0.0.1:{s.webhook_receiver_port}",
        )
        console.print(
            f"  demo programs: {', '.join(statuses)} "
            f"({'added' if 201 in statuses.values() else 'in the catalog'})"
        )
        information = program_info.seed(
            f"http://127.0.0.1:{s.registry_port}", default_issuer(), demo.district
        )
        console.print(
            f"  demo program information: {', '.join(information)} "
            f"({'added' if 201 in information.values() else 'there'})"
        )
        people = staff.seed(f"http://127.0.0.1:{s.registry_port}", default_issuer(), demo.district)
        console.print(
            f"  demo staff directory: {people['persons']} persons, {people['villages']} villages "
            f"assigned, {people['supervisions']} supervisions"
            if people["persons"]
            else "  demo staff directory: there"
        )
        if asyncio.run(demo_load.loaded(s.connections(), demo)):
            console.print(f"  demo district {demo.district}: already loaded")
            return
        began = time.monotonic()
        demo_load.load(demo, env={**os.environ, **s.connection_env()})
        console.print(f"  demo district {demo.district}: loaded ({time.monotonic() - began:.1f}s)")

    def down(self) -> None:
        for service in reversed(self.services):
            self._stop(service.name, service.stop)
        for standin in reversed(self.standins):
            self._stop(standin.name, standin.stop)
        self._stop("temporal", self.temporal.stop)
        self._stop("kafka", self.kafka.stop)
        self._stop("postgres", self.postgres.stop)

    def _step(self, name: str, start: object) -> None:
        began = time.monotonic()
        started = start()  # type: ignore[operator]
        took = time.monotonic() - began
        console.print(
            f"  {name}: {'started' if started else 'already running'}"
            f"{f' ({took:.1f}s)' if started else ''}"
        )

    @staticmethod
    def _stop(name: str, stop: object) -> None:
        stopped = stop()  # type: ignore[operator]
        console.print(f"  {name}: {'stopped' if stopped else 'was not running'}")

    def status_table(self) -> Table:
        s = self.settings
        table = Table(title=f"SLRT local stack — data in {s.data_dir}")
        for column in ("part", "state", "where", "log"):
            table.add_column(column, overflow="fold")
        logs = _relative(s.data_dir / "logs")

        def state(pid: int | None) -> str:
            return f"[green]running[/] (pid {pid})" if pid else "[red]stopped[/]"

        table.add_row(
            "postgres", state(self.postgres.pid()), s.postgres_dsn, str(logs / "postgres.log")
        )
        table.add_row("kafka", state(self.kafka.pid()), s.kafka_bootstrap, str(logs / "kafka.log"))
        table.add_row(
            "temporal",
            state(self.temporal.pid()),
            f"{s.temporal_address} (namespace {s.temporal_namespace})\n"
            f"UI http://127.0.0.1:{s.temporal_ui_port}",
            str(logs / "temporal.log"),
        )
        for svc in self.services:
            where = {"routing": f"{svc.url}/readyz", "console": f"{svc.url}/"}.get(
                svc.name, f"{svc.url}/docs"
            )
            table.add_row(svc.name, state(svc.pid()), where, str(_relative(svc.log_file)))
        for standin in self.standins:
            table.add_row(
                standin.name, state(standin.pid()), standin.url, str(_relative(standin.log_file))
            )
        return table


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slrt-stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start what is not running (idempotent)")
    up.add_argument("--infra-only", action="store_true", help="only Postgres, Kafka and Temporal")
    up.add_argument("--no-demo", action="store_true", help="do not load the demo district")
    sub.add_parser("down", help="stop what `up` started; data stays")
    sub.add_parser("status", help="show what runs where")
    sub.add_parser("env", help="print the SLRT_* variables that point at this stack")
    args = parser.parse_args(argv)
    stack = Stack(StackSettings())
    try:
        if args.command == "up":
            console.print("[bold]Starting the SLRT local stack[/]")
            stack.up(with_services=not args.infra_only, with_demo=not args.no_demo)
            console.print(stack.status_table())
            if not args.infra_only:
                console.print(
                    f"Staff console: http://127.0.0.1:{stack.settings.console_port}/ (log in with "
                    "a token: .venv/bin/slrt-dev token --role front_office --area 3204; README, "
                    '"Logging in to the staff console")'
                )
            if not args.infra_only and stack.settings.sla_clock_speed != 1.0:
                console.print(
                    f"SLA clocks run {stack.settings.sla_clock_speed:,.0f}× real time (a calendar "
                    f"day passes in {86_400 / stack.settings.sla_clock_speed:.1f} s); "
                    "SLRT_STACK_SLA_CLOCK_SPEED=1 keeps real time."
                )
        elif args.command == "down":
            console.print("[bold]Stopping the SLRT local stack[/] (data stays)")
            stack.down()
        elif args.command == "status":
            console.print(stack.status_table())
        else:
            for key, value in stack.settings.connection_env().items():
                print(f"export {key}={value}")
    except StackError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
