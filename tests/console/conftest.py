"""Fixtures of the console's tests: the services and the console as their own processes on the
real stack (``slrt_dev.sandbox.processes``), as the end-to-end tests run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from slrt.contracts.topics import ALL_TOPICS, dead_letter_topic
from tests.support.harness import RealStack


@pytest.fixture
async def e2e_topics(real_stack: RealStack) -> None:
    await real_stack.create_topics(
        *ALL_TOPICS, *(dead_letter_topic(t) for t in ALL_TOPICS), partitions=2
    )


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    return folder
