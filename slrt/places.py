"""The Kemendagri place hierarchy (kode wilayah), from the data set shipped in
``slrt/data/wilayah`` (MIT licence, see its LICENSE): province (2 digits) → regency/city (4) →
sub-district (6) → village (10). Codes are stored without dots."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "wilayah" / "wilayah.csv"


class Level(StrEnum):
    PROVINCE = "province"
    REGENCY = "regency"
    SUB_DISTRICT = "sub_district"
    VILLAGE = "village"


_LEVELS = {2: Level.PROVINCE, 4: Level.REGENCY, 6: Level.SUB_DISTRICT, 10: Level.VILLAGE}
_PARENT_LENGTH = {4: 2, 6: 4, 10: 6}


@dataclass(frozen=True)
class Place:
    code: str
    name: str

    @property
    def level(self) -> Level:
        return _LEVELS[len(self.code)]

    @property
    def parent_code(self) -> str | None:
        length = _PARENT_LENGTH.get(len(self.code))
        return self.code[:length] if length else None


def normalise_code(code: str) -> str:
    """``32.04.05.2001`` → ``3204052001``; raises ``ValueError`` if it is not a place code."""
    plain = code.replace(".", "").strip()
    if not re.fullmatch(r"\d{2}|\d{4}|\d{6}|\d{10}", plain):
        raise ValueError("a place code has 2, 4, 6 or 10 digits (dots allowed)")
    return plain


class PlaceDirectory:
    def __init__(self, places: dict[str, Place]) -> None:
        self._places = places

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> PlaceDirectory:
        with path.open(newline="", encoding="utf-8") as f:
            return cls({row["code"]: Place(row["code"], row["name"]) for row in csv.DictReader(f)})

    def __len__(self) -> int:
        return len(self._places)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._places.values())

    def get(self, code: str) -> Place | None:
        return self._places.get(code)

    def is_village(self, code: str) -> bool:
        place = self._places.get(code)
        return place is not None and place.level is Level.VILLAGE

    def children(self, code: str) -> list[Place]:
        length = {2: 4, 4: 6, 6: 10}.get(len(code))
        if length is None:
            return []
        return [p for c, p in self._places.items() if len(c) == length and c.startswith(code)]

    def lineage(self, code: str) -> list[Place]:
        """The place and its parents, from the province down."""
        found = []
        current: str | None = code
        while current:
            place = self._places.get(current)
            if place is None:
                break
            found.append(place)
            current = place.parent_code
        return list(reversed(found))


@cache
def directory() -> PlaceDirectory:
    """The shipped directory, loaded once per process (about 91,600 places)."""
    return PlaceDirectory.load()
