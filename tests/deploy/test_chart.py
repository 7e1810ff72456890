"""The Helm chart, rendered by the real helm CLI: lint, Kubernetes schemas, hardening, probes,
resources, labels, wiring, hooks, network policies and the values schema."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from tests.deploy.audit import STANDARD_LABELS, audit
from tests.deploy.chart import (
    CHART,
    MINIMAL_VALUES,
    NAMESPACE,
    PRODUCTION_VALUES,
    RELEASE,
    SERVICES,
    Manifest,
    Rendered,
    RenderError,
    containers,
    helm,
    pod_specs,
    render,
    rendered,
    template_args,
    validate_kubernetes,
)

# Building helm on a fresh machine happens in the first test's setup and takes minutes.
pytestmark = pytest.mark.timeout(1800)

DEV_VALUES = CHART / "examples" / "dev-values.yaml"
DEPS_CHART = CHART.parent / "slrt-dev-deps"
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")
PORTS = {
    "intake": 8001,
    "registry": 8002,
    "notifier": 8003,
    "routing": 8004,
    "dashboard": 8005,
    "console": 8006,
}

# Value combinations beyond the shipped files; each must render, validate and pass the audit.
VARIANTS: dict[str, dict[str, str]] = {
    "inline-secrets-and-tls": {
        "kafka.securityProtocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.username": "slrt",
        "kafka.sasl.password": "kafka-secret",
        "kafka.tls.caCert": "-----BEGIN CERTIFICATE-----",
        "temporal.tls.enabled": "true",
        "temporal.tls.cert": "-----BEGIN CERTIFICATE-----",
        "temporal.tls.key": "-----BEGIN PRIVATE KEY-----",
        "secretRefs.values.pkh-jamsos": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "services.notifier.settings.laporTokenRef": "lapor-token",
        "auth.issuer": "https://sso.example.go.id/realms/slrt",
        "auth.audience": "slrt",
        "auth.jwksUrl": "https://sso.example.go.id/realms/slrt/protocol/openid-connect/certs",
        "telemetry.otlpEndpoint": "http://otel-collector.observability:4318/v1/traces",
    },
    "no-autoscaling": {f"services.{s}.autoscaling.enabled": "false" for s in SERVICES},
    "no-hooks-no-tests": {
        "migrations.enabled": "false",
        "kafka.topics.create": "false",
        "temporal.setup.registerNamespace": "false",
        "tests.enabled": "false",
    },
    "ingress-and-monitoring": {
        "ingress.enabled": "true",
        "ingress.className": "nginx",
        "ingress.hosts[0]": "pengaduan.example.go.id",
        "ingress.tls[0].secretName": "slrt-tls",
        "ingress.tls[0].hosts[0]": "pengaduan.example.go.id",
        "metrics.serviceMonitor.enabled": "true",
    },
    "pdb-min-available-custom-spread": {
        "services.routing.podDisruptionBudget.minAvailable": "1",
        "services.routing.podDisruptionBudget.maxUnavailable": "null",
        "services.intake.topologySpreadConstraints[0].maxSkew": "1",
        "services.intake.topologySpreadConstraints[0].topologyKey": "kubernetes.io/hostname",
        "services.intake.topologySpreadConstraints[0].whenUnsatisfiable": "DoNotSchedule",
        "services.intake.topologySpreadConstraints[0].labelSelector.matchLabels.app": "x",
    },
    "only-intake": {f"services.{s}.enabled": "false" for s in SERVICES if s != "intake"},
    "digest": {"image.digest": "sha256:" + "ab" * 32},
    "openshift": {"platformAssignsUserIds": "true"},
}


# --- lint and schemas ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([str(CHART), "-f", str(MINIMAL_VALUES)], id="minimal"),
        pytest.param([str(CHART), "-f", str(PRODUCTION_VALUES)], id="production"),
        pytest.param([str(CHART), "-f", str(DEV_VALUES)], id="dev"),
        pytest.param([str(DEPS_CHART)], id="dev-deps"),
    ],
)
def test_helm_lint_strict(helm_path: Path, args: list[str]) -> None:
    result = helm("lint", "--strict", "--namespace", NAMESPACE, *args, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize(
    "values", [MINIMAL_VALUES, PRODUCTION_VALUES, DEV_VALUES], ids=["minimal", "production", "dev"]
)
def test_manifests_valid_against_kubernetes_schemas(
    helm_path: Path, values: Path, version: str
) -> None:
    manifests = render([values], None, None, "--kube-version", version)
    assert validate_kubernetes(manifests, version) == []


def test_dev_dependencies_valid_against_kubernetes_schemas(helm_path: Path) -> None:
    out = helm("template", "slrt-dev-deps", str(DEPS_CHART), "--namespace", NAMESPACE).stdout
    manifests = [m for m in yaml.safe_load_all(out) if m]
    assert {m["kind"] for m in manifests} == {"Deployment", "Service"}
    for version in KUBERNETES_VERSIONS:
        assert validate_kubernetes(manifests, version) == []


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_value_variants_render_valid_and_hardened(helm_path: Path, variant: str) -> None:
    manifests = render([MINIMAL_VALUES], VARIANTS[variant])
    for version in KUBERNETES_VERSIONS:
        assert validate_kubernetes(manifests, version) == []
    assert audit(manifests) == []


@pytest.mark.parametrize("which", ["minimal", "production"])
def test_audit_passes(minimal: Rendered, production: Rendered, which: str) -> None:
    chosen = minimal if which == "minimal" else production
    assert audit(chosen.manifests) == []


def test_kubernetes_older_than_supported_is_refused(helm_path: Path) -> None:
    with pytest.raises(RenderError, match="kubeVersion"):
        render([MINIMAL_VALUES], None, None, "--kube-version", "1.29.0")


# --- the values schema refuses what cannot work --------------------------------------------------


def _values_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(text)
    return path


def test_values_without_kafka_bootstrap_are_refused(helm_path: Path, tmp_path: Path) -> None:
    (tmp_path / "nodelocal").mkdir()
    values = _values_file(
        tmp_path / "nodelocal",
        "postgres:\n  dsn: postgresql://slrt@db/slrt\n"
        "temporal:\n  address: temporal-frontend:7233\n",
    )
    with pytest.raises(RenderError, match=r"kafka/bootstrap"):
        render([values])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "kafka:\n  bootstrap: kafka:9092\npostgres:\n  dsn: postgresql://db/slrt\n",
            r"temporal/address",
            id="no-temporal",
        ),
        pytest.param(
            "kafka:\n  bootstrap: kafka:9092\ntemporal:\n  address: t:7233\n",
            r"/postgres",
            id="no-postgres",
        ),
        pytest.param(
            "kafka:\n  bootstrap: kafka\n",
            r"kafka/bootstrap.*does not match",
            id="bootstrap-without-port",
        ),
    ],
)
def test_missing_or_malformed_endpoints_are_refused(
    helm_path: Path, tmp_path: Path, text: str, expected: str
) -> None:
    # Starts from an empty set of endpoints: only what `text` gives.
    with pytest.raises(RenderError, match=expected):
        render([_values_file(tmp_path, text)])


@pytest.mark.parametrize(
    ("set_values", "expected"),
    [
        ({"services.intake.replicaCount": "two"}, r"replicaCount.*want integer"),
        ({"services.routing.port": "80"}, r"routing/port.*minimum"),
        ({"kafka.securityProtocol": "TLS"}, r"securityProtocol"),
        ({"kafka.securityProtocol": "SASL_SSL"}, r"kafka"),
        ({"temporal.tls.enabled": "true"}, r"temporal/tls"),
        ({"telemetry.logLevel": "VERBOSE"}, r"logLevel"),
        ({"services.intake.resources.limits.cpu": "lots"}, r"cpu"),
        ({"image.digest": "latest"}, r"digest"),
        ({"secretRefs.values.PKH_Jamsos": "whsec_x"}, r"'PKH_Jamsos' does not match"),
        ({"servcies.intake.port": "8001"}, r"additional properties 'servcies'"),
        ({"kafka.consumerGroupPrefix": "staging/"}, r"consumerGroupPrefix.*does not match"),
    ],
    ids=[
        "type",
        "minimum",
        "enum",
        "sasl-needs-mechanism",
        "mtls-needs-cert",
        "log-level",
        "quantity",
        "digest",
        "secret-ref-name",
        "typo",
        "group-prefix",
    ],
)
def test_values_schema_refuses_wrong_values(
    helm_path: Path, set_values: dict[str, str], expected: str
) -> None:
    with pytest.raises(RenderError, match=expected):
        render([MINIMAL_VALUES], set_values)


# --- services: objects, probes, resources, labels, environment ----------------------------------


def test_every_service_has_its_objects(minimal: Rendered) -> None:
    expected = {f"{RELEASE}-{s}" for s in SERVICES}
    for kind in (
        "Deployment",
        "Service",
        "ServiceAccount",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    ):
        assert expected <= minimal.names(kind), kind
    assert minimal.names("NetworkPolicy") == expected | {f"{RELEASE}-hooks"}
    for service in SERVICES:
        container = minimal.container(service)
        assert container["command"] == [f"slrt-{service}"]
        assert container["ports"] == [
            {"name": "http", "containerPort": PORTS[service], "protocol": "TCP"},
            {"name": "management", "containerPort": 9090, "protocol": "TCP"},
        ]
        svc = minimal.get("Service", f"{RELEASE}-{service}")
        assert svc["spec"]["ports"][0]["port"] == PORTS[service]


def test_probes(minimal: Rendered) -> None:
    for service in SERVICES:
        c = minimal.container(service)
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "management"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "management"}
        assert c["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "management"}
        # /readyz checks each dependency with a 3 s timeout; the probe must wait longer.
        assert c["readinessProbe"]["timeoutSeconds"] > 3
        startup = c["startupProbe"]
        # The service waits up to 120 s for its dependencies before it serves.
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 120


def test_resources_from_values(minimal: Rendered, production: Rendered) -> None:
    assert minimal.container("intake")["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }
    assert production.container("routing")["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    for _, pod in pod_specs(minimal.manifests):
        for c in containers(pod):
            assert set(c["resources"]["limits"]) == {"cpu", "memory"}
            assert set(c["resources"]["requests"]) == {"cpu", "memory"}


def test_standard_labels(minimal: Rendered) -> None:
    for m in minimal.manifests:
        labels = m["metadata"]["labels"]
        assert set(STANDARD_LABELS) <= set(labels), m["metadata"]["name"]
        assert labels["app.kubernetes.io/name"] == "slrt"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/version"] == "0.1.0"
        assert m["metadata"].get("namespace") == NAMESPACE
    deployment = minimal.deployment("routing")
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "slrt",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/component": "routing",
    }


def test_service_environment(minimal: Rendered) -> None:
    config = minimal.config()
    assert config["SLRT_KAFKA_BOOTSTRAP"] == "kafka-bootstrap.kafka.svc:9092"
    assert config["SLRT_TEMPORAL_ADDRESS"] == "temporal-frontend.temporal.svc:7233"
    assert config["SLRT_TEMPORAL_NAMESPACE"] == "slrt"
    assert "SLRT_POSTGRES_DSN" not in config  # secrets never go into the ConfigMap
    assert all(key.startswith("SLRT_") for key in config)
    for service in SERVICES:
        env = minimal.env(service)
        prefix = f"SLRT_{service.upper()}_"
        assert env[f"{prefix}HOST"] == "0.0.0.0"
        assert env[f"{prefix}PORT"] == str(PORTS[service])
        assert env["SLRT_POSTGRES_DSN"] == {
            "secretKeyRef": {"name": RELEASE, "key": "postgres-dsn"}
        }
        container = minimal.container(service)
        assert container["envFrom"] == [{"configMapRef": {"name": RELEASE}}]
        pod = minimal.deployment(service)["spec"]["template"]
        assert pod["metadata"]["annotations"]["checksum/config"]


def test_one_consumer_group_prefix_for_every_service(minimal: Rendered, helm_path: Path) -> None:
    """Unset, the services' groups keep their production names; set, every service (all read
    the one ConfigMap) reads the one prefix."""
    assert "SLRT_KAFKA_CONSUMER_GROUP_PREFIX" not in minimal.config()
    staging = rendered([MINIMAL_VALUES], set_strings={"kafka.consumerGroupPrefix": "staging."})
    assert staging.config()["SLRT_KAFKA_CONSUMER_GROUP_PREFIX"] == "staging."
    for service in SERVICES:
        assert staging.container(service)["envFrom"] == [{"configMapRef": {"name": RELEASE}}]


def test_graceful_termination_covers_the_drain(minimal: Rendered) -> None:
    routing = minimal.deployment("routing")["spec"]["template"]["spec"]
    env = minimal.env("routing")
    assert env["SLRT_ROUTING_GRACEFUL_SHUTDOWN_SECONDS"] == "60"
    # HTTP drain and background-task drain may each take the full period.
    assert routing["terminationGracePeriodSeconds"] >= 2 * 60
    intake = minimal.deployment("intake")["spec"]["template"]["spec"]
    assert intake["containers"][0]["lifecycle"]["preStop"] == {"sleep": {"seconds": 5}}
    assert intake["terminationGracePeriodSeconds"] >= 5 + 2 * 20


def test_config_change_rolls_the_pods(helm_path: Path) -> None:
    before = rendered([MINIMAL_VALUES])
    after = rendered([MINIMAL_VALUES], {"telemetry.logLevel": "DEBUG"})
    for service in SERVICES:
        a = before.deployment(service)["spec"]["template"]["metadata"]["annotations"]
        b = after.deployment(service)["spec"]["template"]["metadata"]["annotations"]
        assert a["checksum/config"] != b["checksum/config"]
    rotated = rendered([MINIMAL_VALUES], None, {"postgres.dsn": "postgresql://other@db/slrt"})
    a = before.deployment("intake")["spec"]["template"]["metadata"]["annotations"]
    b = rotated.deployment("intake")["spec"]["template"]["metadata"]["annotations"]
    assert a["checksum/secret"] != b["checksum/secret"]


# Kubernetes' own syntax (apimachinery validation): what the API server refuses.
_LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_DNS_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
LABEL_KEY = re.compile(rf"^({_DNS_SUBDOMAIN}/)?{_LABEL_NAME}$")
LABEL_VALUE = re.compile(rf"^({_LABEL_NAME})?$")
SKAFFOLD_TAG = "6f1d2c3@sha256:" + "5e" * 32


def _label_maps(manifest: Manifest) -> Iterator[tuple[str, dict[str, str]]]:
    """Every label map of an object: its own, its pod template's, its selectors'."""
    yield "metadata.labels", manifest["metadata"].get("labels", {})
    spec = manifest.get("spec", {})
    template = spec.get("template", {})
    if template:
        yield "spec.template.metadata.labels", template.get("metadata", {}).get("labels", {})
    selector = spec.get("selector", {})
    if isinstance(selector, dict):
        yield "spec.selector", selector.get("matchLabels", selector)


def label_syntax_errors(manifests: Sequence[Manifest]) -> list[str]:
    errors = []
    for m in manifests:
        for where, labels in _label_maps(m):
            for key, value in labels.items():
                name = key.rpartition("/")[2]
                if not LABEL_KEY.match(key) or len(name) > 63:
                    errors.append(f"{m['kind']}/{m['metadata']['name']} {where}: key {key!r}")
                if not isinstance(value, str) or not LABEL_VALUE.match(value) or len(value) > 63:
                    errors.append(f"{m['kind']}/{m['metadata']['name']} {where}: {key}={value!r}")
    return errors


@pytest.mark.parametrize(
    "set_strings",
    [
        pytest.param({}, id="minimal"),
        pytest.param({"image.tag": SKAFFOLD_TAG}, id="skaffold-tag-at-digest"),
        pytest.param({"image.tag": "v" + "1" * 127}, id="longest-tag"),
        pytest.param({"image.tag": "_rc.1."}, id="punctuation-at-the-ends"),
        pytest.param({"image.tag": "v" + "1" * 61 + "._x"}, id="cut-at-punctuation"),
        pytest.param({"image.digest": "sha256:" + "ab" * 32}, id="digest"),
    ],
)
def test_every_label_is_valid_kubernetes_syntax(
    helm_path: Path, set_strings: dict[str, str]
) -> None:
    manifests = render([MINIMAL_VALUES], None, set_strings)
    assert label_syntax_errors(manifests) == []


def test_version_label_is_the_tag_without_its_digest(helm_path: Path) -> None:
    """skaffold's base profile passes TAG@DIGEST: the label keeps the tag, the image both."""
    release = rendered([MINIMAL_VALUES], None, {"image.tag": SKAFFOLD_TAG})
    for m in release.manifests:
        assert m["metadata"]["labels"]["app.kubernetes.io/version"] == "6f1d2c3"
    assert release.container("intake")["image"] == f"slrt:{SKAFFOLD_TAG}"
    odd = rendered([MINIMAL_VALUES], None, {"image.tag": "_2026.11_build.7."})
    assert odd.deployment("intake")["metadata"]["labels"]["app.kubernetes.io/version"] == (
        "2026.11_build.7"
    )


