"""The demo's mid-week handover (``slrt_dev.demo.handover``) on the real services: the generated
staff directory of a small district written through the registry's API (``slrt_dev.demo.staff``),
one facilitator's visits handed to a colleague through the registry, found in the
successor's feed, done, closed; played again, the villages go back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from slrt.settings import ConnectionSettings
from slrt_dev.demo import staff
from slrt_dev.demo.handover import Handover
from slrt_dev.demo.settings import DemoSettings
from tests.support.harness import start_services

# Kota Cimahi: 3 kecamatan, 15 kelurahan (two facilitators each). The demo's directory written
# here goes on the session's one ``slrt.staff.directory`` topic and stays active (the demo's
# persons are the demo's): no other test works in Cimahi, so no other test's complaints get
# these persons as assignees or addressees (tests/registry/test_demo_staff.py seeds Kota Cirebon).
CIMAHI = "3277"


async def test_the_demo_plays_a_facilitators_handover_and_back(
    e2e_topics: None, connections: ConnectionSettings, log_dir: Path
) -> None:
    stack, services = start_services(connections, log_dir)
    with stack:
        written = await asyncio.to_thread(
            staff.seed, services.urls["registry"], services.issuer, CIMAHI
        )
        assert written["villages"] == 15
        settings = DemoSettings(
            district=CIMAHI,
            intake_url=services.urls["intake"],
            registry_url=services.urls["registry"],
            step_timeout_seconds=120,
        )
        async with httpx.AsyncClient(timeout=30) as http:
            there = await Handover(settings, services.issuer, http).play()
            back = await Handover(settings, services.issuer, http).play()
    assert there.problem is None
    assert there.as_expected
    assert there.moved == there.closed == 2
    assert back.as_expected, back.problem
    assert (back.leaving, back.successor) == (there.successor, there.leaving)
