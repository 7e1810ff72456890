"""The planning view (V.I): a poverty scorecard per village and locations and programs ranked by
their gap — what regional planning meetings (Musrenbang, TKPK) need in front of them.

Gap of a village = bottom-40 % households with no program + recorded needs no program covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.dashboard.domain.scope import LEVEL_NAMES, place_name
from services.dashboard.domain.view import Cell, Row, Table


@dataclass(frozen=True)
class VillageScore:
    code: str
    households: int | None
    bottom40: int | None
    bottom40_no_program: int | None
    unmet_needs: int | None
    open_complaints: int

    @property
    def bottom40_share(self) -> float | None:
        return _share(self.bottom40, self.households)

    @property
    def coverage(self) -> float | None:
        """Share of bottom-40 households that receive at least one program."""
        if self.bottom40 is None or self.bottom40_no_program is None:
            return None
        return _share(self.bottom40 - self.bottom40_no_program, self.bottom40)

    @property
    def gap(self) -> int | None:
        if self.bottom40_no_program is None or self.unmet_needs is None:
            return None
        return self.bottom40_no_program + self.unmet_needs


def _share(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return round(100 * part / whole, 1)


def scorecard(
    villages: list[dict[str, Any]], open_complaints: dict[str, int]
) -> list[VillageScore]:
    """Villages ranked by gap, largest first (suppressed gaps last)."""
    scores = [
        VillageScore(
            code=v["code"],
            households=v["households"],
            bottom40=v["bottom40"],
            bottom40_no_program=v["bottom40_no_program"],
            unmet_needs=v["unmet_needs"],
            open_complaints=open_complaints.get(v["code"], 0),
        )
        for v in villages
    ]
    return sorted(scores, key=lambda s: (s.gap is None, -(s.gap or 0), s.code))


SCORE_COLUMNS = (
    ("households", "Rumah tangga", "Households"),
    ("bottom40_share", "Desil 1-4 (%)", "Bottom 40 % (%)"),
    ("coverage", "Cakupan program desil 1-4 (%)", "Program coverage of bottom 40 % (%)"),
    ("bottom40_no_program", "Desil 1-4 tanpa program", "Bottom 40 % without a program"),
    ("unmet_needs", "Kebutuhan tak terpenuhi", "Unmet needs"),
    ("open_complaints", "Pengaduan terbuka", "Open complaints"),
    ("gap", "Kesenjangan", "Gap"),
)


def scorecard_table(scores: list[VillageScore], lang: str, suppress: bool, depth: int) -> Table:
    """The scorecard per village (per place of ``depth`` above the district)."""
    i = 1 if lang == "id" else 2
    rows = []
    for s in scores:
        cells = []
        for key, *_ in SCORE_COLUMNS:
            value = getattr(s, key)
            if key == "open_complaints" and suppress and 0 < value < 5:
                value = None
            cells.append(Cell(value))
        rows.append(Row(s.code, f"{place_name(s.code)} ({s.code})", cells))
    return Table(
        "scorecard",
        "Kartu skor kemiskinan" if lang == "id" else "Poverty scorecard",
        LEVEL_NAMES[depth][i - 1],
        [c[0] for c in SCORE_COLUMNS],
        [c[i] for c in SCORE_COLUMNS],
        rows,
        chart_column=6,
    )


def program_gap_table(programs: list[dict[str, Any]], lang: str) -> Table:
    """Programs ranked by the recorded needs for them that they do not cover yet."""
    ranked = sorted(
        programs,
        key=lambda p: (p["needs_uncovered"] is None, -(p["needs_uncovered"] or 0), p["program"]),
    )
    labels = (
        ("Rumah tangga peserta", "Kebutuhan tercatat", "Kebutuhan belum terpenuhi")
        if lang == "id"
        else ("Participating households", "Recorded needs", "Needs not covered")
    )
    return Table(
        "program_gaps",
        "Program menurut kesenjangan" if lang == "id" else "Programs by gap",
        "Program",
        ["households", "needs", "needs_uncovered"],
        list(labels),
        [
            Row(
                p["program"],
                p["program"],
                [Cell(p["households"]), Cell(p["needs"]), Cell(p["needs_uncovered"])],
            )
            for p in ranked
        ],
        chart_column=2,
    )


def _generic(
    name: str,
    title: tuple[str, str],
    key: str,
    columns: list[tuple[str, str, str]],
    rows: list[dict[str, Any]],
    lang: str,
    key_of: Any = None,
) -> Table:
    i = 1 if lang == "id" else 2
    return Table(
        name,
        title[i - 1],
        key,
        [c[0] for c in columns],
        [c[i] for c in columns],
        [
            Row(
                str(key_of(r) if key_of else r[key]),
                str(key_of(r) if key_of else r[key]),
                [Cell(r[c[0]]) for c in columns],
            )
            for r in rows
        ],
    )


def _profile_key(row: dict[str, Any]) -> str:
    return f"{row['sex']}, {'disabilitas' if row['disability'] else 'non-disabilitas'}"


def registry_tables(overview: dict[str, Any], lang: str) -> list[Table]:
    """The registry's aggregates for an area (items 1–5 of the seed's dashboard, and gaps)."""
    return [
        _generic(
            "proposals",
            ("Daftar awal dan usulan perubahan menurut status", "Pre-list and change proposals"),
            "status",
            [("count", "Jumlah", "Count")],
            overview["proposals"],
            lang,
            key_of=lambda r: f"{r['kind']}: {r['status']}",
        ),
        _generic(
            "verification",
            ("Hasil verifikasi SIKS-NG", "SIKS-NG verification results"),
            "result",
            [("count", "Jumlah", "Count")],
            overview["verification"],
            lang,
            key_of=lambda r: f"{r['kind']}: {r['result']} ({r['reason'] or '-'})",
        ),
        _generic(
            "participation",
            ("Kepesertaan dan kebutuhan per program", "Participation and needs per program"),
            "program",
            [
                ("households", "Rumah tangga", "Households"),
                ("individuals", "Individu", "Individuals"),
                ("needs", "Kebutuhan tercatat", "Recorded needs"),
                ("needs_uncovered", "Kebutuhan belum terpenuhi", "Needs not covered"),
            ],
            overview["programs"],
            lang,
        ),
        _generic(
            "combinations",
            ("Kombinasi program (komplementaritas)", "Program combinations (overlap)"),
            "programs",
            [("households", "Rumah tangga", "Households")],
            overview["combinations"],
            lang,
            key_of=lambda r: " + ".join(r["programs"]) or "-",
        ),
        _generic(
            "profiles",
            ("Profil menurut jenis kelamin dan disabilitas", "Profiles by sex and disability"),
            "profile",
            [
                ("individuals", "Individu", "Individuals"),
                ("bottom40", "Di desil 1-4", "In the bottom 40 %"),
            ],
            overview["profiles"],
            lang,
            key_of=lambda r: (
                f"{r['sex']}, {'disabilitas' if r['disability'] else 'non-disabilitas'}"
            ),
        ),
        _generic(
            "needs",
            ("Kebutuhan menurut jenis", "Needs by type"),
            "need",
            [
                ("count", "Jumlah", "Count"),
                ("uncovered", "Tanpa program", "Not covered by any program"),
            ],
            overview["needs"],
            lang,
        ),
    ]
