"""Which transitions cancel which referral deliveries, and when a destination counts as back:
plain functions (``services/notifier/domain.py``)."""

from __future__ import annotations

import uuid

import pytest

from services.notifier.domain import (
    DeliveryStatus,
    RouteState,
    SendResult,
    came_back,
    cancellation,
    may_move,
    route_state_after,
    worth_probing,
)

pytestmark = pytest.mark.unit
COMPLAINT = uuid.uuid4()


def test_an_expired_referral_cancels_that_referral_only() -> None:
    referral = uuid.uuid4()
    found = cancellation(COMPLAINT, "back_office", "no_response", {"referral_id": str(referral)})
    assert found is not None
    assert (found.complaint_id, found.referral_id) == (COMPLAINT, referral)
    assert found.reason == "referral expired (no_response)"


def test_an_expiry_recorded_without_its_referral_cancels_every_referral_of_the_complaint() -> None:
    for details in ({}, {"referral_id": "not-a-uuid"}, {"referral_id": None}):
        found = cancellation(COMPLAINT, "back_office", "no_response", details)
        assert found is not None
        assert found.referral_id is None


@pytest.mark.parametrize(
    ("step", "reason"), [("withdrawn", "complaint withdrawn"), ("closed", "complaint closed")]
)
def test_a_complaint_that_ends_cancels_all_its_referrals(step: str, reason: str) -> None:
    found = cancellation(COMPLAINT, step, "anything", {"referral_id": str(uuid.uuid4())})
    assert found is not None
    assert (found.referral_id, found.reason) == (None, reason)


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ("referred", "referral_approved"),
        ("referred", "referral_delivered"),
        ("under_review", "under_review"),
        ("back_office", "delivery_failed"),
        ("back_office", "not_responsible"),
        ("feedback", "referral_accepted"),
    ],
)
def test_other_transitions_cancel_nothing(step: str, reason: str) -> None:
    assert cancellation(COMPLAINT, step, reason, {}) is None


def test_cancelled_is_final_and_only_a_waiting_delivery_is_cancelled() -> None:
    for status in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING):
        assert may_move(status, DeliveryStatus.CANCELLED)
    for status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, DeliveryStatus.DIGEST):
        assert not may_move(status, DeliveryStatus.CANCELLED)
    assert not any(may_move(DeliveryStatus.CANCELLED, s) for s in DeliveryStatus)


def test_how_an_attempt_leaves_its_route() -> None:
    assert route_state_after(SendResult.delivered()) is RouteState.ANSWERING
    assert route_state_after(SendResult.final("HTTP 400", 400)) is RouteState.ANSWERING
    assert route_state_after(SendResult.retry("HTTP 503", 503)) is RouteState.FAILING
    assert route_state_after(SendResult.retry("connection failed")) is RouteState.UNREACHABLE


def test_a_route_comes_back_once_when_it_answers_or_a_probe_reaches_it() -> None:
    s = RouteState
    assert came_back(s.UNREACHABLE, s.ANSWERING)
    assert came_back(s.FAILING, s.ANSWERING)
    assert came_back(None, s.ANSWERING)
    assert not came_back(s.ANSWERING, s.ANSWERING)
    assert came_back(s.UNREACHABLE, s.REACHABLE)
    assert came_back(None, s.REACHABLE)
    assert not came_back(s.REACHABLE, s.REACHABLE)
    assert not came_back(s.ANSWERING, s.FAILING)
    assert not came_back(s.ANSWERING, s.UNREACHABLE)


def test_only_routes_that_gave_no_answer_are_probed() -> None:
    assert worth_probing(None)
    assert worth_probing(RouteState.UNREACHABLE)
    for state in (RouteState.ANSWERING, RouteState.FAILING, RouteState.REACHABLE):
        assert not worth_probing(state)
