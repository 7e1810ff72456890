"""Fixtures of the deployment tests: the helm binary (built once by scripts/helm.sh) and the
chart rendered with the value sets CI uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.chart import MINIMAL_VALUES, PRODUCTION_VALUES, Rendered, helm_binary, rendered


@pytest.fixture(scope="session")
def helm_path() -> Path:
    return helm_binary()


@pytest.fixture(scope="session")
def minimal(helm_path: Path) -> Rendered:
    """The chart's defaults plus the three required endpoints."""
    return rendered([MINIMAL_VALUES])


@pytest.fixture(scope="session")
def production(helm_path: Path) -> Rendered:
    """examples/production-values.yaml."""
    return rendered([PRODUCTION_VALUES])