def test_label_syntax_check_finds_invalid_labels() -> None:
    """The check above can fail: the labels the server refused before the fix."""
    bad = {"kind": "Service", "metadata": {"name": "x", "labels": {"v": SKAFFOLD_TAG}}}
    assert label_syntax_errors([bad]) == [f"Service/x metadata.labels: v={SKAFFOLD_TAG!r}"]
    pod = {"kind": "Pod", "metadata": {"name": "x", "labels": {"a/b/c": ""}}}
    assert label_syntax_errors([pod]) == ["Pod/x metadata.labels: key 'a/b/c'"]


@pytest.mark.parametrize(
    ("set_values", "expected"),
    [
        (
            {"services.intake.autoscaling.minReplicas": "7"},
            r"services\.intake\.autoscaling: minReplicas \(7\) is greater than maxReplicas \(6\)",
        ),
        (
            {"services.routing.podDisruptionBudget.minAvailable": "1"},
            r"services\.routing\.podDisruptionBudget: set either minAvailable or maxUnavailable",
        ),
        (
            {"services.notifier.podDisruptionBudget.maxUnavailable": "null"},
            r"services\.notifier\.podDisruptionBudget: set minAvailable or maxUnavailable",
        ),
        ({"fullnameOverride": "SLRT_prod"}, r"/fullnameOverride.*does not match pattern"),
        ({"fullnameOverride": "s" * 51}, r"/fullnameOverride.*maxLength: got 51, want 50"),
        ({"nameOverride": "slrt.app"}, r"/nameOverride.*does not match pattern"),
        ({"commonLabels.team": "social protection"}, r"/commonLabels/team.*does not match"),
        ({"commonLabels.bad key": "x"}, r"'bad key' does not match"),
        (
            {"services.intake.podLabels.tier": "x" * 64},
            r"podLabels/tier.*maxLength: got 64, want 63",
        ),
        ({"services.intake.nodeSelector.pool": "a/b"}, r"nodeSelector/pool.*does not match"),
    ],
    ids=[
        "hpa-min-above-max",
        "pdb-both",
        "pdb-neither",
        "fullname-syntax",
        "fullname-length",
        "name-syntax",
        "label-value",
        "label-key",
        "pod-label-length",
        "node-selector-value",
    ],
)
def test_impossible_values_are_refused_before_the_server(
    helm_path: Path, set_values: dict[str, str], expected: str
) -> None:
    with pytest.raises(RenderError, match=expected):
        render([MINIMAL_VALUES], set_values)


