"""The chart against a real Kubernetes API server: etcd and kube-apiserver on loopback.

Run by ``scripts/kube.sh check`` (``make kube``, part of ``make test``), which builds the two
binaries first. What it proves, none of which helm's client-side checks or kubernetes-validate do:

1. **Every values set the chart ships is accepted by the server**: each rendered object, hooks and
   the ``helm test`` pod included, is created with ``dryRun=All`` and ``fieldValidation=Strict``
   (unknown or duplicate fields are errors) in a namespace that *enforces* the ``restricted`` Pod
   Security level. Pod Security only warns about a Deployment's or a Job's pod template, so every
   such template is also dry-run as a Pod (enforced) once the release's ServiceAccounts exist; a
   warning from the server fails the stage like an error does.
2. **A release's life cycle works**: a real ``helm install --no-hooks`` (helm checks the chart's
   ``kubeVersion`` against the server's version), ``helm upgrade`` with changed values (the
   changes are read back from the server), ``helm rollback`` to the first revision (read back
   too) and ``helm uninstall``, after which the namespace holds nothing of any kind.

Only the API server runs (no controller manager, scheduler or kubelet): Deployments are stored
but start no pods, so the install does not ``--wait``, and the hook Jobs are proved by the dry
run rather than run. Every port is a free loopback port; everything lives in a temporary
directory and is stopped at the end.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import datetime
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.deploy.chart import SERVICES

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "slrt"
RELEASE = "slrt"

Manifest = dict[str, Any]

# The values sets the chart ships, as helm arguments (relative to the chart).
_SKAFFOLD_DIGEST = "sha256:" + "5e" * 32
VALUES_SETS: dict[str, list[str]] = {
    "minimal": ["-f", "ci/minimal-values.yaml"],
    "production": ["-f", "examples/production-values.yaml"],
    "dev": ["-f", "examples/dev-values.yaml"],
    "existing-secrets": ["-f", "ci/minimal-values.yaml", "-f", "ci/existing-secrets-values.yaml"],
    "tls": ["-f", "ci/minimal-values.yaml", "-f", "ci/tls-values.yaml"],
    "digest": ["-f", "ci/minimal-values.yaml", "-f", "ci/digest-values.yaml"],
    "no-autoscaling": ["-f", "ci/minimal-values.yaml", "-f", "ci/no-autoscaling-values.yaml"],
    # skaffold's base profile: production values and the image it just pushed, as tag@digest.
    "skaffold-base": [
        "-f",
        "examples/production-values.yaml",
        "--set",
        "image.repository=registry.example.go.id/slrt/slrt",
        "--set",
        f"image.tag=6f1d2c3@{_SKAFFOLD_DIGEST}",
    ],
}
# Kinds the server has no built-in type for (CRDs of other projects); tests/deploy checks them.
CUSTOM_KINDS = {"ServiceMonitor"}
# What a restricted namespace enforces.
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
}


class StageError(Exception):
    """The server refused something the chart renders, or a release step went wrong."""


def log(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    token: str
    ca_file: Path
    kubeconfig: Path
    version: str

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token}"},
            verify=str(self.ca_file),
            timeout=30,
        )


def _write_service_account_keys(directory: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = directory / "sa.key"
    public = directory / "sa.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _wait_ready(
    process: subprocess.Popen[bytes], check: Any, what: str, log_file: Path, timeout: float
) -> None:
    """Poll ``check()`` until it is true; fail early when the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StageError(f"{what} exited ({process.returncode}):\n{_tail(log_file)}")
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return
        time.sleep(0.2)
    raise StageError(f"{what} not ready within {timeout:.0f}s:\n{_tail(log_file)}")


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_server(bin_dir: Path, workdir: Path) -> Iterator[Server]:
    """etcd and kube-apiserver on free loopback ports; an admin token; a kubeconfig for helm."""
    etcd_client, etcd_peer, secure_port = free_port(), free_port(), free_port()
    etcd_log, apiserver_log = workdir / "etcd.log", workdir / "kube-apiserver.log"
    etcd_url = f"http://127.0.0.1:{etcd_client}"
    peer_url = f"http://127.0.0.1:{etcd_peer}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with etcd_log.open("wb") as out:
            etcd = subprocess.Popen(
                [
                    str(bin_dir / "etcd"),
                    "--name=slrt",
                    f"--data-dir={workdir / 'etcd'}",
                    f"--listen-client-urls={etcd_url}",
                    f"--advertise-client-urls={etcd_url}",
                    f"--listen-peer-urls={peer_url}",
                    f"--initial-advertise-peer-urls={peer_url}",
                    f"--initial-cluster=slrt={peer_url}",
                    "--listen-metrics-urls=",
                    "--unsafe-no-fsync",
                    "--log-level=warn",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(etcd)
        _wait_ready(
            etcd,
            lambda: httpx.get(f"{etcd_url}/health", timeout=2).json().get("health") == "true",
            "etcd",
            etcd_log,
            60,
        )

        token = secrets.token_urlsafe(32)
        tokens = workdir / "tokens.csv"
        tokens.write_text(f'{token},slrt-admin,slrt-admin,"system:masters"\n')
        tokens.chmod(0o600)
        sa_key, sa_pub = _write_service_account_keys(workdir)
        cert_dir = workdir / "certs"
        with apiserver_log.open("wb") as out:
            apiserver = subprocess.Popen(
                [
                    str(bin_dir / "kube-apiserver"),
                    f"--etcd-servers={etcd_url}",
                    "--bind-address=127.0.0.1",
                    "--advertise-address=127.0.0.1",
                    f"--secure-port={secure_port}",
                    f"--cert-dir={cert_dir}",
                    f"--token-auth-file={tokens}",
                    "--authorization-mode=RBAC",
                    f"--service-account-key-file={sa_pub}",
                    f"--service-account-signing-key-file={sa_key}",
                    "--service-account-issuer=https://kubernetes.default.svc",
                    "--service-cluster-ip-range=10.96.0.0/16",
                    # The server's own Endpoints would name a loopback address: not reconciled.
                    "--endpoint-reconciler-type=none",
                    "--allow-privileged=false",
                    "--v=0",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        processes.append(apiserver)
        url = f"https://127.0.0.1:{secure_port}"
        ca_file = cert_dir / "apiserver.crt"

        def ready() -> bool:
            if not ca_file.exists():
                return False
            answer = httpx.get(
                f"{url}/readyz",
                headers={"Authorization": f"Bearer {token}"},
                verify=str(ca_file),
                timeout=5,
            )
            return answer.status_code == 200

        _wait_ready(apiserver, ready, "kube-apiserver", apiserver_log, 120)
        version = httpx.get(
            f"{url}/version",
            headers={"Authorization": f"Bearer {token}"},
            verify=str(ca_file),
            timeout=5,
        ).json()["gitVersion"]
        kubeconfig = workdir / "kubeconfig"
        kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "slrt-stage",
                            "cluster": {
                                "server": url,
                                "certificate-authority-data": base64.b64encode(
                                    ca_file.read_bytes()
                                ).decode(),
                            },
                        }
                    ],
                    "users": [{"name": "slrt-admin", "user": {"token": token}}],
                    "contexts": [
                        {
                            "name": "slrt-stage",
                            "context": {"cluster": "slrt-stage", "user": "slrt-admin"},
                        }
                    ],
                    "current-context": "slrt-stage",
                }
            )
        )
        kubeconfig.chmod(0o600)
        yield Server(url, token, ca_file, kubeconfig, version)
    finally:
        for process in reversed(processes):
            _stop(process)


