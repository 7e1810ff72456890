"""Routing fixtures: the contract topics exist, the workflow fixtures are shared."""

from __future__ import annotations

from tests.workflows.conftest import (  # noqa: F401 (fixtures)
    activities,
    contract_topics,
    dev_queue,
    drive,
    producer,
    routing_pool,
    routing_settings,
)
