"""Reporting periods of the M&E cycle (siklus monitoring): monthly district reports going up to
the province and Setnas, and the quarterly report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

ReportKind = Literal["monthly", "quarterly"]
KINDS: tuple[ReportKind, ...] = ("monthly", "quarterly")


@dataclass(frozen=True)
class Period:
    kind: ReportKind
    start: date
    end: date
    """Inclusive."""

    @property
    def label(self) -> str:
        if self.kind == "monthly":
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        return f"Triwulan {(self.start.month - 1) // 3 + 1} {self.start.year}"


MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def period_of(kind: ReportKind, day: date) -> Period:
    """The month or quarter ``day`` lies in."""
    first_month = day.month if kind == "monthly" else 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    months = 1 if kind == "monthly" else 3
    following = _add_months(start, months)
    return Period(kind, start, following - timedelta(days=1))


def last_completed(kind: ReportKind, today: date) -> Period:
    """The latest month or quarter that has ended before ``today``."""
    current = period_of(kind, today)
    return period_of(kind, current.start - timedelta(days=1))


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    return date(day.year + month_index // 12, month_index % 12 + 1, 1)