# --- the API ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    path: str  # /api/v1 or /apis/<group>/<version>
    plural: str
    namespaced: bool

    def collection(self, namespace: str) -> str:
        if self.namespaced:
            return f"{self.path}/namespaces/{namespace}/{self.plural}"
        return f"{self.path}/{self.plural}"


class Api:
    """The few calls the stage makes, with discovery of kinds to resource paths."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._resources: dict[tuple[str, str], Resource] = {}

    def resource(self, api_version: str, kind: str) -> Resource | None:
        key = (api_version, kind)
        if key not in self._resources:
            path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            answer = self.client.get(path)
            if answer.status_code == 404:
                return None
            answer.raise_for_status()
            for item in answer.json()["resources"]:
                if "/" not in item["name"]:
                    self._resources[(api_version, item["kind"])] = Resource(
                        path, item["name"], item["namespaced"]
                    )
        return self._resources.get(key)

    def create(self, manifest: Manifest, namespace: str, *, dry_run: bool) -> list[str]:
        """Create ``manifest``; the server's warnings. Raises StageError when it refuses."""
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        if resource is None:
            raise StageError(f"the server has no {manifest['apiVersion']} {manifest['kind']}")
        params = {"fieldValidation": "Strict"}
        if dry_run:
            params["dryRun"] = "All"
        answer = self.client.post(resource.collection(namespace), params=params, json=manifest)
        if answer.status_code >= 300:
            try:
                message = answer.json().get("message", answer.text)
            except ValueError:
                message = answer.text
            raise StageError(
                f"{manifest['kind']}/{manifest['metadata']['name']}: {answer.status_code} {message}"
            )
        return [_warning_text(w) for w in answer.headers.get_list("warning")]

    def get(self, path: str) -> Manifest:
        answer = self.client.get(path)
        answer.raise_for_status()
        found: Manifest = answer.json()
        return found

    def exists(self, path: str) -> bool:
        answer = self.client.get(path)
        if answer.status_code == 404:
            return False
        answer.raise_for_status()
        return True

    def create_namespace(self, name: str, labels: dict[str, str]) -> None:
        manifest = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels},
        }
        self.create(manifest, "", dry_run=False)

    def delete_namespace_contents(self, namespace: str) -> None:
        for resource in self.namespaced_listable():
            path = resource.collection(namespace)
            self.client.delete(path)

    def namespaced_listable(self) -> list[Resource]:
        """Every namespaced resource type the server serves that can be listed."""
        found: list[Resource] = []
        paths = ["/api/v1"]
        for group in self.get("/apis")["groups"]:
            paths += [f"/apis/{v['groupVersion']}" for v in group["versions"]]
        for path in paths:
            for item in self.get(path)["resources"]:
                if item["namespaced"] and "/" not in item["name"] and "list" in item["verbs"]:
                    found.append(Resource(path, item["name"], True))
        return found

    def leftovers(self, namespace: str) -> list[str]:
        """``plural/name`` of every object in ``namespace``, of any kind (events aside)."""
        found: list[str] = []
        seen: set[tuple[str, str]] = set()
        for resource in self.namespaced_listable():
            if resource.plural == "events":
                continue
            for item in self.get(resource.collection(namespace)).get("items", []):
                key = (resource.plural, item["metadata"]["name"])
                if key not in seen:  # the same objects served by several group versions
                    seen.add(key)
                    found.append(f"{resource.plural}/{item['metadata']['name']}")
        return found


