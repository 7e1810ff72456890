"""Turning figures into what the page, the CSV files and the reports show: labelled tables in
Bahasa Indonesia and English, with small cells suppressed where the area is wider than a
district. Pure functions; the same table feeds the HTML, the chart and the CSV."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.dashboard.domain.scope import LEVEL_NAMES, child_length, place_name
from services.dashboard.domain.suppression import suppress_column, suppress_rate

SUPPRESSED = "<5"

LABELS: dict[str, tuple[str, str]] = {
    "complaints": ("Pengaduan", "Complaints"),
    "open": ("Terbuka", "Open"),
    "closed": ("Selesai", "Closed"),
    "ack_rate": ("Tanggapan tepat waktu", "Acknowledged on time"),
    "resolve_rate": ("Penyelesaian tepat waktu", "Resolved on time"),
    "median_days": ("Median hari sampai hasil", "Median days to outcome"),
    "p90_days": ("P90 hari sampai hasil", "P90 days to outcome"),
    "escalated": ("Dieskalasi", "Escalated"),
    "repeats": ("Pengaduan berulang", "Repeat complaints"),
    "satisfaction": ("Puas", "Satisfied"),
    "reopen_rate": ("Dibuka kembali", "Reopened"),
    "agency": ("Instansi", "Agency"),
    "referrals": ("Rujukan", "Referrals"),
    "answered": ("Dijawab", "Answered"),
    "answer_rate": ("Tingkat jawaban", "Answer rate"),
    "median_days_to_answer": ("Median hari sampai jawaban", "Median days to answer"),
    "no_response": ("Tanpa jawaban", "No response"),
    "accepted": ("Diterima", "Accepted"),
    "rejected": ("Ditolak", "Rejected"),
    "category": ("Kategori", "Category"),
    "program": ("Program", "Program"),
    "channel": ("Jalur", "Channel"),
    "step": ("Tahap", "Step"),
    "destination": ("Tujuan rujukan", "Referral destination"),
    "topic": ("Topik", "Topic"),
    "requests": ("Permintaan informasi", "Information requests"),
}

VALUE_LABELS: dict[str, tuple[str, str]] = {
    "membership": ("Keluhan kepesertaan", "Membership complaint"),
    "implementation": ("Keluhan pelaksanaan program", "Implementation complaint"),
    "program_need": ("Kebutuhan program", "Program need"),
    "information": ("Permintaan informasi", "Information request"),
    "puskesos_walk_in": ("Datang ke Puskesos", "Puskesos walk-in"),
    "district_walk_in": ("Datang ke sekretariat kabupaten", "District walk-in"),
    "facilitator_visit": ("Kunjungan fasilitator", "Facilitator visit"),
    "received": ("Diterima", "Received"),
    "registered": ("Terdaftar", "Registered"),
    "registry_check": ("Pemeriksaan DT-PPFM", "Registry check"),
    "back_office": ("Back office", "Back office"),
    "manager_approval": ("Persetujuan manajer", "Manager approval"),
    "referred": ("Dirujuk", "Referred"),
    "feedback": ("Umpan balik", "Feedback"),
    "closed": ("Selesai", "Closed"),
    "-": ("Tanpa program", "No program"),
}

TITLES: dict[str, tuple[str, str]] = {
    "places": ("Menurut wilayah", "By place"),
    "category": ("Menurut kategori", "By category"),
    "program": ("Menurut program", "By program"),
    "channel": ("Menurut jalur", "By channel"),
    "funnel": ("Alur penanganan", "Handling funnel"),
    "agencies": ("Jawaban rujukan menurut instansi", "Referral answers by agency"),
    "topics": ("Permintaan informasi menurut topik", "Information requests by topic"),
}


def label(key: str, lang: str) -> str:
    pair = LABELS.get(key) or VALUE_LABELS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "id" else pair[1]


@dataclass(frozen=True)
class Cell:
    value: int | float | str | None
    """None: suppressed (shown as "<5")."""
    link: str | None = None

    @property
    def text(self) -> str:
        if self.value is None:
            return SUPPRESSED
        if isinstance(self.value, float):
            return f"{self.value:.1f}"
        return str(self.value)


@dataclass(frozen=True)
class Row:
    key: str
    name: str
    cells: list[Cell]
    drill: str | None = None
    """The place code to drill down into (place tables only)."""


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    key_label: str
    columns: list[str]
    """Column keys (labels via :func:`label`)."""
    column_labels: list[str]
    rows: list[Row] = field(default_factory=list)
    chart_column: int = 0
    """Which column the chart draws."""

    def csv_rows(self) -> list[list[str]]:
        header = [self.key_label, *self.column_labels]
        return [header, *([r.name, *(c.text for c in r.cells)] for r in self.rows)]


def _percent(numerator: int, denominator: int, suppress: bool) -> float | None:
    if suppress:
        rate = suppress_rate(numerator, denominator)
    else:
        rate = numerator / denominator if denominator else None
    return None if rate is None else round(100 * rate, 1)


def _counts(values: Sequence[int], suppress: bool) -> list[int | None]:
    return suppress_column(values) if suppress else list(values)


def _days(value: float | None, base: int, suppress: bool) -> float | str | None:
    if value is None:
        return "-"
    if suppress and 0 < base < 5:
        return None
    return round(float(value), 1)


LinkFor = Callable[[str, dict[str, str]], str | None]
"""(place prefix, extra filters) → the complaint list behind a number, if the viewer may see it."""


def place_table(
    rows: list[dict[str, Any]], area: str, lang: str, suppress: bool, link_for: LinkFor
) -> Table:
    columns = [
        "complaints",
        "open",
        "closed",
        "ack_rate",
        "resolve_rate",
        "median_days",
        "p90_days",
        "escalated",
    ]
    child = child_length(area) or len(area)
    level = LEVEL_NAMES[child][0 if lang == "id" else 1]
    complaints = _counts([r["complaints"] for r in rows], suppress)
    opened = _counts([r["open"] for r in rows], suppress)
    closed = _counts([r["closed"] for r in rows], suppress)
    escalated = _counts([r["escalated"] for r in rows], suppress)
    table_rows = []
    for i, r in enumerate(rows):
        code = r["key"]
        cells = [
            Cell(complaints[i], link_for(code, {}) if complaints[i] is not None else None),
            Cell(opened[i], link_for(code, {"status": "open"}) if opened[i] is not None else None),
            Cell(closed[i]),
            Cell(_percent(r["ack_on_time"], r["ack_due"], suppress)),
            Cell(_percent(r["resolve_on_time"], r["resolve_due"], suppress)),
            Cell(_days(r["median_days"], r["with_outcome"], suppress)),
            Cell(_days(r["p90_days"], r["with_outcome"], suppress)),
            Cell(escalated[i]),
        ]
        drill = code if len(code) > len(area) and len(code) <= 10 else None
        table_rows.append(Row(code, f"{place_name(code)} ({code})", cells, drill))
    return Table(
        "places",
        TITLES["places"][0 if lang == "id" else 1],
        level,
        columns,
        [label(c, lang) for c in columns],
        table_rows,
    )


def volume_table(
    name: str, rows: list[dict[str, Any]], lang: str, suppress: bool, link_for: LinkFor, area: str
) -> Table:
    complaints = _counts([r["complaints"] for r in rows], suppress)
    opened = _counts([r["open"] for r in rows], suppress)
    table_rows = []
    for i, r in enumerate(rows):
        filters = {name: r["key"]} if r["key"] != "-" and name != "channel" else {}
        link = link_for(area, filters) if complaints[i] is not None and filters else None
        cells = [Cell(complaints[i], link), Cell(opened[i])]
        table_rows.append(Row(r["key"], label(r["key"], lang), cells))
    return Table(
        name,
        TITLES[name][0 if lang == "id" else 1],
        label(name, lang),
        ["complaints", "open"],
        [label("complaints", lang), label("open", lang)],
        table_rows,
    )


def funnel_table(rows: list[dict[str, Any]], lang: str, suppress: bool) -> Table:
    counts = _counts([r["complaints"] for r in rows], suppress)
    return Table(
        "funnel",
        TITLES["funnel"][0 if lang == "id" else 1],
        label("step", lang),
        ["complaints"],
        [label("complaints", lang)],
        [Row(r["key"], label(r["key"], lang), [Cell(counts[i])]) for i, r in enumerate(rows)],
    )


def agency_table(rows: list[dict[str, Any]], lang: str, suppress: bool) -> Table:
    columns = [
        "agency",
        "referrals",
        "answered",
        "answer_rate",
        "median_days_to_answer",
        "no_response",
        "accepted",
        "rejected",
    ]
    referrals = _counts([r["referrals"] for r in rows], suppress)
    answered = _counts([r["answered"] for r in rows], suppress)
    expired = _counts([r["no_response"] for r in rows], suppress)
    accepted = _counts([r["accepted"] for r in rows], suppress)
    rejected = _counts([r["rejected"] for r in rows], suppress)
    table_rows = [
        Row(
            r["key"],
            r["key"],
            [
                Cell(r["agency"]),
                Cell(referrals[i]),
                Cell(answered[i]),
                Cell(_percent(r["answered"], r["referrals"], suppress)),
                Cell(_days(r["median_days_to_answer"], r["answered"], suppress)),
                Cell(expired[i]),
                Cell(accepted[i]),
                Cell(rejected[i]),
            ],
        )
        for i, r in enumerate(rows)
    ]
    return Table(
        "agencies",
        TITLES["agencies"][0 if lang == "id" else 1],
        label("destination", lang),
        columns,
        [label(c, lang) for c in columns],
        table_rows,
        chart_column=3,
    )


def topic_table(rows: list[dict[str, Any]], lang: str, suppress: bool) -> Table:
    """Information requests by the topic of the entry that answered them ("-": no answer
    recorded)."""
    counts = _counts([r["requests"] for r in rows], suppress)
    no_answer = ("Tanpa jawaban tercatat", "No answer recorded")
    return Table(
        "topics",
        TITLES["topics"][0 if lang == "id" else 1],
        label("topic", lang),
        ["requests"],
        [label("requests", lang)],
        [
            Row(
                r["key"],
                (no_answer[0] if lang == "id" else no_answer[1]) if r["key"] == "-" else r["key"],
                [Cell(counts[i])],
            )
            for i, r in enumerate(rows)
        ],
    )


def summary_cards(s: dict[str, Any], lang: str, suppress: bool) -> list[tuple[str, str]]:
    """The headline figures (label, shown value)."""

    def count(n: int) -> str:
        return SUPPRESSED if suppress and 0 < n < 5 else str(n)

    def pct(num: int, den: int) -> str:
        value = _percent(num, den, suppress)
        return SUPPRESSED if value is None and den else ("-" if value is None else f"{value}%")

    return [
        (label("complaints", lang), count(s["complaints"])),
        (label("open", lang), count(s["open"])),
        (label("ack_rate", lang), pct(s["ack_on_time"], s["ack_due"])),
        (label("resolve_rate", lang), pct(s["resolve_on_time"], s["resolve_due"])),
        (label("escalated", lang), count(s["escalated"])),
        (label("repeats", lang), count(s["repeats"])),
        (label("satisfaction", lang), pct(s["satisfied"], s["responses"])),
        (label("reopen_rate", lang), pct(s["reopened"], s["resolved"])),
    ]


def tables(
    figures: dict[str, Any], area: str, lang: str, suppress: bool, link_for: LinkFor
) -> list[Table]:
    found = []
    if figures["places"]:
        found.append(place_table(figures["places"], area, lang, suppress, link_for))
    for name in ("category", "program", "channel"):
        found.append(volume_table(name, figures[name], lang, suppress, link_for, area))
    found.append(funnel_table(figures["funnel"], lang, suppress))
    found.append(agency_table(figures["agencies"], lang, suppress))
    found.append(topic_table(figures.get("topics", []), lang, suppress))
    return found
