"""Pure rules: reporting periods, small-cell suppression, scope, and the fold of a history."""

from __future__ import annotations

from datetime import date

import pytest

from services.dashboard.domain.facts import fold
from services.dashboard.domain.periods import last_completed, period_of
from services.dashboard.domain.scope import child_length, suppresses_small_cells
from services.dashboard.domain.suppression import suppress_column, suppress_rate
from tests.dashboard.stories import district_stories


@pytest.mark.parametrize(
    ("kind", "today", "start", "end"),
    [
        ("monthly", date(2026, 12, 1), date(2026, 11, 1), date(2026, 11, 30)),
        ("monthly", date(2027, 1, 15), date(2026, 12, 1), date(2026, 12, 31)),
        ("monthly", date(2028, 3, 1), date(2028, 2, 1), date(2028, 2, 29)),
        ("quarterly", date(2026, 12, 3), date(2026, 7, 1), date(2026, 9, 30)),
        ("quarterly", date(2027, 1, 1), date(2026, 10, 1), date(2026, 12, 31)),
        ("quarterly", date(2027, 3, 31), date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_last_completed_period(kind: str, today: date, start: date, end: date) -> None:
    period = last_completed(kind, today)  # type: ignore[arg-type]
    assert (period.start, period.end) == (start, end)


def test_period_labels_are_indonesian() -> None:
    assert period_of("monthly", date(2026, 11, 9)).label == "November 2026"
    assert period_of("quarterly", date(2026, 11, 9)).label == "Triwulan 4 2026"


@pytest.mark.parametrize(
    ("counts", "shown"),
    [
        ([10, 7, 5, 2], [10, 7, None, None]),  # one small cell hides the next smallest too
        ([10, 3, 2], [10, None, None]),  # two small cells protect each other
        ([10, 0, 6], [10, 0, 6]),  # zero is not a small cell
        ([4], [None]),
        ([3, 0], [None, 0]),  # nothing else to hide
        ([], []),
    ],
)
def test_small_cells_and_secondary_suppression(counts: list[int], shown: list[int | None]) -> None:
    assert suppress_column(counts) == shown


def test_rates_on_small_bases_are_hidden() -> None:
    assert suppress_rate(3, 4) is None
    assert suppress_rate(2, 50) is None
    assert suppress_rate(0, 0) is None
    assert suppress_rate(10, 40) == 0.25


def test_only_viewers_above_the_district_get_suppressed_figures() -> None:
    assert [suppresses_small_cells(a) for a in ("", "32", "3204", "320405")] == [
        True,
        True,
        False,
        False,
    ]
    assert [child_length(a) for a in ("", "32", "3204", "320405", "3204052001")] == [
        2,
        4,
        6,
        10,
        None,
    ]


def test_fold_is_independent_of_order_and_repeats() -> None:
    referred, reopened, answered, expired = district_stories()
    shuffled = list(reversed(referred.events)) + referred.events[:3]
    facts = fold(shuffled)
    assert facts == fold(referred.events)
    assert facts.step == "closed"
    assert not facts.open
    assert facts.outcome == "referral_accepted"
    assert facts.household_response == "satisfied"

    again = fold(reopened.events)
    assert again.open
    assert again.reopened
    assert again.closed_at is None
    assert again.acknowledged_at == reopened.events[4].at

    late = fold(expired.events)
    assert late.escalation_count == 1
    assert late.repeat
    assert late.resolved_at is None
    # The referral facts are tested on events recorded from the real workflow:
    # test_live_referrals.py.

    info = fold(answered.events)
    assert (info.outcome, info.acknowledged_at) == ("answered", answered.events[-1].at)
    assert info.steps_reached == ("received", "closed")


def test_fold_refuses_an_empty_history() -> None:
    with pytest.raises(ValueError, match="at least one"):
        fold([])
