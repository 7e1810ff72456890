"""Apache Kafka 4 as one KRaft node (broker + controller), from its jars on Maven Central.

The jars are resolved once with ``mvn dependency:copy-dependencies`` from
``deploy/local/kafka/pom.xml`` into a cache folder keyed by the pom's checksum, then the broker
runs with the machine's Java (17 or newer) on a formatted storage folder that survives restarts.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from slrt_dev.stack.process import ManagedProcess, StackError

KAFKA_FILES = Path(__file__).resolve().parents[3] / "deploy" / "local" / "kafka"


def _require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise StackError(
            "kafka: Java 17+ is needed; install it (apt-get install openjdk-17-jre-headless)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    if not match or int(match[1]) < 17:
        raise StackError(f"kafka: Java 17+ is needed, found: {out.splitlines()[0] if out else '?'}")
    return java


def resolve_jars(cache: Path) -> Path:
    """The folder of broker jars, resolved with Maven on first use and cached."""
    pom = KAFKA_FILES / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
    libs = cache / f"kafka-{digest}"
    if (libs / ".complete").exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise StackError(
            "kafka: Maven is needed to fetch the broker's jars; install it (apt-get install maven)"
        )
    libs.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise StackError(
            "kafka: resolving the broker's jars failed:\n"
            f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    (libs / ".complete").write_text(digest)
    return libs


class Kafka(ManagedProcess):
    start_timeout = 90.0
    stop_timeout = 45.0

    def __init__(
        self,
        data_dir: Path,
        cache: Path,
        port: int,
        controller_port: int,
        *,
        partitions: int,
        heap: str = "512m",
    ) -> None:
        super().__init__(
            "kafka",
            data_dir,
            {"SLRT_STACK_KAFKA_PORT": port, "SLRT_STACK_KAFKA_CONTROLLER_PORT": controller_port},
        )
        self.root = data_dir / "kafka"
        self.log_dirs = self.root / "data"
        self.config = self.root / "server.properties"
        self.cache = cache
        self.controller_port = controller_port
        self.partitions = partitions
        self.heap = heap
        self._java = "java"
        self._classpath = ""

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def _log4j(self) -> str:
        return f"-Dlog4j2.configurationFile={KAFKA_FILES / 'log4j2.yaml'}"

    def start(self) -> bool:
        if self.pid() is None:
            self._java = _require_java()  # before the port check, as the first thing to fix
        return super().start()

    def prepare(self) -> None:
        self._classpath = f"{resolve_jars(self.cache)}/*"
        self._write_config()
        if not (self.log_dirs / "meta.properties").exists():
            cluster_id = _cluster_id()
            result = subprocess.run(
                [
                    self._java,
                    "-cp",
                    self._classpath,
                    self._log4j,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(self.config),
                    "--standalone",
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
            if result.returncode != 0:
                raise StackError(
                    "kafka: formatting storage failed: "
                    f"{result.stdout[-1500:]}{result.stderr[-1500:]}"
                )

    def command(self) -> list[str]:
        return [
            self._java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            # The JIT's C1 tier only: C2's compilations were half the broker's CPU in a
            # benchmark's or a test session's first minutes on 2 shared cores (measured in
            # docs/benchmarks.md, "Complaint path"); a development broker never runs long
            # enough under load for C2's faster code to pay that back.
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            self._log4j,
            "-cp",
            self._classpath,
            "kafka.Kafka",
            str(self.config),
        ]

    def _write_config(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            "\n".join(
                [
                    "# Written by slrt_dev.stack at every start; edit StackSettings, not this.",
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    f"log.dirs={self.log_dirs}",
                    f"num.partitions={self.partitions}",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "log.retention.hours=168",
                    "",
                ]
            )
        )


def _cluster_id() -> str:
    import base64

    # Like Kafka's own Uuid.randomUuid: an id starting with "-" would be read as an option.
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not found.startswith("-"):
            return found
