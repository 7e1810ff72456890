"""Where a viewer stands in the place hierarchy, and what they may see from there.

Place codes (kode wilayah Kemendagri) nest by prefix: province 2 digits, regency/city 4,
sub-district 6, village 10. A viewer drills down from their own area, never above it.
"""

from __future__ import annotations

from slrt.auth.principal import Principal
from slrt.places import directory

PREFIX_LENGTHS = (0, 2, 4, 6, 10)
LEVEL_NAMES = {
    0: ("Nasional", "National"),
    2: ("Provinsi", "Province"),
    4: ("Kabupaten/Kota", "Regency/City"),
    6: ("Kecamatan", "Sub-district"),
    10: ("Desa/Kelurahan", "Village"),
}
DISTRICT_LENGTH = 4
SMALL_CELL = 5
"""Cells counting fewer households than this are hidden outside the district (sel kecil)."""


def is_place_prefix(code: str) -> bool:
    return len(code) in PREFIX_LENGTHS and (code == "" or code.isdigit())


def child_length(area: str) -> int | None:
    """The prefix length of the level below ``area`` (None for a village)."""
    index = PREFIX_LENGTHS.index(len(area))
    return PREFIX_LENGTHS[index + 1] if index + 1 < len(PREFIX_LENGTHS) else None


def within(principal: Principal, area: str) -> bool:
    """Whether ``area`` lies inside (or is) the viewer's own area."""
    return area.startswith(principal.area)


def suppresses_small_cells(viewer_area: str) -> bool:
    """Viewers above the district (province, national) see figures outside the district the
    households live in: small cells are hidden for them. District staff and narrower see
    their own figures in full."""
    return len(viewer_area) < DISTRICT_LENGTH


def place_name(code: str) -> str:
    if code == "":
        return "Indonesia"
    place = directory().get(code)
    return place.name if place else code


def breadcrumbs(principal: Principal, area: str) -> list[tuple[str, str]]:
    """(code, name) from the viewer's own area down to ``area``."""
    crumbs = [(principal.area, place_name(principal.area))]
    for length in PREFIX_LENGTHS:
        if len(principal.area) < length <= len(area):
            crumbs.append((area[:length], place_name(area[:length])))
    return crumbs
