"""The services' consumer groups: one name each, in its service's ``consumers`` module, with the
deployment's one prefix (``SLRT_KAFKA_CONSUMER_GROUP_PREFIX``) in front.

Committed offsets and the dedupe records (``processed_events.consumer``) are kept under the group
ids: a group renamed on an upgrade would read its topics again from the start. Without a prefix
the ids are the production names below, which must not change."""

from __future__ import annotations

from typing import Any, cast

import asyncpg
import pytest
from pydantic import ValidationError
from temporalio.client import Client

from services.dashboard import consumers as dashboard
from services.dashboard.settings import DashboardSettings
from services.intake import consumers as intake
from services.intake.settings import IntakeSettings
from services.notifier import consumers as notifier
from services.notifier.settings import NotifierSettings
from services.registry import consumers as registry
from services.registry.settings import RegistrySettings
from services.routing import consumers as routing
from services.routing.settings import RoutingSettings
from slrt.kafka import EventConsumer, EventProducer, consumer_group_id
from slrt.service import Runtime
from slrt.settings import RETIRED_GROUP_VARIABLES, ConnectionSettings, ServiceSettings
from slrt_dev.sandbox.groups import ALL_GROUPS, SERVICE_GROUPS

PRODUCTION_GROUPS = {
    "intake": ["intake-status", "intake-catalog", "intake-staff"],
    "registry": ["registry"],
    "routing": ["routing.complaints", "routing.results", "routing.catalog"],
    "notifier": ["notifier.requests", "notifier.catalog", "notifier.lifecycle", "notifier.staff"],
    "dashboard": ["dashboard"],
}
"""Each service's group ids in production, in the order its ``consumers()`` builds them."""

SETTINGS: dict[str, type[ServiceSettings]] = {
    "intake": IntakeSettings,
    "registry": RegistrySettings,
    "routing": RoutingSettings,
    "notifier": NotifierSettings,
    "dashboard": DashboardSettings,
}
FACTORIES: dict[str, Any] = {
    "intake": intake.consumers,
    "registry": registry.consumers,
    "routing": routing.consumers,
    "notifier": notifier.consumers,
    "dashboard": dashboard.consumers,
}


def built(settings: ServiceSettings) -> list[EventConsumer]:
    """The service's consumers as it builds them at start (nothing connects until they run)."""
    service = next(name for name, kind in SETTINGS.items() if isinstance(settings, kind))
    runtime = Runtime.of(
        service,
        settings,
        pool=cast(asyncpg.Pool, object()),
        producer=cast(EventProducer, object()),
        temporal=cast(Client, object()),
    )
    return cast(list[EventConsumer], FACTORIES[service](runtime, settings))


def with_prefix(service: str, prefix: str) -> ServiceSettings:
    return SETTINGS[service](connections=ConnectionSettings(kafka_consumer_group_prefix=prefix))


@pytest.mark.parametrize("service", sorted(PRODUCTION_GROUPS))
def test_without_a_prefix_the_groups_are_the_production_names(service: str) -> None:
    assert [c.group_id for c in built(with_prefix(service, ""))] == PRODUCTION_GROUPS[service]


@pytest.mark.parametrize("service", sorted(PRODUCTION_GROUPS))
def test_the_prefix_goes_before_every_group_of_the_service(service: str) -> None:
    assert [c.group_id for c in built(with_prefix(service, "staging."))] == [
        f"staging.{name}" for name in PRODUCTION_GROUPS[service]
    ]


def test_the_prefix_is_empty_by_default_and_one_setting_for_every_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SLRT_KAFKA_CONSUMER_GROUP_PREFIX", raising=False)
    assert ConnectionSettings().kafka_consumer_group_prefix == ""
    assert consumer_group_id(ConnectionSettings(), "routing.complaints") == "routing.complaints"
    monkeypatch.setenv("SLRT_KAFKA_CONSUMER_GROUP_PREFIX", "staging.")
    for service, kind in SETTINGS.items():
        assert [c.group_id for c in built(kind())] == [
            f"staging.{name}" for name in PRODUCTION_GROUPS[service]
        ]


def test_test_stacks_move_every_group() -> None:
    """``slrt_dev.sandbox.groups`` starts every group of a test stack at the topics' ends."""
    assert {s: sorted(g) for s, g in SERVICE_GROUPS.items()} == {
        s: sorted(g) for s, g in PRODUCTION_GROUPS.items()
    }
    assert len(ALL_GROUPS) == sum(len(g) for g in PRODUCTION_GROUPS.values())


@pytest.mark.parametrize("variable", sorted(RETIRED_GROUP_VARIABLES))
def test_a_retired_group_variable_stops_the_start(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ignored, it would move its consumer to another group, which handles every event again."""
    monkeypatch.setenv(variable, "registry-prod")
    service = variable.split("_")[1].lower()
    with pytest.raises(ValidationError) as refused:
        SETTINGS[service]()
    message = str(refused.value)
    assert variable in message
    assert f"'{RETIRED_GROUP_VARIABLES[variable]}'" in message
    assert "registry-prod" not in message  # the value is not echoed
