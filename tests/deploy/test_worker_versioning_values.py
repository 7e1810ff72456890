"""The chart's Temporal Worker Versioning values (``temporal.workerVersioning``): routing's pods
get a worker deployment name and the image's build id, which routing's settings read as a
version; only routing gets them; the schema refuses a deployment name with a ``.``."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.routing.settings import RoutingSettings
from services.routing.versions import deployment_version
from tests.deploy.chart import MINIMAL_VALUES, SERVICES, RenderError, render, rendered

CHART_CI = MINIMAL_VALUES.parent
DIGEST = "sha256:" + "ab" * 32


def routing_version(env: dict[str, object]) -> tuple[str, str] | None:
    values = {k.removeprefix("SLRT_ROUTING_").lower(): v for k, v in env.items()}
    settings = RoutingSettings.model_validate(
        {k: values[k] for k in ("deployment_name", "build_id", "promote_on_start") if k in values}
    )
    version = deployment_version(settings)
    return None if version is None else (version.deployment_name, version.build_id)


def test_on_by_default_with_the_image_as_build(helm_path: Path) -> None:
    chart = rendered([MINIMAL_VALUES])
    env = chart.env("routing")
    # No tag in the minimal values: the chart's appVersion is the image's tag.
    assert routing_version(env) == ("slrt-routing", "0.1.0")
    assert env["SLRT_ROUTING_PROMOTE_ON_START"] == "true"
    for other in set(SERVICES) - {"routing"}:
        assert "SLRT_ROUTING_BUILD_ID" not in chart.env(other)
    by_digest = rendered([MINIMAL_VALUES, CHART_CI / "digest-values.yaml"]).env("routing")
    assert routing_version(by_digest) == ("slrt-routing", DIGEST)
    tagged = rendered([MINIMAL_VALUES], {"image.tag": "1.4.2"}).env("routing")
    assert routing_version(tagged) == ("slrt-routing", "1.4.2")


def test_named_explicitly_or_turned_off(helm_path: Path) -> None:
    named = rendered(
        [MINIMAL_VALUES],
        {
            "temporal.workerVersioning.deploymentName": "slrt-routing-prod",
            "temporal.workerVersioning.buildId": "git-3f2a9c1",
            "temporal.workerVersioning.promoteOnStart": "false",
        },
    ).env("routing")
    assert routing_version(named) == ("slrt-routing-prod", "git-3f2a9c1")
    assert named["SLRT_ROUTING_PROMOTE_ON_START"] == "false"
    off = rendered([MINIMAL_VALUES], {"temporal.workerVersioning.enabled": "false"}).env("routing")
    assert "SLRT_ROUTING_BUILD_ID" not in off
    assert routing_version(off) is None


def test_the_schema_refuses_a_dotted_deployment_name(helm_path: Path) -> None:
    with pytest.raises(RenderError, match="deploymentName"):
        render([MINIMAL_VALUES], None, {"temporal.workerVersioning.deploymentName": "slrt.prod"})