def _warning_text(header: str) -> str:
    # RFC 7234 warning: 299 - "text"
    _, _, text = header.partition(" - ")
    return text.strip().strip('"')


# --- dry run of every values set -------------------------------------------------------------


@dataclass
class DryRunResult:
    name: str
    accepted: Counter[str] = field(default_factory=Counter)
    pods: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.accepted.items()))
        line = (
            f"{self.name}: {sum(self.accepted.values())} objects accepted ({kinds}); "
            f"{self.pods} pods admitted under restricted Pod Security"
        )
        if self.skipped:
            line += "; not served by this server (CRDs): " + ", ".join(
                f"{n} {k}" for k, n in sorted(self.skipped.items())
            )
        return line


def helm_template(helm: Path, namespace: str, args: Sequence[str]) -> list[Manifest]:
    result = subprocess.run(
        [str(helm), "template", RELEASE, str(CHART), "--namespace", namespace, *args],
        capture_output=True,
        text=True,
        cwd=CHART,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise StageError(f"helm template failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _pod_from_template(owner: Manifest) -> Manifest:
    spec = owner["spec"]
    template = spec["jobTemplate"]["spec"]["template"] if owner["kind"] == "CronJob" else None
    template = template or spec["template"]
    metadata = copy.deepcopy(template.get("metadata", {}))
    metadata["name"] = f"{owner['metadata']['name']}-pod"[:63].rstrip("-")
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"}


def dry_run(api: Api, helm: Path, name: str, args: Sequence[str]) -> DryRunResult:
    """Every object of one values set, created with dryRun=All in a restricted namespace."""
    namespace = f"dry-{name}"
    result = DryRunResult(name)
    api.create_namespace(namespace, RESTRICTED)
    manifests = helm_template(helm, namespace, args)
    pods: list[Manifest] = []
    for manifest in manifests:
        kind = manifest["kind"]
        if kind in CUSTOM_KINDS:
            result.skipped[kind] += 1
            continue
        if kind == "Pod":
            pods.append(manifest)  # needs its ServiceAccount: checked below
            continue
        try:
            warnings = api.create(manifest, namespace, dry_run=True)
        except StageError as exc:
            result.problems.append(str(exc))
            continue
        where = f"{kind}/{manifest['metadata']['name']}"
        result.problems += [f"{where}: warning: {w}" for w in warnings]
        result.accepted[kind] += 1
        if kind in WORKLOADS:
            pods.append(_pod_from_template(manifest))
    # Pods are admitted only when their ServiceAccount exists: create the release's for real
    # (and "default", which the controller manager would have made), then dry-run every pod.
    accounts = {m["metadata"]["name"] for m in manifests if m["kind"] == "ServiceAccount"}
    accounts.add("default")
    for account in sorted(accounts):
        api.create(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}},
            namespace,
            dry_run=False,
        )
    # A PriorityClass the values name is the platform's (docs/deploy.md): make it as it would.
    for priority in sorted({p["spec"].get("priorityClassName", "") for p in pods} - {""}):
        path = f"/apis/scheduling.k8s.io/v1/priorityclasses/{priority}"
        if not api.exists(path):
            api.create(
                {
                    "apiVersion": "scheduling.k8s.io/v1",
                    "kind": "PriorityClass",
                    "metadata": {"name": priority},
                    "value": 100000,
                },
                "",
                dry_run=False,
            )
    for pod in pods:
        where = f"Pod/{pod['metadata']['name']}"
        try:
            warnings = api.create(pod, namespace, dry_run=True)
        except StageError as exc:
            result.problems.append(f"{where}: {exc}")
            continue
        result.problems += [f"{where}: warning: {w}" for w in warnings]
        result.pods += 1
        if pod in manifests:
            result.accepted["Pod"] += 1
    api.delete_namespace_contents(namespace)
    return result


