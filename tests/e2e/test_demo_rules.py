"""The demo's own rules, without the stack: the week covers every path, the totals count each
complaint exactly once, the timeline shows step changes only."""

from __future__ import annotations

from slrt_dev.demo.paths import PATHS, week
from slrt_dev.demo.played import Played
from slrt_dev.demo.report import _steps, totals


def test_a_week_as_long_as_the_paths_plays_each_path_once_and_longer_weeks_repeat_them() -> None:
    assert week(len(PATHS)) == list(PATHS)
    longer = week(2 * len(PATHS) + 1)
    assert longer[len(PATHS) :][: len(PATHS)] == list(PATHS)
    assert longer[-1] == PATHS[0]
    assert len({p.key for p in PATHS}) == len(PATHS)


def test_every_path_ends_where_its_last_move_leads() -> None:
    for path in PATHS:
        if path.end_step == "closed" and path.moves:
            assert path.moves[-1].at_step == "feedback", path.key
        assert (path.end_outcome is None) == (path.end_step not in {"closed", "withdrawn"})


def test_totals_count_every_complaint_once_and_only_expected_ends_as_expected() -> None:
    closed = Played(PATHS[0], "c1", "T1", PATHS[0].end_step, PATHS[0].end_outcome)
    stuck = Played(PATHS[1], "c2", "T2", "back_office", None, problem="waited")
    refused = Played(PATHS[2], problem="submission refused: 422")
    counts = totals([closed, stuck, refused])
    assert counts["submitted"] == 2
    assert counts["not submitted"] == 1
    assert counts["as expected"] == 1
    ended = {k: v for k, v in counts.items() if k.startswith("ended ")}
    assert sum(ended.values()) == 3
    assert ended["ended back_office"] == 1
    assert counts["past an SLA deadline on the way"] == 0
    closed.timeline = [
        {"from_step": "back_office", "to_step": "back_office", "reason": "step_breached"}
    ]
    assert totals([closed, stuck])["past an SLA deadline on the way"] == 1


def test_the_timeline_shows_step_changes_with_seconds_since_submission() -> None:
    played = Played(PATHS[0], "c1", "T1", "closed", "answered")
    played.timeline = [
        {"from_step": None, "to_step": "received", "at": "2026-11-27T10:00:00+00:00"},
        {"from_step": "received", "to_step": "referred", "at": "2026-11-27T10:00:04+00:00"},
        {"from_step": "referred", "to_step": "referred", "at": "2026-11-27T10:00:05+00:00"},
        {"from_step": "referred", "to_step": "closed", "at": "2026-11-27T10:00:09+00:00"},
    ]
    assert _steps(played) == "received +0s → referred +4s → closed +9s"


def test_a_path_that_must_pass_a_step_reason_is_not_as_expected_without_it() -> None:
    (no_response,) = [p for p in PATHS if p.key == "no_response"]
    assert no_response.passes_through == ("no_response",)
    assert any(m.after_sla for m in no_response.moves)
    ended = Played(no_response, "c1", "T1", "closed", "resolved_locally")
    ended.timeline = [{"from_step": "referred", "to_step": "back_office", "reason": "answered"}]
    assert not ended.as_expected
    ended.timeline.append(
        {"from_step": "referred", "to_step": "back_office", "reason": "no_response"}
    )
    assert ended.as_expected
