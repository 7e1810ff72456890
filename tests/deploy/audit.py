"""The production rules a rendered SLRT release must keep, as one checker.

``audit`` returns every violation it finds (empty = all rules hold). The chart tests assert it is
empty for the shipped value sets, and that it does report a violation when a rule is broken on
purpose (so a check that can never fail would be noticed).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tests.deploy.chart import PUBLIC_SERVICES, SERVICES, Manifest, containers, pod_specs

STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)
SELECTOR_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
)
LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
# Kubernetes' own (and the services') time to drain, see the Deployment template.
MIN_GRACE_MARGIN_SECONDS = 5


def audit(manifests: Sequence[Manifest]) -> list[str]:
    """Every violation of the hardening, probe, resource, label and wiring rules."""
    problems: list[str] = []
    problems += _labels(manifests)
    for where, pod in pod_specs(manifests):
        problems += _pod(where, pod)
    problems += _deployments(manifests)
    problems += _wiring(manifests)
    problems += _network_policies(manifests)
    return problems


def _labels(manifests: Sequence[Manifest]) -> Iterator[str]:
    for m in manifests:
        where = f"{m['kind']}/{m['metadata']['name']}"
        labels = m["metadata"].get("labels") or {}
        for key in STANDARD_LABELS:
            if not labels.get(key):
                yield f"{where}: label {key} missing"
        if labels.get("app.kubernetes.io/managed-by") not in (None, "Helm"):
            yield f"{where}: app.kubernetes.io/managed-by is not Helm"
        template = m.get("spec", {}).get("template", {})
        if template:
            pod_labels = template.get("metadata", {}).get("labels") or {}
            for key in STANDARD_LABELS:
                if not pod_labels.get(key):
                    yield f"{where}: pod template label {key} missing"


def _pod(where: str, pod: Manifest) -> Iterator[str]:
    security = pod.get("securityContext") or {}
    if security.get("runAsNonRoot") is not True:
        yield f"{where}: pod securityContext.runAsNonRoot is not true"
    if (security.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        yield f"{where}: pod seccompProfile is not RuntimeDefault"
    if security.get("runAsUser") == 0:
        yield f"{where}: pod runs as uid 0"
    if pod.get("automountServiceAccountToken") is not False:
        yield f"{where}: the service account token is mounted"
    if pod.get("enableServiceLinks") is not False:
        yield f"{where}: enableServiceLinks is not false"
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            yield f"{where}: {flag} is set"
    tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
    for container in containers(pod):
        yield from _container(f"{where}/{container['name']}", container, tmp_volumes)


def _container(where: str, c: Manifest, tmp_volumes: set[str]) -> Iterator[str]:
    sc = c.get("securityContext") or {}
    if sc.get("allowPrivilegeEscalation") is not False:
        yield f"{where}: allowPrivilegeEscalation is not false"
    if sc.get("readOnlyRootFilesystem") is not True:
        yield f"{where}: readOnlyRootFilesystem is not true"
    if sc.get("privileged"):
        yield f"{where}: privileged"
    if sc.get("runAsUser") == 0 or sc.get("runAsNonRoot") is False:
        yield f"{where}: container may run as root"
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        yield f"{where}: capabilities do not drop ALL"
    if caps.get("add"):
        yield f"{where}: capabilities added: {caps['add']}"
    seccomp = (sc.get("seccompProfile") or {}).get("type")
    if seccomp not in (None, "RuntimeDefault", "Localhost"):
        yield f"{where}: seccompProfile {seccomp}"
    resources = c.get("resources") or {}
    for kind in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if not (resources.get(kind) or {}).get(resource):
                yield f"{where}: no {resource} {kind[:-1]}"
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    if mounts.get("/tmp") not in tmp_volumes:
        yield f"{where}: /tmp is not an emptyDir"
    image = str(c.get("image", ""))
    if image.endswith(":latest") or (":" not in image.rsplit("/", 1)[-1] and "@" not in image):
        yield f"{where}: image {image!r} is not pinned to a tag or digest"


def _probe_path(probe: Any) -> str | None:
    if not isinstance(probe, dict):
        return None
    http = probe.get("httpGet") or {}
    path = http.get("path")
    return path if isinstance(path, str) else None


def _deployments(manifests: Sequence[Manifest]) -> Iterator[str]:
    for m in manifests:
        if m["kind"] != "Deployment":
            continue
        where = f"Deployment/{m['metadata']['name']}"
        pod = m["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
        if "http" not in ports:
            yield f"{where}: no container port named http"
        if "management" not in ports:
            yield f"{where}: no container port named management (health and metrics)"
        for kind, path in (
            ("livenessProbe", LIVENESS_PATH),
            ("readinessProbe", READINESS_PATH),
            ("startupProbe", LIVENESS_PATH),
        ):
            probe = c.get(kind)
            if _probe_path(probe) != path:
                yield f"{where}: {kind} path is {_probe_path(probe)!r}, not {path}"
            elif probe["httpGet"].get("port") not in ("management", ports.get("management")):
                yield f"{where}: {kind} does not probe the management port"
        strategy = m["spec"].get("strategy", {}).get("rollingUpdate", {})
        if str(strategy.get("maxUnavailable")) not in ("0", "0%"):
            yield f"{where}: a rollout may take pods away before new ones are ready"
        component = m["metadata"]["labels"].get("app.kubernetes.io/component", "")
        prefix = f"SLRT_{component.upper()}_"
        if env.get(f"{prefix}HOST") != "0.0.0.0":
            yield f"{where}: {prefix}HOST is not 0.0.0.0 (the service would listen on loopback)"
        if env.get(f"{prefix}PORT") != str(ports.get("http")):
            yield f"{where}: {prefix}PORT does not match the http container port"
        if env.get(f"{prefix}MANAGEMENT_PORT") != str(ports.get("management")):
            yield f"{where}: {prefix}MANAGEMENT_PORT does not match the management container port"
        graceful = float(env.get(f"{prefix}GRACEFUL_SHUTDOWN_SECONDS") or 0)
        pre_stop = (
            ((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
        )
        grace = pod.get("terminationGracePeriodSeconds", 30)
        if graceful <= 0:
            yield f"{where}: {prefix}GRACEFUL_SHUTDOWN_SECONDS is not set"
        elif grace < pre_stop + graceful + MIN_GRACE_MARGIN_SECONDS:
            yield (
                f"{where}: terminationGracePeriodSeconds {grace} does not cover the preStop pause "
                f"({pre_stop}s) and the drain ({graceful:g}s)"
            )


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _wiring(manifests: Sequence[Manifest]) -> Iterator[str]:
    """Selectors select, ports exist, scale targets exist, every workload is covered."""
    deployments = [m for m in manifests if m["kind"] == "Deployment"]
    pod_labels = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in deployments
    }
    for d in deployments:
        selector = d["spec"]["selector"]["matchLabels"]
        where = f"Deployment/{d['metadata']['name']}"
        if not _matches(selector, pod_labels[d["metadata"]["name"]]):
            yield f"{where}: selector does not match its pod template"
        if sorted(selector) != sorted(SELECTOR_LABELS):
            yield f"{where}: selector labels are {sorted(selector)}"
    kinds_needed = ("Service", "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount")
    for d in deployments:
        name = d["metadata"]["name"]
        for kind in kinds_needed:
            if not any(m["kind"] == kind and m["metadata"]["name"] == name for m in manifests):
                yield f"Deployment/{name}: no {kind} {name}"
        if d["spec"]["template"]["spec"].get("serviceAccountName") != name:
            yield f"Deployment/{name}: does not run as its own ServiceAccount"
    for m in manifests:
        where = f"{m['kind']}/{m['metadata']['name']}"
        if m["kind"] == "Service":
            selected = [
                n for n, labels in pod_labels.items() if _matches(m["spec"]["selector"], labels)
            ]
            if len(selected) != 1:
                yield f"{where}: selects {selected}, not exactly one Deployment"
            for port in m["spec"]["ports"]:
                if port.get("targetPort") != port.get("name") or port.get("name") not in (
                    "http",
                    "management",
                ):
                    yield f"{where}: port {port.get('name')} does not target its container port"
        elif m["kind"] == "PodDisruptionBudget":
            selector = m["spec"]["selector"]["matchLabels"]
            if not any(_matches(selector, labels) for labels in pod_labels.values()):
                yield f"{where}: selects no Deployment"
        elif m["kind"] == "HorizontalPodAutoscaler":
            target = m["spec"]["scaleTargetRef"]["name"]
            if target not in pod_labels:
                yield f"{where}: scales {target}, which is not rendered"
            elif (
                "replicas"
                in next(d for d in deployments if d["metadata"]["name"] == target)["spec"]
            ):
                yield f"{where}: its Deployment also sets replicas (upgrades would reset scale)"
            if m["spec"]["minReplicas"] > m["spec"]["maxReplicas"]:
                yield f"{where}: minReplicas > maxReplicas"


def _network_policies(manifests: Sequence[Manifest]) -> Iterator[str]:
    """Only the public services accept traffic from outside the release; egress rules name
    ports."""
    policies = [m for m in manifests if m["kind"] == "NetworkPolicy"]
    for p in policies:
        where = f"NetworkPolicy/{p['metadata']['name']}"
        spec = p["spec"]
        if sorted(spec.get("policyTypes", [])) != ["Egress", "Ingress"]:
            yield f"{where}: does not restrict both ingress and egress"
        for rule in spec.get("egress", []):
            release_only = all(
                set(peer) == {"podSelector"} for peer in rule.get("to", [])
            ) and rule.get("to")
            if not rule.get("ports") and not release_only:
                yield f"{where}: an egress rule allows every port to {rule.get('to', 'anywhere')}"
        component = (
            p["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component")
        )
        if component in SERVICES and component not in PUBLIC_SERVICES:
            for rule in spec.get("ingress", []):
                if not rule.get("from"):
                    yield f"{where}: {component} accepts traffic from any source"
