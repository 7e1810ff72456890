"""Render the Helm chart with the real helm CLI and look at what it produced.

The helm binary is the one ``scripts/helm.sh`` builds (and caches) from the Go module proxy, so a
fresh checkout only needs Go; the first run builds it.
"""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from kubernetes_validate import utils as kubernetes_validate  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "slrt"
HELM_SCRIPT = ROOT / "scripts" / "helm.sh"
MINIMAL_VALUES = CHART / "ci" / "minimal-values.yaml"
PRODUCTION_VALUES = CHART / "examples" / "production-values.yaml"
RELEASE = "slrt"
NAMESPACE = "slrt"
SERVICES = ("intake", "registry", "notifier", "routing", "dashboard", "console")
PUBLIC_SERVICES = ("intake", "dashboard", "console")
"""Reached by users through the Ingress; every other service only from inside the release."""

Manifest = dict[str, Any]


class RenderError(Exception):
    """helm refused to render (schema violation, required value, template failure)."""


@functools.cache
def helm_binary() -> Path:
    """Path of the pinned helm binary, built by scripts/helm.sh when missing (minutes, once)."""
    result = subprocess.run(
        ["bash", str(HELM_SCRIPT), "path"],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/helm.sh path failed:\n{result.stderr}")
    return Path(result.stdout.strip().splitlines()[-1])


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(helm_binary()), *args], capture_output=True, text=True, check=False, timeout=120
    )
    if check and result.returncode != 0:
        raise RenderError(result.stderr.strip() or result.stdout.strip())
    return result


def template_args(
    values: Sequence[Path] = (MINIMAL_VALUES,),
    set_values: Mapping[str, str] | None = None,
    set_strings: Mapping[str, str] | None = None,
) -> list[str]:
    args: list[str] = []
    for path in values:
        args += ["-f", str(path)]
    for key, value in (set_values or {}).items():
        args += ["--set", f"{key}={value}"]
    for key, value in (set_strings or {}).items():
        args += ["--set-string", f"{key}={value}"]
    return args


def render(
    values: Sequence[Path] = (MINIMAL_VALUES,),
    set_values: Mapping[str, str] | None = None,
    set_strings: Mapping[str, str] | None = None,
    *extra: str,
) -> list[Manifest]:
    """``helm template`` (hooks and test pods included) parsed into manifests."""
    out = helm(
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        *template_args(values, set_values, set_strings),
        *extra,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@dataclass(frozen=True)
class Rendered:
    """A rendered release, with lookups by kind and name."""

    manifests: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [m for m in self.manifests if m["kind"] == kind]

    def get(self, kind: str, name: str) -> Manifest:
        for manifest in self.of_kind(kind):
            if manifest["metadata"]["name"] == name:
                return manifest
        raise KeyError(f"no {kind} {name}; have {[m['metadata']['name'] for m in self.manifests]}")

    def names(self, kind: str) -> set[str]:
        return {m["metadata"]["name"] for m in self.of_kind(kind)}

    def deployment(self, service: str) -> Manifest:
        return self.get("Deployment", f"{RELEASE}-{service}")

    def container(self, service: str) -> Manifest:
        containers: list[Manifest] = self.deployment(service)["spec"]["template"]["spec"][
            "containers"
        ]
        return containers[0]

    def env(self, service: str) -> dict[str, Any]:
        """A service container's environment: plain values as str, secret refs as dicts."""
        found: dict[str, Any] = {}
        for item in self.container(service).get("env", []):
            found[item["name"]] = item.get("value", item.get("valueFrom"))
        return found

    def config(self) -> dict[str, str]:
        data: dict[str, str] = self.get("ConfigMap", RELEASE)["data"]
        return data


def rendered(
    values: Sequence[Path] = (MINIMAL_VALUES,),
    set_values: Mapping[str, str] | None = None,
    set_strings: Mapping[str, str] | None = None,
) -> Rendered:
    return Rendered(render(values, set_values, set_strings))


def pod_specs(manifests: Sequence[Manifest]) -> Iterator[tuple[str, Manifest]]:
    """Every pod spec the manifests would run: (``Kind/name``, pod spec)."""
    for m in manifests:
        where = f"{m['kind']}/{m['metadata']['name']}"
        if m["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            yield where, m["spec"]["template"]["spec"]
        elif m["kind"] == "Pod":
            yield where, m["spec"]


# kubernetes-validate reads and parses its (large) schema files on every call; they never change.
kubernetes_validate.schema_contents = functools.cache(kubernetes_validate.schema_contents)


def validate_kubernetes(manifests: Sequence[Manifest], version: str) -> list[str]:
    """Every manifest against the Kubernetes OpenAPI schemas of ``version``, strict (unknown
    fields are errors). The ServiceMonitor, a CRD, has no schema there: tests check it."""
    errors: list[str] = []
    for m in manifests:
        if m["kind"] == "ServiceMonitor":
            continue
        try:
            kubernetes_validate.validate(m, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{m['kind']}/{m['metadata']['name']}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{m['kind']}/{m['metadata']['name']}: {exc.message}")
    return errors


def containers(pod: Manifest) -> list[Manifest]:
    found: list[Manifest] = [*pod.get("initContainers", []), *pod.get("containers", [])]
    return found
