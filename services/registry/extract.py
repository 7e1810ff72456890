"""The DT-PPFM extract: its CSV columns and codes (documented in docs/registry.md).

One row per individual; household columns repeat on every member's row. Program lists are
``;``-separated program codes of the catalog.
"""

from __future__ import annotations

COLUMNS: tuple[str, ...] = (
    "household_ref",
    "village_code",
    "address",
    "welfare_decile",
    "kk_number",
    "nik",
    "name",
    "sex",
    "birth_date",
    "relation",
    "disability",
    "school_status",
    "pmks",
    "household_programs",
    "individual_programs",
    "period",
)

SEX_CODES = {"L": "male", "P": "female"}
"""Laki-laki / perempuan."""

PMKS_KINDS = frozenset(
    {
        "neglected_elderly",
        "neglected_child",
        "person_with_disability",
        "destitute",
        "vulnerable_woman",
        "remote_indigenous",
    }
)
