"""A Temporal outage holds the partition (a transient error, retried by the consumer) instead
of dead-lettering the event; other Temporal errors are not disguised."""

from __future__ import annotations

import pytest
from temporalio.service import RPCError, RPCStatusCode

from services.routing.consumers import on_temporal
from slrt.kafka import TransientError


async def fails(status: RPCStatusCode) -> None:
    raise RPCError("temporal says no", status, b"")


@pytest.mark.parametrize(
    "status",
    [RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED],
)
async def test_unreachable_temporal_is_a_transient_error(status: RPCStatusCode) -> None:
    with pytest.raises(TransientError, match=status.name):
        await on_temporal(fails(status))


async def test_other_temporal_errors_stay_what_they_are() -> None:
    with pytest.raises(RPCError) as raised:
        await on_temporal(fails(RPCStatusCode.INVALID_ARGUMENT))
    assert not isinstance(raised.value, TransientError)
    assert raised.value.status == RPCStatusCode.INVALID_ARGUMENT
