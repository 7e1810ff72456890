"""Intake's server-rendered pages: Jinja2 with autoescape, so no value reaches the page as
markup."""

from __future__ import annotations

from datetime import UTC, datetime

from services.intake.api import pages
from services.intake.schemas import TrackingOut, TrackingStep

MARKUP = '<script>alert("x")</script>'


def test_every_value_on_the_pages_is_escaped() -> None:
    view = TrackingOut(
        ticket_number=MARKUP,
        status="open",
        status_label=MARKUP,
        current_step="back_office",
        current_step_label=MARKUP,
        next_step_due=None,
        steps=[TrackingStep(step="received", label=MARKUP, at=datetime(2026, 11, 2, tzinfo=UTC))],
        outcome=None,
        outcome_label=MARKUP,
        can_respond=False,
        language="en",
    )
    rendered = [
        pages.tracking_form("id", MARKUP),
        pages.tracking_result(view),
        pages.answer_form(
            ticket=MARKUP,
            program=MARKUP,
            place=MARKUP,
            category=MARKUP,
            description=MARKUP,
            due=MARKUP,
        ),
        pages.answer_done(MARKUP, replayed=True),
        pages.message(MARKUP, MARKUP),
    ]
    for html in rendered:
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
        assert html.startswith("<!doctype html>")


def test_the_tracking_result_shows_the_steps_and_the_due_date_or_a_dash() -> None:
    view = TrackingOut(
        ticket_number="3204-26-000123",
        status="open",
        status_label="Dibuka",
        current_step="back_office",
        current_step_label="Ditangani petugas layanan",
        next_step_due=None,
        steps=[
            TrackingStep(step="received", label="Diterima", at=datetime(2026, 11, 2, tzinfo=UTC))
        ],
        outcome=None,
        outcome_label=None,
        can_respond=False,
        language="id",
    )
    html = pages.tracking_result(view)
    assert "<tr><td>2026-11-02</td><td>Diterima</td></tr>" in html
    assert "<strong>Tahap berikutnya paling lambat:</strong> —" in html
    assert "Hasil" not in html  # no outcome yet
