"""The chart's one routing value for separation of duties (``services.routing.settings.
separationOfDuties``): on by default, turned off by a district with a single manager, and
typed in the values schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.routing.settings import RoutingSettings
from tests.deploy.chart import MINIMAL_VALUES, RenderError, render, rendered

NAME = "SLRT_ROUTING_SEPARATION_OF_DUTIES"


def test_on_by_default_and_off_when_a_district_turns_it_off(helm_path: Path) -> None:
    default = rendered([MINIMAL_VALUES]).env("routing")
    assert default[NAME] == "true"
    off = rendered([MINIMAL_VALUES], {"services.routing.settings.separationOfDuties": "false"}).env(
        "routing"
    )
    assert off[NAME] == "false"
    # The value the container gets is the one routing's settings read.
    assert (
        RoutingSettings.model_validate({"separation_of_duties": off[NAME]}).separation_of_duties
        is False
    )


def test_the_schema_refuses_a_value_that_is_not_a_boolean(helm_path: Path) -> None:
    with pytest.raises(RenderError, match="separationOfDuties"):
        render([MINIMAL_VALUES], None, {"services.routing.settings.separationOfDuties": "maybe"})