def test_release_name_that_makes_invalid_object_names_is_refused(helm_path: Path) -> None:
    # helm accepts release names Kubernetes Services do not (a leading digit).
    with pytest.raises(RenderError, match=r"not a valid name"):
        helm("template", "1slrt", str(CHART), *template_args([MINIMAL_VALUES]))


def test_platform_assigned_user_ids(helm_path: Path) -> None:
    """OpenShift assigns UIDs: no fixed ids anywhere, everything else still restricted."""
    release = render([MINIMAL_VALUES], VARIANTS["openshift"])
    for where, pod in pod_specs(release):
        assert not {"runAsUser", "runAsGroup", "fsGroup"} & set(pod["securityContext"]), where
        assert pod["securityContext"]["runAsNonRoot"] is True
        for c in containers(pod):
            assert not {"runAsUser", "runAsGroup"} & set(c["securityContext"]), where
            assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    fixed = rendered([MINIMAL_VALUES])
    assert (
        fixed.deployment("intake")["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
        == 10001
    )


def test_dns_egress_options(helm_path: Path, tmp_path: Path) -> None:
    def dns_rule(release: list[Manifest]) -> Manifest:
        (policy,) = [
            m
            for m in release
            if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == f"{RELEASE}-routing"
        ]
        rule: Manifest = policy["spec"]["egress"][0]
        assert {p["port"] for p in rule["ports"]} == {53}
        return rule

    # Any destination on port 53 (OpenShift's DNS, or unknown).
    anywhere = _values_file(tmp_path, "networkPolicy:\n  dns:\n    to: []\n")
    assert "to" not in dns_rule(render([MINIMAL_VALUES, anywhere]))
    # NodeLocal DNSCache's link-local address.
    (tmp_path / "nodelocal").mkdir()
    values = _values_file(
        tmp_path / "nodelocal",
        "networkPolicy:\n  dns:\n    to:\n      - ipBlock:\n          cidr: 169.254.20.10/32\n",
    )
    assert dns_rule(render([MINIMAL_VALUES, values]))["to"] == [
        {"ipBlock": {"cidr": "169.254.20.10/32"}}
    ]
    default = dns_rule(render([MINIMAL_VALUES]))
    assert default["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}


# --- scaling and availability -------------------------------------------------------------------


def test_autoscaling_and_disruption_budgets(minimal: Rendered, helm_path: Path) -> None:
    for service in SERVICES:
        hpa = minimal.get("HorizontalPodAutoscaler", f"{RELEASE}-{service}")
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": f"{RELEASE}-{service}",
        }
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert "replicas" not in minimal.deployment(service)["spec"]
        pdb = minimal.get("PodDisruptionBudget", f"{RELEASE}-{service}")
        assert pdb["spec"]["maxUnavailable"] == 1
        assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
        strategy = minimal.deployment(service)["spec"]["strategy"]["rollingUpdate"]
        assert strategy["maxUnavailable"] == 0
    fixed = rendered([MINIMAL_VALUES], VARIANTS["no-autoscaling"])
    assert not fixed.of_kind("HorizontalPodAutoscaler")
    assert fixed.deployment("routing")["spec"]["replicas"] == 2


# --- network policies ----------------------------------------------------------------------------


def _egress_ports(policy: Manifest) -> set[int | str]:
    return {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}


def test_network_policies(minimal: Rendered, production: Rendered, helm_path: Path) -> None:
    for public in ("intake", "dashboard"):
        policy = minimal.get("NetworkPolicy", f"{RELEASE}-{public}")
        assert policy["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
    release_pods = {
        "podSelector": {
            "matchLabels": {"app.kubernetes.io/name": "slrt", "app.kubernetes.io/instance": RELEASE}
        }
    }
    for service in ("registry", "notifier", "routing"):
        policy = minimal.get("NetworkPolicy", f"{RELEASE}-{service}")
        assert policy["spec"]["ingress"] == [
            {"from": [release_pods], "ports": [{"port": "http", "protocol": "TCP"}]}
        ]
    expected_ports: dict[str, set[int | str]] = {
        "intake": {53, 5432, 9092, 9093, 7233},
        "registry": {53, 5432, 9092, 9093},
        "notifier": {53, 5432, 9092, 9093, 443},
        "routing": {53, 5432, 9092, 9093, 7233},
        "dashboard": {53, 5432, 9092, 9093},
    }
    for service, ports in expected_ports.items():
        policy = minimal.get("NetworkPolicy", f"{RELEASE}-{service}")
        assert _egress_ports(policy) == ports, service
        rules = policy["spec"]["egress"]
        assert {"to": [release_pods]} in rules
    notifier = minimal.get("NetworkPolicy", f"{RELEASE}-notifier")
    (destinations,) = [
        r for r in notifier["spec"]["egress"] if any(p["port"] == 443 for p in r.get("ports", []))
    ]
    block = destinations["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0"
    assert "10.0.0.0/8" in block["except"]
    # Production narrows every peer; the public services only from the ingress controller.
    for public in ("intake", "dashboard"):
        policy = production.get("NetworkPolicy", f"{RELEASE}-{public}")
        assert policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"] == {
            "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
        }
    prod_registry = production.get("NetworkPolicy", f"{RELEASE}-registry")
    assert {4318, 8443} <= _egress_ports(prod_registry)
    assert all(r.get("to") for r in prod_registry["spec"]["egress"])
    hooks = minimal.get("NetworkPolicy", f"{RELEASE}-hooks")
    assert hooks["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade,test"
    assert hooks["spec"]["ingress"] == []
    disabled = rendered([MINIMAL_VALUES], {"networkPolicy.enabled": "false"})
    assert not disabled.of_kind("NetworkPolicy")


# --- secrets -------------------------------------------------------------------------------------


def test_existing_secrets_are_referenced_not_created(production: Rendered) -> None:
    assert not production.of_kind("Secret")
    env = production.env("notifier")
    assert env["SLRT_POSTGRES_DSN"] == {"secretKeyRef": {"name": "slrt-db-app", "key": "uri"}}
    assert env["SLRT_KAFKA_SASL_PASSWORD"] == {
        "secretKeyRef": {"name": "slrt-kafka-user", "key": "password"}
    }
    assert env["SLRT_AUTH_JWKS_URL"] == {"secretKeyRef": {"name": "slrt-oidc", "key": "jwksUrl"}}
    assert env["SLRT_SECRETS_DIR"] == "/etc/slrt/secrets"
    assert env["SLRT_NOTIFIER_LAPOR_TOKEN_REF"] == "lapor-token"
    assert env["SLRT_NOTIFIER_SIKS_NG_URL"] == "https://siks.kemensos.go.id/api"
    assert env["SLRT_NOTIFIER_INTAKE_PUBLIC_URL"] == "https://pengaduan-slrt.kemensos.go.id"
    assert production.env("intake")["SLRT_INTAKE_PUBLIC_BASE_URL"] == (
        "https://pengaduan-slrt.kemensos.go.id"
    )
    config = production.config()
    assert config["SLRT_KAFKA_SSL_CAFILE"] == "/etc/slrt/kafka-ca/ca.crt"
    assert config["SLRT_TEMPORAL_TLS_CERT"] == "/etc/slrt/temporal-tls/tls.crt"
    assert config["SLRT_TEMPORAL_TLS_KEY"] == "/etc/slrt/temporal-tls/tls.key"
    volumes = {
        v["name"]: v
        for v in production.deployment("routing")["spec"]["template"]["spec"]["volumes"]
    }
    assert volumes["temporal-tls"]["secret"]["secretName"] == "slrt-temporal-client-tls"
    assert volumes["kafka-ca"]["secret"]["secretName"] == "platform-kafka-cluster-ca-cert"
    # only intake (callbacks), notifier (deliveries) and registry (its token for intake)
    assert "secret-refs" not in volumes
    for service in ("intake", "notifier", "registry"):
        mounts = {m["name"]: m for m in production.container(service)["volumeMounts"]}
        assert mounts["secret-refs"] == {
            "name": "secret-refs",
            "mountPath": "/etc/slrt/secrets",
            "readOnly": True,
        }


def test_temporal_payload_keys_reach_intake_and_routing_only(
    minimal: Rendered, production: Rendered, helm_path: Path, tmp_path: Path
) -> None:
    """The payload key ring (slrt/payload_codec.py) is an env Secret reference for the two
    services that talk to Temporal; a release without keys does not render."""
    for service in SERVICES:
        env = minimal.env(service)
        if service in ("intake", "routing"):
            assert env["SLRT_SECRET_TEMPORAL_PAYLOAD_KEYS"] == {
                "secretKeyRef": {"name": RELEASE, "key": "temporal-payload-keys"}
            }
            assert production.env(service)["SLRT_SECRET_TEMPORAL_PAYLOAD_KEYS"] == {
                "secretKeyRef": {"name": "slrt-temporal-payload-keys", "key": "keys"}
            }
        else:
            assert "SLRT_SECRET_TEMPORAL_PAYLOAD_KEYS" not in env
    assert "temporal-payload-keys" in minimal.get("Secret", RELEASE)["data"]
    assert all("ci-1:" not in value for value in minimal.config().values())
    values = _values_file(
        tmp_path,
        "kafka:\n  bootstrap: kafka:9092\npostgres:\n  dsn: postgresql://db/slrt\n"
        "temporal:\n  address: t:7233\n",
    )
    with pytest.raises(RenderError, match=r"temporal.payloadKeys"):
        render([values])
    with pytest.raises(RenderError, match=r"payloadKeys/keys"):
        render([MINIMAL_VALUES], set_strings={"temporal.payloadKeys.keys": "k1:short"})


def test_inline_secrets_go_into_secrets(helm_path: Path) -> None:
    release = rendered([MINIMAL_VALUES], VARIANTS["inline-secrets-and-tls"])
    secret = release.get("Secret", RELEASE)
    assert set(secret["data"]) == {
        "postgres-dsn",
        "kafka-sasl-password",
        "kafka-ca.crt",
        "temporal-tls.crt",
        "temporal-tls.key",
        "temporal-payload-keys",
        "console-session-key",
    }
    assert release.get("Secret", f"{RELEASE}-secret-refs")["data"].keys() == {"pkh-jamsos"}
    assert release.env("notifier")["SLRT_NOTIFIER_LAPOR_TOKEN_REF"] == "lapor-token"
    config = release.config()
    for leaked in ("kafka-secret", "BEGIN PRIVATE KEY", "whsec_"):
        assert all(leaked not in value for value in config.values())
    assert config["SLRT_AUTH_ISSUER"] == "https://sso.example.go.id/realms/slrt"
    hook_secret = release.get("Secret", f"{RELEASE}-hooks")
    assert hook_secret["data"] == secret["data"]
    assert hook_secret["metadata"]["annotations"]["helm.sh/hook-delete-policy"] == (
        "before-hook-creation,hook-succeeded"
    )


# --- hooks: migrations, platform set-up, helm test ----------------------------------------------


def _hook(manifest: Manifest) -> tuple[str, int]:
    annotations = manifest["metadata"]["annotations"]
    return annotations["helm.sh/hook"], int(annotations["helm.sh/hook-weight"])


def test_migration_job_is_a_pre_install_pre_upgrade_hook(minimal: Rendered) -> None:
    job = minimal.get("Job", f"{RELEASE}-migrate")
    assert _hook(job)[0] == "pre-install,pre-upgrade"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["slrt-migrate"]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    # The Job runs before the release's ConfigMap and Secret exist: all inline or from hooks.
    assert env["SLRT_POSTGRES_DSN"] == {
        "secretKeyRef": {"name": f"{RELEASE}-hooks", "key": "postgres-dsn"}
    }
    assert "envFrom" not in container
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    weight = _hook(job)[1]
    for kind, name in (
        ("Secret", f"{RELEASE}-hooks"),
        ("ServiceAccount", f"{RELEASE}-hooks"),
        ("NetworkPolicy", f"{RELEASE}-hooks"),
    ):
        hook, earlier = _hook(minimal.get(kind, name))
        assert "pre-install" in hook
        assert earlier < weight, f"{kind} must exist before the Job"


def test_setup_job_runs_slrt_admin_steps(minimal: Rendered, helm_path: Path) -> None:
    job = minimal.get("Job", f"{RELEASE}-setup")
    assert _hook(job)[0] == "pre-install,pre-upgrade"
    pod = job["spec"]["template"]["spec"]
    steps = [c["command"] + c["args"] for c in containers(pod)]
    assert steps == [
        ["slrt-admin", "create-topics", "--partitions", "6", "--replication", "3"],
        ["slrt-admin", "register-temporal", "--retention-days", "90"],
    ]
    topics_only = rendered(
        [MINIMAL_VALUES],
        {"temporal.setup.registerNamespace": "false", "kafka.topics.partitions": "12"},
    )
    pod = topics_only.get("Job", f"{RELEASE}-setup")["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    assert pod["containers"][0]["args"][:3] == ["create-topics", "--partitions", "12"]
    temporal_only = rendered([MINIMAL_VALUES], {"kafka.topics.create": "false"})
    pod = temporal_only.get("Job", f"{RELEASE}-setup")["spec"]["template"]["spec"]
    assert [c["args"][0] for c in containers(pod)] == ["register-temporal"]
    neither = rendered([MINIMAL_VALUES], VARIANTS["no-hooks-no-tests"])
    assert not neither.of_kind("Job")
    assert not neither.of_kind("Pod")


def test_chart_metadata() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["home"].startswith("https://")
    assert chart["icon"].startswith("data:image/svg+xml;base64,")
    assert chart["maintainers"][0]["name"]


def test_helm_test_checks_every_service_readyz(minimal: Rendered, helm_path: Path) -> None:
    pod = minimal.get("Pod", f"{RELEASE}-test-readyz")
    # Deleted once it passed; a failed one stays for its logs until the next `helm test`.
    policy = pod["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
    assert policy == "before-hook-creation,hook-succeeded"
    assert _hook(pod)[0] == "test"
    urls = [a for a in pod["spec"]["containers"][0]["command"] if a.startswith("http://")]
    assert urls == [f"http://{RELEASE}-{s}.{NAMESPACE}.svc:{PORTS[s]}/readyz" for s in SERVICES]
    only_intake = rendered([MINIMAL_VALUES], VARIANTS["only-intake"])
    pod = only_intake.get("Pod", f"{RELEASE}-test-readyz")
    urls = [a for a in pod["spec"]["containers"][0]["command"] if a.startswith("http://")]
    assert urls == [f"http://{RELEASE}-intake.{NAMESPACE}.svc:8001/readyz"]


# --- ingress and monitoring ---------------------------------------------------------------------


def test_ingress_exposes_intake_and_the_dashboard(
    minimal: Rendered, production: Rendered, helm_path: Path
) -> None:
    assert not minimal.of_kind("Ingress")
    (ingress,) = production.of_kind("Ingress")
    routes: dict[str, Any] = {
        rule["host"]: rule["http"]["paths"][0]["backend"] for rule in ingress["spec"]["rules"]
    }
    assert routes == {
        "pengaduan-slrt.kemensos.go.id": {
            "service": {"name": f"{RELEASE}-intake", "port": {"name": "http"}}
        },
        "dasbor-slrt.kemensos.go.id": {
            "service": {"name": f"{RELEASE}-dashboard", "port": {"name": "http"}}
        },
        "konsol-slrt.kemensos.go.id": {
            "service": {"name": f"{RELEASE}-console", "port": {"name": "http"}}
        },
    }
    assert ingress["spec"]["tls"][0]["secretName"] == "slrt-tls"
    # The public URLs the services put into links follow the hosts.
    assert production.env("dashboard")["SLRT_DASHBOARD_PUBLIC_URL"] == (
        "https://dasbor-slrt.kemensos.go.id"
    )
    assert production.env("dashboard")["SLRT_DASHBOARD_REGISTRY_URL"] == (
        f"http://{RELEASE}-registry.{NAMESPACE}.svc:8002"
    )
    # The staff console: its own host (the OIDC redirect URI), the APIs inside the cluster.
    console = production.env("console")
    assert console["SLRT_CONSOLE_PUBLIC_URL"] == "https://konsol-slrt.kemensos.go.id"
    assert console["SLRT_CONSOLE_INTAKE_URL"] == f"http://{RELEASE}-intake.{NAMESPACE}.svc:8001"
    assert console["SLRT_CONSOLE_REGISTRY_URL"] == (
        f"http://{RELEASE}-registry.{NAMESPACE}.svc:8002"
    )
    assert console["SLRT_CONSOLE_LOGIN"] == "oidc"
    # The notifier redeems household contact references at intake's Service, not the Ingress;
    # so does the registry complainant references.
    assert production.env("notifier")["SLRT_NOTIFIER_INTAKE_URL"] == (
        f"http://{RELEASE}-intake.{NAMESPACE}.svc:8001"
    )
    assert production.env("registry")["SLRT_REGISTRY_INTAKE_URL"] == (
        f"http://{RELEASE}-intake.{NAMESPACE}.svc:8001"
    )
    # No dashboard hosts: only intake, on any host.
    api_only = rendered([MINIMAL_VALUES], {"ingress.enabled": "true"})
    (rule,) = api_only.get("Ingress", RELEASE)["spec"]["rules"]
    assert "host" not in rule
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == f"{RELEASE}-intake"


def test_health_and_metrics_have_a_port_the_ingress_never_routes(
    minimal: Rendered, production: Rendered, helm_path: Path
) -> None:
    for service in SERVICES:
        env = production.env(service)
        assert env[f"SLRT_{service.upper()}_MANAGEMENT_PORT"] == "9090"
        ports = {
            p["name"]: p for p in production.get("Service", f"{RELEASE}-{service}")["spec"]["ports"]
        }
        assert ports["management"]["targetPort"] == "management"
        probes = [
            production.container(service)[p]
            for p in ("startupProbe", "livenessProbe", "readinessProbe")
        ]
        assert {p["httpGet"]["port"] for p in probes} == {"management"}
    for ingress in production.of_kind("Ingress"):
        backends = [
            path["backend"]["service"]["port"]
            for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]
        ]
        assert backends
        assert all(port == {"name": "http"} for port in backends)
    # Prometheus may reach the management port, and only that port.
    policy = production.get("NetworkPolicy", f"{RELEASE}-routing")
    scrape = [r for r in policy["spec"]["ingress"] if r["from"] == production_metrics_from()]
    assert [r["ports"] for r in scrape] == [[{"port": "management", "protocol": "TCP"}]]
    with pytest.raises(RenderError, match=r"services\.intake\.port \(9090\) is the managementPort"):
        render([MINIMAL_VALUES], {"services.intake.port": "9090"})


def production_metrics_from() -> list[Manifest]:
    values = yaml.safe_load(PRODUCTION_VALUES.read_text())
    peers: list[Manifest] = values["networkPolicy"]["metricsFrom"]
    return peers


def test_service_monitor(minimal: Rendered, production: Rendered) -> None:
    assert not minimal.of_kind("ServiceMonitor")
    (monitor,) = production.of_kind("ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    spec = monitor["spec"]
    assert set(spec) == {"selector", "namespaceSelector", "endpoints"}
    assert spec["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    (endpoint,) = spec["endpoints"]
    assert endpoint == {
        "port": "management",
        "path": "/metrics",
        "interval": "30s",
        "scrapeTimeout": "10s",
    }
    # It selects exactly the four Services, by labels they carry, on a port they have.
    selector = spec["selector"]
    selected = []
    for svc in production.of_kind("Service"):
        labels = svc["metadata"]["labels"]
        if all(labels.get(k) == v for k, v in selector["matchLabels"].items()) and all(
            labels.get(e["key"]) in e["values"] for e in selector["matchExpressions"]
        ):
            selected.append(svc["metadata"]["name"])
            assert any(p["name"] == "http" for p in svc["spec"]["ports"])
    assert sorted(selected) == sorted(f"{RELEASE}-{s}" for s in SERVICES)


def test_extra_manifests_are_rendered(helm_path: Path, tmp_path: Path) -> None:
    (tmp_path / "nodelocal").mkdir()
    values = _values_file(
        tmp_path / "nodelocal",
        "extraManifests:\n"
        "  - apiVersion: v1\n"
        "    kind: ConfigMap\n"
        "    metadata:\n"
        "      name: '{{ .Release.Name }}-extra'\n"
        "    data:\n"
        "      key: value\n",
    )
    release = rendered([MINIMAL_VALUES, values])
    assert release.get("ConfigMap", f"{RELEASE}-extra")["data"] == {"key": "value"}


def _notes(tmp_path: Path, values: Path) -> str:
    """NOTES.txt as `helm install` prints it (rendered through a copy of the chart, since
    `helm template` does not print notes and `helm install --dry-run` needs a cluster)."""
    chart = tmp_path / "slrt"
    shutil.copytree(CHART, chart)
    (chart / "templates" / "NOTES.txt").rename(chart / "notes.txt")
    (chart / "templates" / "notes.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n"
        'data:\n  notes: {{ tpl (.Files.Get "notes.txt") . | quote }}\n'
    )
    out = helm(
        "template",
        RELEASE,
        str(chart),
        "--namespace",
        NAMESPACE,
        "-f",
        str(values),
        "--show-only",
        "templates/notes.yaml",
    ).stdout
    notes: str = yaml.safe_load(out)["data"]["notes"]
    return notes


def test_notes(helm_path: Path, tmp_path: Path) -> None:
    production = _notes(tmp_path / "production", PRODUCTION_VALUES)
    assert "helm -n slrt test slrt --logs" in production
    # True also under `helm install --no-hooks`, which NOTES.txt cannot detect.
    assert "Migrations ran" not in production
    assert "With --no-hooks that job did not run" in production
    assert "`slrt-admin register-temporal` once yourself" in production
    assert "on port 9090, which the Ingress never routes" in production
    assert "https://pengaduan-slrt.kemensos.go.id/" in production
    assert "https://dasbor-slrt.kemensos.go.id/" in production
    assert "WARNING" not in production
    minimal = _notes(tmp_path / "minimal", MINIMAL_VALUES)
    assert "kubectl -n slrt port-forward service/slrt-intake 8001" in minimal
    for warning in (
        "Secrets are given inline",
        "networkPolicy.intake.from is empty",
        "kafka.securityProtocol=PLAINTEXT",
    ):
        assert warning in minimal
