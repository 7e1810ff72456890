"""Record a history on a sped-up SLA clock (a tool, not a test; see ``record_histories.py``):

.venv/bin/pytest tests/workflows/record_fast_clock_history.py -q
"""

from __future__ import annotations

import pytest
from temporalio.client import Client

from services.routing.settings import RoutingSettings
from slrt.auth.principal import Role
from slrt.contracts.complaints import UPDATE_MANAGER_DECISION, UPDATE_WITHDRAW, Withdraw
from tests.workflows.record_histories import approve, save, start
from tests.workflows.support import actor, request_id, submitted
from tests.workflows.test_clock_speed import SPEED, refer_once_the_plan_is_ready


@pytest.fixture
def routing_settings() -> RoutingSettings:
    return RoutingSettings(sla_clock_speed=SPEED)


async def test_fast_clock_no_response(
    temporal_client: Client, dev_queue: str, kafka_bootstrap: str
) -> None:
    c = await start(temporal_client, dev_queue, kafka_bootstrap, submitted(program="PKH"))
    await c.until(lambda s: any(h.reason == "registry_no_answer" for h in s.history), timeout=60)
    await refer_once_the_plan_is_ready(c)
    await c.act(UPDATE_MANAGER_DECISION, approve())
    await c.until(lambda s: any(h.reason == "no_response" for h in s.history), timeout=90)
    await c.act(
        UPDATE_WITHDRAW,
        Withdraw(actor=actor(Role.BACK_OFFICE), request_id=request_id(), reason="dicabut"),
    )
    await c.handle.result()
    await save(c, "fast_clock_no_response_withdrawn")
