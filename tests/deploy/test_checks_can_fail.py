"""The checks are real: weaken the chart through values and each checker reports it.

A checker that passes everything would hide a regression; here every rule of the audit and the
Kubernetes schema validation is shown to fail on a release rendered with a broken value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.audit import audit
from tests.deploy.chart import MINIMAL_VALUES, Manifest, render, validate_kubernetes

pytestmark = pytest.mark.timeout(1800)


@pytest.mark.parametrize(
    ("set_values", "expected"),
    [
        pytest.param(
            {"containerSecurityContext.readOnlyRootFilesystem": "false"},
            "readOnlyRootFilesystem is not true",
            id="writable-root",
        ),
        pytest.param(
            {"containerSecurityContext.allowPrivilegeEscalation": "true"},
            "allowPrivilegeEscalation is not false",
            id="privilege-escalation",
        ),
        pytest.param(
            {"containerSecurityContext.capabilities.drop": "null"},
            "capabilities do not drop ALL",
            id="capabilities-kept",
        ),
        pytest.param(
            {"containerSecurityContext.capabilities.add[0]": "NET_ADMIN"},
            "capabilities added",
            id="capability-added",
        ),
        pytest.param(
            {"containerSecurityContext.privileged": "true"}, "privileged", id="privileged"
        ),
        pytest.param(
            {"podSecurityContext.runAsNonRoot": "false"},
            "runAsNonRoot is not true",
            id="root-allowed",
        ),
        pytest.param(
            {"podSecurityContext.seccompProfile.type": "Unconfined"},
            "seccompProfile is not RuntimeDefault",
            id="seccomp-unconfined",
        ),
        pytest.param(
            {"probes.readiness.httpGet.path": "/"},
            "readinessProbe path is '/', not /readyz",
            id="wrong-readiness-path",
        ),
        pytest.param(
            {"probes.liveness.httpGet.path": "/readyz"},
            "livenessProbe path is '/readyz', not /healthz",
            id="liveness-on-readyz",
        ),
        pytest.param(
            {"probes.startup.httpGet.port": "9999"},
            "startupProbe does not probe the management port",
            id="probe-wrong-port",
        ),
        pytest.param(
            {"services.routing.resources.limits": "null"}, "routing: no cpu limit", id="no-limits"
        ),
        pytest.param(
            {"services.intake.resources.requests.memory": "null"},
            "intake: no memory request",
            id="no-memory-request",
        ),
        pytest.param(
            {"migrations.resources.limits.memory": "null"},
            "Job/slrt-migrate/migrate: no memory limit",
            id="job-without-limit",
        ),
        pytest.param(
            {"services.routing.terminationGracePeriodSeconds": "10"},
            "terminationGracePeriodSeconds 10 does not cover",
            id="short-grace",
        ),
        pytest.param({"image.tag": "latest"}, "is not pinned", id="latest-tag"),
        pytest.param(
            {"commonLabels.app\\.kubernetes\\.io/managed-by": "kubectl"},
            "managed-by is not Helm",
            id="label-overridden",
        ),
        pytest.param(
            {"services.intake.podLabels.app\\.kubernetes\\.io/component": "other"},
            "selector does not match its pod template",
            id="selector-broken",
        ),
        pytest.param(
            {"services.registry.serviceAccount.create": "false"},
            "does not run as its own ServiceAccount",
            id="shared-service-account",
        ),
    ],
)
def test_audit_reports_a_weakened_release(
    set_values: dict[str, str], expected: str, helm_path: Path
) -> None:
    try:
        manifests = render([MINIMAL_VALUES], set_values)
    except Exception as exc:  # the values schema refusing it is a failure of this test's premise
        pytest.fail(f"expected the chart to render {set_values}: {exc}")
    problems = audit(manifests)
    assert any(expected in p for p in problems), problems


def _policy(manifests: list[Manifest], name: str) -> Manifest:
    return next(
        m for m in manifests if m["kind"] == "NetworkPolicy" and m["metadata"]["name"] == name
    )


def test_audit_reports_network_policy_gaps(helm_path: Path) -> None:
    # The values schema does not let these through, so they are made on the rendered objects.
    manifests = render([MINIMAL_VALUES])
    _policy(manifests, "slrt-registry")["spec"]["ingress"] = [
        {"ports": [{"port": "http", "protocol": "TCP"}]}
    ]
    del _policy(manifests, "slrt-routing")["spec"]["egress"][2]["ports"]
    _policy(manifests, "slrt-notifier")["spec"]["policyTypes"] = ["Ingress"]
    problems = audit(manifests)
    assert "NetworkPolicy/slrt-registry: registry accepts traffic from any source" in problems
    assert any(
        p.startswith("NetworkPolicy/slrt-routing: an egress rule allows every port")
        for p in problems
    ), problems
    assert "NetworkPolicy/slrt-notifier: does not restrict both ingress and egress" in problems


@pytest.mark.parametrize(
    ("set_values", "set_strings", "expected"),
    [
        pytest.param(
            {},
            {"extraEnv[0].name": "X", "extraEnv[0].valu": "1"},
            "Additional properties are not allowed ('valu' was unexpected)",
            id="unknown-field",
        ),
        pytest.param(
            {},
            {"probes.liveness.periodSeconds": "ten"},
            "'ten' is not of type 'integer'",
            id="wrong-type",
        ),
        pytest.param(
            {"podSecurityContext.seccompProfile.type": "null"},
            {},
            "'type' is a required property",
            id="missing-required",
        ),
    ],
)
def test_kubernetes_schema_validation_reports_invalid_manifests(
    set_values: dict[str, str], set_strings: dict[str, str], expected: str, helm_path: Path
) -> None:
    manifests = render([MINIMAL_VALUES], set_values, set_strings)
    errors = validate_kubernetes(manifests, "1.37.0")
    assert any(expected in e for e in errors), errors