# --- the checks can fail ----------------------------------------------------------------------


def controls(api: Api, helm: Path) -> list[str]:
    """Objects the server must refuse, made from the chart's own output with one fault each: the
    dry run above would have caught the fault (what the issue found before the fix included)."""
    namespace = "dry-controls"
    api.create_namespace(namespace, RESTRICTED)
    api.create(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "slrt-intake"}},
        namespace,
        dry_run=False,
    )
    manifests = helm_template(helm, namespace, VALUES_SETS["minimal"])
    hpa = next(m for m in manifests if m["kind"] == "HorizontalPodAutoscaler")
    intake = next(
        m for m in manifests if m["kind"] == "Deployment" and m["metadata"]["name"] == "slrt-intake"
    )
    pod = _pod_from_template(intake)

    faults: dict[str, Manifest] = {}
    bad_label = copy.deepcopy(intake)
    bad_label["metadata"]["labels"]["app.kubernetes.io/version"] = f"6f1d2c3@{_SKAFFOLD_DIGEST}"
    faults["the image reference as a label value"] = bad_label
    bad_hpa = copy.deepcopy(hpa)
    bad_hpa["spec"]["minReplicas"] = bad_hpa["spec"]["maxReplicas"] + 1
    faults["an HPA with minReplicas > maxReplicas"] = bad_hpa
    unknown = copy.deepcopy(intake)
    unknown["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    faults["an unknown field"] = unknown
    privileged = copy.deepcopy(pod)
    privileged["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    faults["a pod that may escalate privileges (restricted Pod Security)"] = privileged

    refused: list[str] = []
    for what, manifest in faults.items():
        try:
            warnings = api.create(manifest, namespace, dry_run=True)
        except StageError:
            refused.append(what)
            continue
        if warnings:
            refused.append(f"{what} (warned)")
            continue
        raise StageError(f"control not refused by the server: {what}")
    api.delete_namespace_contents(namespace)
    return refused


# --- a release's life cycle ------------------------------------------------------------------


def _helm(helm: Path, server: Server, *args: str) -> str:
    env = {**os.environ, "KUBECONFIG": str(server.kubeconfig), "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory(prefix="slrt-helm-") as home:
        env.update(
            HELM_CACHE_HOME=f"{home}/cache",
            HELM_CONFIG_HOME=f"{home}/config",
            HELM_DATA_HOME=f"{home}/data",
        )
        result = subprocess.run(
            [str(helm), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=CHART,
            check=False,
            timeout=300,
        )
    if result.returncode != 0:
        raise StageError(f"helm {' '.join(args[:2])} failed:\n{result.stderr}{result.stdout}")
    return result.stdout


def lifecycle(api: Api, helm: Path, server: Server) -> list[str]:
    """install --no-hooks, upgrade, rollback, uninstall; each step read back from the server."""
    namespace = "slrt"
    api.create_namespace(namespace, RESTRICTED)
    report: list[str] = []
    base = ["--namespace", namespace, "-f", "ci/minimal-values.yaml"]
    deployments = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    hpas = f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers"
    configmap = f"/api/v1/namespaces/{namespace}/configmaps/{RELEASE}"

    notes = _helm(helm, server, "install", RELEASE, ".", *base, "--no-hooks", "--timeout", "2m")
    if "Migrations ran" in notes or "With --no-hooks that job did not run" not in notes:
        raise StageError(f"install --no-hooks: NOTES claim what did not happen:\n{notes}")
    installed = [d["metadata"]["name"] for d in api.get(deployments)["items"]]
    if len(installed) != len(SERVICES):
        raise StageError(
            f"install: expected {len(SERVICES)} Deployments, the server has {installed}"
        )
    objects = len(api.leftovers(namespace))
    report.append(
        f"helm install --no-hooks: deployed; {objects} objects in the namespace "
        f"({len(installed)} Deployments, {len(api.get(hpas)['items'])} HPAs); NOTES true"
    )

    _helm(
        helm,
        server,
        "upgrade",
        RELEASE,
        ".",
        *base,
        "--no-hooks",
        "--set",
        "telemetry.logLevel=DEBUG",
        "--set",
        "services.intake.autoscaling.enabled=false",
        "--set",
        "services.intake.replicaCount=3",
    )
    intake = api.get(f"{deployments}/{RELEASE}-intake")
    level = api.get(configmap)["data"]["SLRT_LOG_LEVEL"]
    intake_hpa = api.exists(f"{hpas}/{RELEASE}-intake")
    if intake["spec"].get("replicas") != 3 or level != "DEBUG" or intake_hpa:
        raise StageError(
            f"upgrade not applied: replicas={intake['spec'].get('replicas')} "
            f"SLRT_LOG_LEVEL={level} intake HPA present={intake_hpa}"
        )
    report.append(
        "helm upgrade (logLevel=DEBUG, intake without HPA, 3 replicas): revision 2 on the server"
    )

    _helm(helm, server, "rollback", RELEASE, "1", "--namespace", namespace, "--no-hooks")
    level = api.get(configmap)["data"]["SLRT_LOG_LEVEL"]
    intake_hpa = api.exists(f"{hpas}/{RELEASE}-intake")
    if level != "INFO" or not intake_hpa:
        raise StageError(f"rollback not applied: SLRT_LOG_LEVEL={level} intake HPA={intake_hpa}")
    history = yaml.safe_load(
        _helm(helm, server, "history", RELEASE, "--namespace", namespace, "--output", "yaml")
    )
    revisions = ", ".join(f"{h['revision']} {h['status']}" for h in history)
    report.append(f"helm rollback to 1: logLevel INFO, the intake HPA back; history: {revisions}")

    _helm(helm, server, "uninstall", RELEASE, "--namespace", namespace, "--wait")
    left = api.leftovers(namespace)
    if left:
        raise StageError(f"uninstall left objects behind: {left}")
    report.append("helm uninstall: nothing left in the namespace (every kind listed)")
    return report


# --- entry point -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", type=Path, required=True)
    parser.add_argument("--helm", type=Path, required=True)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    options = parser.parse_args(argv)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="slrt-kube-"))
    failed = False
    try:
        with running_server(options.bin_dir, workdir) as server, server.client() as client:
            print(
                f"kube-apiserver {server.version} and etcd on loopback, up in "
                f"{time.monotonic() - started:.1f}s"
            )
            api = Api(client)
            for name, args in VALUES_SETS.items():
                result = dry_run(api, options.helm, name, args)
                print(("ok   " if not result.problems else "FAIL ") + result.summary())
                for problem in result.problems:
                    print(f"       {problem}")
                failed = failed or bool(result.problems)
            try:
                refused = controls(api, options.helm)
                print(f"ok   controls refused by the server: {'; '.join(refused)}")
            except StageError as exc:
                print(f"FAIL {exc}")
                failed = True
            try:
                for line in lifecycle(api, options.helm, server):
                    print(f"ok   {line}")
            except StageError as exc:
                print(f"FAIL {exc}")
                failed = True
    except StageError as exc:
        print(f"FAIL {exc}")
        failed = True
    finally:
        if options.keep or failed:
            print(f"work directory (logs): {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = datetime.timedelta(seconds=round(time.monotonic() - started))
    print(f"server-side stage {'FAILED' if failed else 'passed'} in {elapsed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
