"""Program needs (kebutuhan program) recorded from program-need complaints.

A program-need complaint about a household in DT-PPFM records one need for that household and
the program the complainant named (or none: a need no program is named for). The need's text is
the program's catalog name, never the complaint's own words (free text may hold personal data).
"""

from __future__ import annotations

NO_PROGRAM_NEED = "Kebutuhan program (program belum disebut)"
"""The need of a program-need complaint that names no program (counted as uncovered)."""

COMPLAINT_RECORDER = "system:complaint"
"""``recorded_by`` of a need recorded from a complaint."""


def need_from_complaint(
    program_code: str | None, program_name: str | None
) -> tuple[str, str | None]:
    """The need's text and program for a program-need complaint.

    ``program_name`` is the catalog's name of ``program_code`` (None when the catalog does not
    know the code: the need is then recorded without a program, as uncovered).
    """
    if program_code is None or program_name is None:
        return NO_PROGRAM_NEED, None
    return program_name, program_code
