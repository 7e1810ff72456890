"""``make chaos``'s accounting as plain functions: what makes a complaint lost, doubled or stuck,
what the clients may have seen, and when a fault's row passes."""

from __future__ import annotations

from collections import Counter

import pytest

from slrt_dev.chaos.accounting import (
    Calls,
    Seen,
    problems,
    referral_summary,
    row,
    stray_reports,
)

pytestmark = pytest.mark.unit


def closed(**kw: object) -> Seen:
    values: dict[str, object] = {
        "key": "k",
        "expected_outcome": "referral_accepted",
        "complaint_ids": {"c1"},
        "step": "closed",
        "outcome": "referral_accepted",
        "closings": 1,
        "workflows": 1,
        "referrals_delivered": ["r1"],
    }
    values.update(kw)
    return Seen(**values)  # type: ignore[arg-type]


def test_a_complaint_closed_once_with_one_workflow_and_one_report_is_as_expected() -> None:
    assert problems(closed(), Counter({"r1": 1})) == []


@pytest.mark.parametrize(
    ("seen", "reports", "kind"),
    [
        (closed(complaint_ids=set(), step=None), Counter(), "lost"),
        (closed(workflows=0), Counter({"r1": 1}), "lost"),
        (closed(complaint_ids={"c1", "c2"}), Counter({"r1": 1}), "doubled"),
        (closed(workflows=2), Counter({"r1": 1}), "doubled"),
        (closed(closings=2), Counter({"r1": 1}), "doubled"),
        (closed(), Counter({"r1": 2}), "doubled"),
        (closed(), Counter(), "lost"),
        (closed(referrals_not_delivered=["r0"]), Counter({"r1": 1, "r0": 1}), "doubled"),
        (closed(step="referred", outcome=None), Counter({"r1": 1}), "stuck"),
        (closed(outcome="withdrawn"), Counter({"r1": 1}), "stuck"),
    ],
)
def test_what_makes_a_complaint_lost_doubled_or_stuck(
    seen: Seen, reports: Counter[str], kind: str
) -> None:
    found = problems(seen, reports)
    assert found
    assert {p.split(":")[0] for p in found} >= {kind}


def test_clients_may_see_answers_and_a_503_with_retry_after_but_no_500_nor_a_hang() -> None:
    calls = Calls()
    calls.record(202)
    calls.record(409)
    calls.record(503, retry_after=True)
    calls.record(None)  # intake killed: connection refused
    row_ok = row("f", [closed()], Counter({"r1": 1}), 0, calls, 1.0)
    assert row_ok.passed
    calls.record(500, request="POST /v1/complaints/{id}/feedback")
    calls.record(503)
    calls.record(None, hung=True, request="GET /v1/complaints/{id}")
    assert calls.bad == Counter({"500": 1, "503 without Retry-After": 1, "hang": 1})
    failed = row("f", [closed()], Counter({"r1": 1}), 0, calls, 1.0)
    assert not failed.passed
    assert "1× 500 POST /v1/complaints/{id}/feedback" in failed.notes


def test_a_row_fails_on_a_new_dead_letter_or_any_complaint_not_as_expected() -> None:
    assert not row("f", [closed()], Counter({"r1": 1}), 1, Calls(), 1.0).passed
    stuck = row("f", [closed(), closed(step="feedback")], Counter({"r1": 1}), 0, Calls(), 1.0)
    assert (stuck.as_expected, stuck.stuck, stuck.passed) == (1, 1, False)
    assert not row("f", [], Counter(), 0, Calls(), 1.0).passed


def test_reports_naming_no_referral_of_the_run_are_strays() -> None:
    assert stray_reports(Counter({"r1": 1, "x": 2}), {"r1"}) == 2


def test_a_complaint_that_cannot_be_read_is_stuck_and_a_stopped_service_fails_the_row() -> None:
    assert problems(closed(unreadable="ConnectError"), Counter({"r1": 1})) == [
        "stuck: could not be read (ConnectError)"
    ]
    fine = row("f", [closed()], Counter({"r1": 1}), 0, Calls(), 1.0)
    fine.stopped = ["notifier"]
    assert not fine.passed


def test_the_row_shows_what_the_fault_made_the_referrals_go_through() -> None:
    expired = closed(
        referral_statuses=Counter({"cancelled": 1, "delivered": 1}),
        reasons=Counter({"no_response": 1, "referral_delivered": 1}),
        referrals_not_delivered=["r0"],
    )
    shown = row("f", [expired], Counter({"r1": 1}), 0, Calls(), 1.0)
    assert shown.passed
    assert referral_summary(shown.referrals) == "1 delivered, 1 cancelled; 1 expired"
    assert referral_summary(Counter()) == "-"
