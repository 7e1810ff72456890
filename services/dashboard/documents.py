"""Rendering an M&E report as XLSX (openpyxl) and PDF (fpdf2, pure Python).

The figures are filled in automatically; achievements, problems and recommendations
(capaian, permasalahan, rekomendasi) are the manager's words. Reports travel up to the
province and Setnas, so their tables are always small-cell suppressed.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from openpyxl import Workbook
from openpyxl.styles import Font

NARRATIVE = (
    ("achievements", "Capaian / Achievements"),
    ("problems", "Permasalahan / Problems"),
    ("recommendations", "Rekomendasi / Recommendations"),
)


@dataclass(frozen=True)
class ReportContent:
    title: str
    area_name: str
    period_label: str
    cards: list[tuple[str, str]]
    tables: list[dict[str, Any]]
    """Each: {"name", "title", "rows": [[header...], [row...]...]} (CSV-shaped)."""
    narrative: dict[str, str]


def to_xlsx(report: ReportContent) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Ringkasan"
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["Wilayah / Area", report.area_name])
    sheet.append(["Periode / Period", report.period_label])
    sheet.append([])
    for name, value in report.cards:
        sheet.append([name, _cell(value)])
    sheet.append([])
    for key, heading in NARRATIVE:
        sheet.append([heading, report.narrative.get(key, "")])
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 80
    for table in report.tables:
        ws = book.create_sheet(table["name"][:31])
        for row in table["rows"]:
            ws.append([_cell(v) for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 36
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: str) -> int | float | str:
    """Numbers as numbers (so the sheet can be summed); "<5" and labels as text."""
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value


def _latin1(text: str) -> str:
    # The PDF's built-in fonts are Latin-1; Indonesian needs nothing beyond it.
    return text.encode("latin-1", "replace").decode("latin-1")


def to_pdf(report: ReportContent) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_latin1(report.title))
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 9, _latin1(report.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        6,
        _latin1(f"Wilayah / Area: {report.area_name}  -  Periode / Period: {report.period_label}"),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(2)
    with pdf.table(col_widths=(90, 40), text_align=("LEFT", "RIGHT"), width=130) as table:
        for name, value in report.cards:
            table.row([_latin1(name), _latin1(value)])
    for key, heading in NARRATIVE:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(0, 6, _latin1(heading), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, _latin1(report.narrative.get(key) or "-"))
    for table_data in report.tables:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 8, _latin1(table_data["title"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("Helvetica", "", 8)
        rows = table_data["rows"]
        with pdf.table(first_row_as_headings=True) as table:
            for row in rows:
                table.row([_latin1(str(v)) for v in row])
    return bytes(pdf.output())
